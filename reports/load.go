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
