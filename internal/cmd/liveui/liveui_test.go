package liveui

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gameday.dev/gameday/live"
	"gameday.dev/gameday/scenarios/engine"
	"gameday.dev/gameday/scenarios/timeline"
)

// Start prints one link per role, each signing in as its role; the page
// shows what a replay command wrote: the comparison when there is one, else
// its last run's report.
func TestStartLinksAndDebrief(t *testing.T) {
	var out, errOut bytes.Buffer
	p, err := Start(context.Background(), "", live.Info{Scenario: "x"}, timeline.Meta{}, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if errOut.Len() != 0 {
		t.Errorf("a warning for loopback: %q", errOut.String())
	}
	links := regexp.MustCompile(`(?m)^\s+(\w+)\s+(http://127\.0\.0\.1:\d+/)#([0-9a-f]+)$`).FindAllStringSubmatch(out.String(), -1)
	if len(links) != 3 {
		t.Fatalf("links:\n%s", out.String())
	}
	for _, l := range links {
		req, _ := http.NewRequest(http.MethodGet, l[2]+"api/me", nil)
		req.Header.Set("Authorization", "Bearer "+l[3])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var me struct{ Role string }
		_ = json.NewDecoder(resp.Body).Decode(&me)
		resp.Body.Close()
		if me.Role != l[1] {
			t.Errorf("the %s link signs in as %q", l[1], me.Role)
		}
	}
	debrief := func() string {
		req, _ := http.NewRequest(http.MethodGet, links[0][2]+"debrief", nil)
		req.Header.Set("Authorization", "Bearer "+links[0][3])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	dir := t.TempDir()
	for _, topo := range []string{"shared", "separate"} {
		os.MkdirAll(filepath.Join(dir, topo), 0o755)
		os.WriteFile(filepath.Join(dir, topo, "report.html"), []byte("report of "+topo), 0o644)
	}
	results := []*engine.Result{{Topology: "shared", Timeline: filepath.Join(dir, "shared", "timeline.jsonl")}, {Topology: "separate", Timeline: filepath.Join(dir, "separate", "timeline.jsonl")}}
	if err := p.DebriefOf(dir, results); err != nil || debrief() != "report of separate" {
		t.Errorf("without a comparison: %v %q", err, debrief())
	}
	os.WriteFile(filepath.Join(dir, "compare.html"), []byte("the comparison"), 0o644)
	if err := p.DebriefOf(dir, results); err != nil || debrief() != "the comparison" {
		t.Errorf("with a comparison: %v %q", err, debrief())
	}
	// One topology run again into the same folder: its report, not the
	// comparison an earlier command left there.
	if err := p.DebriefOf(dir, results[1:]); err != nil || debrief() != "report of separate" {
		t.Errorf("one topology with an old comparison in OUT: %v %q", err, debrief())
	}
	if strings.Contains(errOut.String()+out.String(), "debrief") {
		t.Error("nothing else is printed")
	}
}

func TestStartRefusesABadAddress(t *testing.T) {
	if _, err := Start(context.Background(), "256.0.0.1:80", live.Info{}, timeline.Meta{}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Fatal("a bad address was accepted")
	}
}
