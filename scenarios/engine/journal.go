package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"gameday.dev/gameday/internal/jsonl"
	"gameday.dev/gameday/scenarios/steps"
	"gameday.dev/gameday/scenarios/timeline"
)

// JournalFile is the recovery journal's name in the cluster's state folder.
const JournalFile = "journal.jsonl"

// Journal is the run's write-ahead record of changes: each record is on disk
// (fsync'd) before the change it describes is made, so that `gameday
// recover` can put the cluster back after a crash or a kill -9.
type Journal struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	recs     []steps.Record
	keys     map[string]bool
	timeline *timeline.Writer
	// mirror, on a cluster gameday did not create, keeps a copy of every
	// record in the cluster, written before the change too: recover works
	// from another machine.
	mirror Mirror
}

// Mirror keeps a copy of the journal elsewhere (kubeconfig.Mirror).
type Mirror interface {
	Append(ctx context.Context, line []byte) error
	Read(ctx context.Context) (string, error)
	Remove(ctx context.Context) error
}

// mirrorTimeout bounds each write of the journal's copy.
const mirrorTimeout = 30 * time.Second

// MirrorTo copies every record added from now on (and every one there
// already, once) to m.
func (j *Journal) MirrorTo(m Mirror) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.mirror = m
	ctx, cancel := context.WithTimeout(context.Background(), mirrorTimeout)
	defer cancel()
	have, err := m.Read(ctx)
	if err != nil {
		return err
	}
	for _, r := range j.recs {
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if !strings.Contains(have, string(data)) {
			if err := m.Append(ctx, data); err != nil {
				return err
			}
		}
	}
	return nil
}

var _ steps.Journal = (*Journal)(nil)

// OpenJournal opens the journal at path for appending, keeping the records
// already in it (a run never starts over an unrecovered journal; recover
// continues one).
func OpenJournal(path string, tl *timeline.Writer) (*Journal, error) {
	recs, err := ReadJournal(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	j := &Journal{path: path, f: f, keys: map[string]bool{}, timeline: tl}
	for _, r := range recs {
		j.recs = append(j.recs, r)
		j.keys[r.Key()] = true
	}
	return j, nil
}

// Add implements steps.Journal.
func (j *Journal) Add(r steps.Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.keys[r.Key()] {
		return nil
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if j.mirror != nil {
		ctx, cancel := context.WithTimeout(context.Background(), mirrorTimeout)
		err := j.mirror.Append(ctx, data)
		cancel()
		if err != nil {
			return fmt.Errorf("journal %s: its copy in the cluster: %w", j.path, err)
		}
	}
	j.keys[r.Key()] = true
	j.recs = append(j.recs, r)
	if j.timeline != nil {
		j.timeline.Write(timeline.Entry{Kind: timeline.KindRecord, Step: r.Step, Action: string(r.Action), RecordKind: string(r.Kind), Name: r.Target, Value: r.Value})
	}
	return nil
}

// Records returns the records in the order they were added.
func (j *Journal) Records() []steps.Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]steps.Record(nil), j.recs...)
}

// Close closes the file, keeping it.
func (j *Journal) Close() error { return j.f.Close() }

// Remove closes and deletes the journal (and its copy in the cluster):
// everything in it was recovered.
func (j *Journal) Remove() error {
	j.f.Close()
	if j.mirror != nil {
		ctx, cancel := context.WithTimeout(context.Background(), mirrorTimeout)
		defer cancel()
		if err := j.mirror.Remove(ctx); err != nil {
			return fmt.Errorf("the journal's copy in the cluster: %w", err)
		}
	}
	if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ReadJournal reads the records of a journal file. A torn last line (a
// crash mid-write) is ignored: its change was never made, since a record is
// on disk before its change. Any other line that does not decode is an
// error: skipping it would leave a change nobody puts back.
func ReadJournal(path string) ([]steps.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []steps.Record
	// A torn last line is left out: its change was never made.
	if _, err := jsonl.Read(f, func(line []byte) error {
		var r steps.Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("journal %s is damaged, not only torn at its end (%w): recovery stops rather than skip a change; "+
			"look at that line, put back by hand what it recorded, remove it and run `gameday recover` again", path, err)
	}
	return out, nil
}
