package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// RepeatSchema versions Repeat's JSON.
const RepeatSchema = "gameday.dev/repeat/v1"

// RepeatFile sums up a topology's repeated runs (`gameday run --repeat N`),
// in its folder next to the runs' folders (run-1, run-2, ...).
const RepeatFile = "repeat.json"

// Repeat is a topology's runs of one scenario, each scored, and the one that
// stands for them all: the median run. One run can be lucky or unlucky (a
// node declared lost a few seconds later); the median of a few is what a
// gate can trust.
type Repeat struct {
	Schema         string      `json:"schema"`
	Scenario       string      `json:"scenario"`
	ScenarioDigest string      `json:"scenario_digest,omitempty"`
	Topology       string      `json:"topology"`
	ScoringVersion int         `json:"scoring_version"`
	Runs           []RepeatRun `json:"runs"`
	// MedianRun is the folder of the run whose score is the median.
	MedianRun string  `json:"median_run"`
	Median    float64 `json:"median"`
	Min       float64 `json:"min"`
	Max       float64 `json:"max"`
}

// RepeatRun is one run: its folder, relative to the topology's, and score.
type RepeatRun struct {
	Dir   string  `json:"dir"`
	Score float64 `json:"score"`
}

// MedianIndex is the index of the median score: the middle one once sorted,
// the lower of the two middle ones for an even count, so that the median is
// always a run that happened (a report to read and to gate), never an
// average of two. Equal scores keep their run order. -1 for none.
func MedianIndex(scores []float64) int {
	if len(scores) == 0 {
		return -1
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case scores[a] < scores[b]:
			return -1
		case scores[a] > scores[b]:
			return 1
		}
		return 0
	})
	return idx[(len(idx)-1)/2]
}

// NewRepeat sums up runs (their folders' names and reports, in run order)
// and returns the median run's index in them.
func NewRepeat(dirs []string, rs []*Report) (Repeat, int) {
	rp := Repeat{Schema: RepeatSchema, ScoringVersion: ScoringVersion}
	scores := make([]float64, len(rs))
	for i, r := range rs {
		scores[i] = r.Score
		rp.Runs = append(rp.Runs, RepeatRun{Dir: dirs[i], Score: r.Score})
	}
	m := MedianIndex(scores)
	if m < 0 {
		return rp, m
	}
	rp.Scenario, rp.ScenarioDigest, rp.Topology = rs[m].Scenario, rs[m].ScenarioDigest, rs[m].Topology
	rp.MedianRun, rp.Median = dirs[m], scores[m]
	rp.Min, rp.Max = slices.Min(scores), slices.Max(scores)
	return rp, m
}

// WriteRepeat writes rp as dir/repeat.json.
func WriteRepeat(dir string, rp Repeat) error {
	b, err := json.MarshalIndent(rp, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, RepeatFile), append(b, '\n'), 0o644)
}

// ReadRepeat reads dir/repeat.json.
func ReadRepeat(dir string) (Repeat, error) {
	var rp Repeat
	path := filepath.Join(dir, RepeatFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return rp, err
	}
	if err := json.Unmarshal(b, &rp); err != nil {
		return rp, fmt.Errorf("%s: %w", path, err)
	}
	if rp.Schema != RepeatSchema {
		return rp, fmt.Errorf("%s: schema %q, this gameday reads %q", path, rp.Schema, RepeatSchema)
	}
	if len(rp.Runs) == 0 {
		return rp, fmt.Errorf("%s lists no run", path)
	}
	for _, run := range append(rp.Runs, RepeatRun{Dir: rp.MedianRun}) {
		if !filepath.IsLocal(run.Dir) || filepath.Clean(run.Dir) == "." { // a run's folder is one of dir's own
			return rp, fmt.Errorf("%s: run folder %q is not a folder in %s", path, run.Dir, dir)
		}
	}
	return rp, nil
}
