package cluster

import (
	"strings"
	"testing"
)

func TestDoctorHintPerPlatform(t *testing.T) {
	has := func(want bool) func(string) bool { return func(string) bool { return want } }
	for _, c := range []struct {
		goos string
		apt  bool
		want string
	}{
		{"darwin", false, "Docker Desktop"},
		{"linux", false, "your distribution's packages"},
		{"linux", true, "hack/setup-docker.sh"},
	} {
		if got := hintFor(c.goos, has(c.apt)); !strings.Contains(got, c.want) {
			t.Errorf("%s (apt-get %v): %q lacks %q", c.goos, c.apt, got, c.want)
		}
	}
}
