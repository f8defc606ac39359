package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Holder says who holds a cluster's lock: written into the lock file by the
// process that took it, read by one that could not.
type Holder struct {
	Command string    `json:"command"`
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
}

// LockedError: another gameday process holds the cluster.
type LockedError struct {
	Cluster string
	Holder  Holder // zero when the holder had not yet written who it is
}

// ErrLocked matches a LockedError with errors.Is.
var ErrLocked = errors.New("cluster is in use")

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

func (e *LockedError) Error() string {
	if e.Holder.PID == 0 {
		return fmt.Sprintf("cluster %q is in use by another gameday command: wait for it to finish, or stop it (Ctrl-C in its terminal puts back what it changed)", e.Cluster)
	}
	return fmt.Sprintf("cluster %q is in use by `%s` (pid %d, since %s, %s ago): wait for it to finish, or stop it (Ctrl-C in its terminal, or kill %d, puts back what it changed)",
		e.Cluster, e.Holder.Command, e.Holder.PID, e.Holder.Since.Local().Format("15:04:05"),
		time.Since(e.Holder.Since).Round(time.Second), e.Holder.PID)
}

// Lock is one process's hold on one cluster: an OS file lock (flock), so the
// kernel releases it when the process ends, however it ends. Hold it for as
// long as the command changes the cluster.
type Lock struct {
	f *os.File
}

// LockPath is where cluster name's lock file is kept. Lock files live apart
// from the cluster's folder, which `cluster down` removes, and are never
// deleted: removing a file another process holds, or is about to lock, would
// let two processes each hold "the" lock.
func (s *Store) LockPath(name string) string {
	return filepath.Join(s.Dir, "locks", name+".lock")
}

// Lock takes cluster name's lock for command (as the user typed it) without
// waiting: a cluster another process holds is a *LockedError naming it.
func (s *Store) Lock(name, command string) (*Lock, error) {
	if err := ValidateName(name); err != nil { // a name is a file name here: no "../"
		return nil, err
	}
	path := s.LockPath(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			le := &LockedError{Cluster: name}
			if b, rerr := os.ReadFile(path); rerr == nil {
				_ = json.Unmarshal(b, &le.Holder)
			}
			return nil, le
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	h := Holder{Command: command, PID: os.Getpid(), Since: time.Now()}
	b, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(b, '\n'), 0)
	}
	return &Lock{f: f}, nil
}

// Close lets the cluster go (closing the file releases the flock). The
// file keeps the last holder's details; they are read only while it is held.
func (l *Lock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
