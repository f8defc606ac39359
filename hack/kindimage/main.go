// Command kindimage prints kind's default node image, the one gameday uses
// when it can be pulled.
package main

import (
	"fmt"

	"sigs.k8s.io/kind/pkg/apis/config/defaults"
)

func main() { fmt.Println(defaults.Image) }
