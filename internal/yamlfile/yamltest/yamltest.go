// Package yamltest checks loaders against invalid files that say which
// error they expect on their first line.
package yamltest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gameday.dev/gameday/internal/yamlfile"
)

// CheckInvalid loads every file matching glob (at least min of them) and
// expects an error as the file's first line says: "# want: LINE FIELD: MSG"
// (LINE 0: the file as a whole), reported as file:line: field: message. A
// file with no want line must be reported empty.
func CheckInvalid(t *testing.T, glob string, min int, load func(path string) error) {
	t.Helper()
	files, _ := filepath.Glob(glob)
	if len(files) < min {
		t.Fatalf("found %d files matching %s, want at least %d", len(files), glob, min)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("%s: file is empty", f)
			if first, _, _ := strings.Cut(string(data), "\n"); strings.HasPrefix(first, "# want: ") {
				lineStr, rest, _ := strings.Cut(strings.TrimPrefix(first, "# want: "), " ")
				line, err := strconv.Atoi(lineStr)
				if err != nil {
					t.Fatalf("bad want line %q", first)
				}
				want = fmt.Sprintf("%s:%d: %s", f, line, strings.TrimPrefix(rest, ": "))
				if line == 0 {
					want = fmt.Sprintf("%s: %s", f, rest)
				}
			}
			err = load(f)
			if err == nil {
				t.Fatalf("loading succeeded, want an error starting with %q", want)
			}
			var yerrs yamlfile.Errors
			if !errors.As(err, &yerrs) {
				t.Fatalf("error is a %T, want yamlfile.Errors: %v", err, err)
			}
			for _, e := range yerrs {
				if strings.HasPrefix(e.Error(), want) {
					return
				}
			}
			t.Fatalf("errors:\n%v\nnone starts with:\n%s", err, want)
		})
	}
}
