package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"gameday.dev/gameday/scenarios/timeline"
)

// File names in a run's topology folder.
const (
	TimelineFile = "timeline.jsonl"
	JSONFile     = "report.json"
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
	JUnitFile    = "junit.xml"

	CompareMarkdownFile = "compare.md"
	CompareHTMLFile     = "compare.html"
)

// FromRun builds the report of the run whose timeline and run.json are in dir.
func FromRun(dir string) (*Report, error) {
	m, err := timeline.ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, TimelineFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	es, err := timeline.Read(f)
	var torn *timeline.TornError
	if err != nil && !errors.As(err, &torn) {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	r, err := Build(m, es)
	if err != nil {
		return nil, err
	}
	if torn != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("The timeline's %s; the report is built from the %d entries before it.", torn.Error(), len(es)))
	}
	return r, nil
}

// Load reads a report: a report.json file, or a run's topology folder (its
// report.json if there is one, else rebuilt from its timeline; for repeated
// runs, the median run's).
func Load(path string) (*Report, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		if has(path, RepeatFile) { // repeated runs: the median one stands for them
			rp, err := ReadRepeat(path)
			if err != nil {
				return nil, err
			}
			return Load(filepath.Join(path, rp.MedianRun))
		}
		if _, err := os.Stat(filepath.Join(path, JSONFile)); errors.Is(err, fs.ErrNotExist) {
			return FromRun(path)
		}
		path = filepath.Join(path, JSONFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a gameday report: %w", path, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("%s: report schema %q, this gameday reads %q", path, r.Schema, Schema)
	}
	return &r, nil
}

// LoadRun reads every report a path names: a report.json, one topology's
// folder, or a run's folder holding topology folders (in name order).
func LoadRun(path string) ([]*Report, error) { return loadEach(path, Load) }

// LoadBaseline reads the reports a path names, as LoadRun, for a gate: every
// score is today's code's. A folder holding its timeline and run.json is
// scored again from them, whatever its report.json says (it may be of
// another version of the score); repeated runs give their median run, each
// run scored again; a report.json alone must be of this ScoringVersion, else
// the error says to pass the run's folder instead.
func LoadBaseline(path string) ([]*Report, error) { return loadEach(path, loadScored) }

func loadScored(path string) (*Report, error) {
	switch {
	case has(path, RepeatFile):
		return loadScoredRepeat(path)
	case has(path, TimelineFile) && has(path, timeline.MetaFile):
		return FromRun(path)
	}
	r, err := Load(path)
	if err != nil {
		return nil, err
	}
	if r.ScoringVersion != ScoringVersion {
		by := "an older gameday (no scoring version)"
		if r.ScoringVersion != 0 {
			by = fmt.Sprintf("scoring version %d", r.ScoringVersion)
		}
		return nil, fmt.Errorf("%s was scored by %s, not this gameday's version %d, and holds no timeline to score again: pass the run's folder, which holds its timeline, instead",
			path, by, ScoringVersion)
	}
	return r, nil
}

// loadScoredRepeat scores each of a topology's repeated runs again and
// returns the median one: today's median may be another run than the one
// repeat.json names.
func loadScoredRepeat(dir string) (*Report, error) {
	rp, err := ReadRepeat(dir)
	if err != nil {
		return nil, err
	}
	var dirs []string
	var rs []*Report
	for _, run := range rp.Runs {
		r, err := loadScored(filepath.Join(dir, run.Dir))
		if err != nil {
			return nil, err
		}
		dirs, rs = append(dirs, run.Dir), append(rs, r)
	}
	_, m := NewRepeat(dirs, rs)
	return rs[m], nil
}

// loadEach reads with load what path names: itself, or each topology folder
// in a run's folder.
func loadEach(path string, load func(string) (*Report, error)) ([]*Report, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no run at %s: %w", path, err)
	}
	if !IsRunFolder(path) {
		r, err := load(path)
		if err != nil {
			return nil, err
		}
		return []*Report{r}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var out []*Report
	for _, e := range entries {
		if dir := filepath.Join(path, e.Name()); e.IsDir() && isTopologyDir(dir) {
			r, err := load(dir)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no run: no report.json, timeline.jsonl or repeat.json in it or in its folders", path)
	}
	return out, nil
}

// IsRunFolder reports whether path is a run's folder (topology folders in
// it), not a report.json or one topology's folder.
func IsRunFolder(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir() && !isTopologyDir(path)
}

// isTopologyDir: a folder holding a report, a timeline or repeated runs.
func isTopologyDir(dir string) bool {
	for _, f := range []string{JSONFile, TimelineFile, RepeatFile} {
		if has(dir, f) {
			return true
		}
	}
	return false
}

// has reports whether dir is a folder holding file (any error but "not
// there" counts as there, so that reading it says what is wrong).
func has(dir, file string) bool {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, file))
	return !errors.Is(err, fs.ErrNotExist)
}
