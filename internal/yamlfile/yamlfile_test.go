package yamlfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A path that is not a readable file of at most MaxFileSize bytes is bad
// input: an *Error naming the path, never a read of a device or a huge file.
func TestReadFileRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	limit := filepath.Join(dir, "limit.yaml")
	if err := os.WriteFile(limit, make([]byte, MaxFileSize), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		dir:                             "is a directory",
		big:                             "1048577 bytes",
		"/dev/zero":                     "not a regular file",
		filepath.Join(dir, "nope.yaml"): "no such file",
	}
	if os.Geteuid() != 0 { // root reads anything
		locked := filepath.Join(dir, "locked.yaml")
		if err := os.WriteFile(locked, []byte("a: 1\n"), 0o000); err != nil {
			t.Fatal(err)
		}
		cases[locked] = "permission denied"
	}
	for path, want := range cases {
		_, err := ReadFile(path)
		var ye *Error
		if !errors.As(err, &ye) || ye.File != path || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadFile(%s) = %v, want an *Error saying %q", path, err, want)
		}
	}
	if data, err := ReadFile(limit); err != nil || len(data) != MaxFileSize {
		t.Errorf("a file at the limit: %d bytes, %v", len(data), err)
	}
}

func TestCheckNumbers(t *testing.T) {
	type inner struct {
		Ratio *float64 `yaml:"ratio"`
	}
	type file struct {
		Scale  float64          `yaml:"storyScale,omitempty"`
		Items  []inner          `yaml:"items"`
		Counts map[string]int32 `yaml:"counts"`
	}
	nan, fine := 0.0, 0.5
	nan = nan / nan
	f := &file{Scale: 1, Items: []inner{{Ratio: &fine}, {Ratio: &nan}}, Counts: map[string]int32{"api": 2_000_000}}
	errs := CheckNumbers(f)
	var got []string
	for _, e := range errs {
		got = append(got, e.Field)
	}
	if strings.Join(got, " ") != "items[1].ratio counts[api]" {
		t.Errorf("fields = %v, want items[1].ratio and counts[api]", got)
	}
}
