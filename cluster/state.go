package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Record is what gameday remembers of a cluster it created. Its presence is
// how gameday knows a kind cluster is its own: it never deletes or breaks a
// cluster it has no record of.
type Record struct {
	Name       string   `json:"name"`
	Backend    string   `json:"backend"`
	Topology   Topology `json:"topology"`
	Image      string   `json:"image"`
	Kubeconfig string   `json:"kubeconfig"`
	// MergedKubeconfig: the cluster's context was also added to the user's
	// default kubeconfig (--merge-kubeconfig), so deleting it removes it there too.
	MergedKubeconfig bool          `json:"mergedKubeconfig,omitempty"`
	Network          string        `json:"network"`
	Ports            []PortMapping `json:"ports"`
	Timings          Timings       `json:"timings"`
	CreatedAt        time.Time     `json:"createdAt"`
}

// Store keeps records in a folder gameday owns, one folder per cluster
// holding cluster.json and the cluster's kubeconfig.
type Store struct {
	Dir string
}

// DefaultStore is $GAMEDAY_HOME, else $XDG_STATE_HOME/gameday, else ~/.local/state/gameday.
func DefaultStore() (*Store, error) {
	if d := os.Getenv("GAMEDAY_HOME"); d != "" {
		return &Store{Dir: d}, nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return &Store{Dir: filepath.Join(d, "gameday")}, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, fmt.Errorf("cannot find a folder for gameday's state: set GAMEDAY_HOME: %w", err)
	}
	return &Store{Dir: filepath.Join(home, ".local", "state", "gameday")}, nil
}

// ClusterDir is the folder of one cluster's files.
func (s *Store) ClusterDir(name string) string {
	return filepath.Join(s.Dir, "clusters", name)
}

// KubeconfigPath is where the cluster's kubeconfig is written.
func (s *Store) KubeconfigPath(name string) string {
	return filepath.Join(s.ClusterDir(name), "kubeconfig")
}

// ErrNoRecord means gameday did not create (or no longer knows) the cluster.
var ErrNoRecord = errors.New("no gameday record")

// Get reads a cluster's record.
func (s *Store) Get(name string) (*Record, error) {
	b, err := os.ReadFile(filepath.Join(s.ClusterDir(name), "cluster.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w of cluster %q", ErrNoRecord, name)
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("record of cluster %q is damaged (%s): %w", name, s.ClusterDir(name), err)
	}
	return &r, nil
}

// Put writes a cluster's record atomically.
func (s *Store) Put(r *Record) error {
	dir := s.ClusterDir(r.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "cluster.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "cluster.json"))
}

// Remove deletes a cluster's folder (record and kubeconfig).
func (s *Store) Remove(name string) error {
	return os.RemoveAll(s.ClusterDir(name))
}

// List returns every record, sorted by name.
func (s *Store) List() ([]*Record, error) {
	entries, err := os.ReadDir(filepath.Join(s.Dir, "clusters"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Record
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		r, err := s.Get(e.Name())
		if errors.Is(err, ErrNoRecord) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
