// Command gameday rehearses real incidents on a local Kubernetes cluster.
package main

import "gameday.dev/gameday/cmd/gameday/app"

func main() {
	app.Main()
}
