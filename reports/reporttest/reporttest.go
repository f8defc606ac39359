// Package reporttest gives tests the runs recorded on kind that reports'
// own tests use (reports/testdata/runs): cascading-outage on shared and on
// separate, each a run.json and a gzipped timeline.
package reporttest

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RecordedRun writes the recorded run of topology into dir/<topology>/ as
// `gameday run` leaves it (run.json, timeline.jsonl) and returns that folder.
func RecordedRun(t testing.TB, dir, topology string) string {
	t.Helper()
	return RecordedRunAt(t, filepath.Join(dir, topology), topology)
}

// RecordedRunAt writes the recorded run of topology into dst itself (for
// example a repeated run's folder, OUT/<topology>/run-2) and returns dst.
func RecordedRunAt(t testing.TB, dst, topology string) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(self), "..", "testdata", "runs", topology)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(src, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "run.json"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(filepath.Join(src, "timeline.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dst, "timeline.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	return dst
}
