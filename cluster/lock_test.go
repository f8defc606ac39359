package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

var helperLock *Lock

// A helper process for TestLockReleasedWhenHolderKilled: it takes the lock,
// says so, and waits to be killed.
func init() {
	dir, name := os.Getenv("GAMEDAY_LOCK_HELPER_DIR"), os.Getenv("GAMEDAY_LOCK_HELPER_NAME")
	if dir == "" {
		return
	}
	l, err := (&Store{Dir: dir}).Lock(name, "gameday run helper")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	helperLock = l // referenced, so that no finalizer closes it
	fmt.Println("locked")
	time.Sleep(time.Hour)
	os.Exit(0)
}

func TestLockHeldNamesItsHolder(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	l, err := s.Lock("lk-shared", "gameday run cascading-outage --name lk")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = s.Lock("lk-shared", "gameday recover --name lk-shared")
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: got %v, want a LockedError", err)
	}
	if le.Holder.PID != os.Getpid() || le.Holder.Command != "gameday run cascading-outage --name lk" || time.Since(le.Holder.Since) > time.Minute {
		t.Errorf("holder = %+v", le.Holder)
	}
	for _, want := range []string{`cluster "lk-shared"`, "gameday run cascading-outage --name lk", fmt.Sprintf("pid %d", os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	// A name is a file name here: never a path out of the locks folder.
	for _, bad := range []string{"../../x", "a/b", ""} {
		if _, err := s.Lock(bad, "gameday recover"); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Lock(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
	// Another cluster is another lock.
	other, err := s.Lock("lk-separate", "gameday recover --name lk-separate")
	if err != nil {
		t.Fatalf("another cluster: %v", err)
	}
	other.Close()
}

func TestLockReleasedOnRelease(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	l, err := s.Lock("c", "one")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil { // twice is harmless
		t.Fatal(err)
	}
	l2, err := s.Lock("c", "two")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Close()
}

func TestLockReleasedWhenHolderKilled(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GAMEDAY_LOCK_HELPER_DIR="+dir, "GAMEDAY_LOCK_HELPER_NAME=c")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper said %q", line)
	}
	s := &Store{Dir: dir}
	_, err = s.Lock("c", "gameday recover")
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.PID != cmd.Process.Pid || le.Holder.Command != "gameday run helper" {
		t.Fatalf("while the helper holds it: %v (holder %+v)", err, le)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no chance to clean up
		t.Fatal(err)
	}
	_ = cmd.Wait()
	l, err := s.Lock("c", "gameday recover")
	if err != nil {
		t.Fatalf("after kill -9 of the holder: %v", err)
	}
	l.Close()
}
