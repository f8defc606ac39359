package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gameday.dev/gameday/scenarios/timeline"
)

// A run killed while writing its timeline leaves a torn last line: the run is
// still scored from everything before it, and the report says so.
func TestFromRunTornTimeline(t *testing.T) {
	m, es := recorded(t, "shared")
	dir := t.TempDir()
	if err := timeline.WriteMeta(dir, m); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, e := range es {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	whole := buf.Len()
	buf.WriteString(`{"time":"2026-11-30T10:00:00Z","kind":"pro`)
	if err := os.WriteFile(filepath.Join(dir, TimelineFile), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := FromRun(dir)
	if err != nil {
		t.Fatalf("a torn last line fails the report: %v", err)
	}
	want, err := Build(m, es)
	if err != nil {
		t.Fatal(err)
	}
	if r.Score != want.Score {
		t.Errorf("score %.1f, want %.1f as without the torn line", r.Score, want.Score)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "torn") {
		t.Errorf("warnings = %q, want one naming the torn line", r.Warnings)
	}
	var text bytes.Buffer
	if err := WriteText(&text, r); err != nil || !strings.Contains(text.String(), "warning: The timeline's line") {
		t.Errorf("the text report does not say so: %v\n%s", err, text.String())
	}

	// A damaged line with entries after it is not a torn tail: an error.
	b := buf.Bytes()[:whole]
	damaged := append(append([]byte(`{"kind":`+"\n"), b...), '\n')
	if err := os.WriteFile(filepath.Join(dir, TimelineFile), damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := FromRun(dir); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a damaged first line: got %v, want an error naming line 1", err)
	}
}
