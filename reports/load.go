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
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return Build(m, es)
}

// Load reads a report: a report.json file, or a run's topology folder (its
// report.json if there is one, else rebuilt from its timeline).
func Load(path string) (*Report, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
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
func LoadRun(path string) ([]*Report, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no run at %s: %w", path, err)
	}
	if !IsRunFolder(path) {
		r, err := Load(path)
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
			r, err := Load(dir)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no run: no report.json or timeline.jsonl in it or in its folders", path)
	}
	return out, nil
}

// IsRunFolder reports whether path is a run's folder (topology folders in
// it), not a report.json or one topology's folder.
func IsRunFolder(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir() && !isTopologyDir(path)
}

// isTopologyDir: a folder holding a report or a timeline.
func isTopologyDir(dir string) bool {
	for _, f := range []string{JSONFile, TimelineFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}
