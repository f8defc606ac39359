package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/steps"
	"gameday.dev/gameday/scenarios/timeline"
)

func TestJournalKeepsFirstRecordPerTargetAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	tlPath := filepath.Join(t.TempDir(), "timeline.jsonl")
	tl, err := timeline.Create(tlPath)
	if err != nil {
		t.Fatal(err)
	}
	j, err := OpenJournal(path, tl)
	if err != nil {
		t.Fatal(err)
	}
	first := steps.Record{Step: "bad-release", Action: scenarios.ActionRelease, Kind: steps.KindRelease, Target: "workers", Value: "v1"}
	for _, r := range []steps.Record{
		first,
		{Step: "rollback", Action: scenarios.ActionRollback, Kind: steps.KindRelease, Target: "workers", Value: "v2"},
		{Step: "outage", Action: scenarios.ActionPoolOutage, Kind: steps.KindContainer, Target: "node-1"},
	} {
		if err := j.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	// A crash mid-write leaves a torn last line: its change was never made.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"step":"torn","kind":"conta`)
	f.Close()

	recs, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0] != first {
		t.Fatalf("records = %+v, want the release's first record (v1) and the node", recs)
	}
	j2, err := OpenJournal(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := j2.Add(steps.Record{Kind: steps.KindRelease, Target: "workers", Value: "v2"}); err != nil {
		t.Fatal(err)
	}
	if got := j2.Records(); len(got) != 2 {
		t.Fatalf("a reopened journal forgot its keys: %+v", got)
	}
	if err := j2.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("Remove left the journal")
	}
	tl.Close()
	data, _ := os.Open(tlPath)
	es, err := timeline.Read(data)
	if err != nil || len(es) != 2 || es[0].Kind != timeline.KindRecord || es[0].Value != "v1" {
		t.Fatalf("timeline = %+v, %v: want the two records kept", es, err)
	}
}

// A damaged line that is not the last is not a torn write: a change after it
// was made, so recovery must stop and say where, not skip it.
func TestJournalDamagedLineStopsRecovery(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	content := `{"step":"bad-release","action":"release","kind":"release","target":"workers","value":"v1"}` + "\n" +
		`{"step":"outage","kind":"conta` + "\n" +
		`{"step":"upgrade","action":"control-plane-upgrade","kind":"control-plane","target":"control-plane"}` + "\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadJournal(path)
	if err == nil || !strings.Contains(err.Error(), "is damaged, not only torn at its end (line 2:") {
		t.Fatalf("ReadJournal: %v, want an error naming line 2", err)
	}
	if _, err := OpenJournal(path, nil); err == nil {
		t.Fatal("OpenJournal accepted a damaged journal: recover would skip a change")
	}
}

func TestTrackerHoldsFor(t *testing.T) {
	c := scenarios.Condition{Type: scenarios.CondCrashLooping, For: 10 * time.Second}
	var tr tracker
	t0 := time.Now()
	for _, step := range []struct {
		at    time.Duration
		holds bool
		want  bool
	}{
		{0, true, false},
		{5 * time.Second, true, false},
		{6 * time.Second, false, false}, // a break starts the count again
		{7 * time.Second, true, false},
		{16 * time.Second, true, false},
		{17 * time.Second, true, true},
	} {
		if got := tr.update(t0.Add(step.at), step.holds, c); got != step.want {
			t.Fatalf("at %s holds=%v: %v, want %v", step.at, step.holds, got, step.want)
		}
	}
}

// A failed recovery points at `gameday recover` only while the journal that
// recover needs is there.
func TestRecoveryFailedNeverPointsAtAGoneJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cause := errors.New("node x is not Ready")
	if err := recoveryFailed(path, "lk-shared", cause); !strings.Contains(err.Error(), "finish it with `gameday recover --name lk-shared`") || !errors.Is(err, cause) {
		t.Errorf("with the journal: %v", err)
	}
	os.Remove(path)
	err := recoveryFailed(path, "lk-shared", cause)
	if strings.Contains(err.Error(), "finish it with") || !strings.Contains(err.Error(), "gameday cluster down --name lk-shared") || !errors.Is(err, cause) {
		t.Errorf("without the journal: %v", err)
	}
}
