package play

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Lines as kube-apiserver v1.37 writes them under AuditPolicy (trimmed).
const (
	aliceUndo = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"1","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/gameday/deployments/workers","verb":"patch","user":{"username":"alice","groups":["gameday:players","system:authenticated"]},"objectRef":{"resource":"deployments","namespace":"gameday","name":"workers","apiGroup":"apps","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestObject":{"spec":{"template":{"metadata":{"annotations":{"gameday.dev/release":"v1"}}}}},"requestReceivedTimestamp":"2026-12-02T09:00:01.000000Z","stageTimestamp":"2026-12-02T09:00:01.250000Z"}`
	bobLogs   = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"2","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/gameday/pods/workers-1/log","verb":"get","user":{"username":"bob","groups":["gameday:players","system:authenticated"]},"objectRef":{"resource":"pods","namespace":"gameday","name":"workers-1","apiVersion":"v1","subresource":"log"},"responseStatus":{"metadata":{},"code":200},"stageTimestamp":"2026-12-02T09:00:02Z"}`
	bobDenied = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"3","stage":"ResponseComplete","verb":"delete","user":{"username":"bob","groups":["gameday:players"]},"objectRef":{"resource":"nodes","name":"gd-control-plane","apiVersion":"v1"},"responseStatus":{"metadata":{},"status":"Failure","reason":"Forbidden","code":403},"stageTimestamp":"2026-12-02T09:00:03Z"}`
	admin     = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"4","stage":"ResponseComplete","verb":"list","user":{"username":"kubernetes-admin","groups":["kubeadm:cluster-admins","system:authenticated"]},"objectRef":{"resource":"nodes"},"responseStatus":{"code":200},"stageTimestamp":"2026-12-02T09:00:04Z"}`
	started   = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"5","stage":"ResponseStarted","verb":"watch","user":{"username":"alice","groups":["gameday:players"]},"objectRef":{"resource":"pods"},"responseStatus":{"code":200},"stageTimestamp":"2026-12-02T09:00:05Z"}`
)

func TestParseAct(t *testing.T) {
	a, ok := ParseAct([]byte(aliceUndo))
	if !ok || a.Player != "alice" || a.Verb != "patch" || a.Resource != "deployments" || a.Namespace != "gameday" || a.Name != "workers" ||
		a.Code != 200 || !a.Write() || !strings.Contains(string(a.Request), `"v1"`) ||
		!a.At.Equal(time.Date(2026, 12, 2, 9, 0, 1, 250000000, time.UTC)) {
		t.Errorf("alice's undo: %+v %v", a, ok)
	}
	if a, ok := ParseAct([]byte(bobLogs)); !ok || a.Subresource != "log" || a.Write() {
		t.Errorf("bob's read of logs: %+v %v", a, ok)
	}
	if a, ok := ParseAct([]byte(bobDenied)); !ok || a.Code != 403 || a.Resource != "nodes" {
		t.Errorf("bob's refused delete: %+v %v", a, ok)
	}
	for _, l := range []string{admin, started, `not json`, `{"kind":"EventList"}`, ``} {
		if a, ok := ParseAct([]byte(l)); ok {
			t.Errorf("not a player's finished request, read as %+v: %s", a, l)
		}
	}
}

// The tail reads whole lines only, once each, and starts again on a log
// that was rotated away.
func TestAuditTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	tail := &AuditTail{Path: path}
	if acts, err := tail.Next(); err != nil || len(acts) != 0 {
		t.Fatalf("a log not there yet: %v %v", acts, err)
	}
	f, _ := os.Create(path)
	f.WriteString(aliceUndo + "\n" + admin + "\n" + bobLogs[:40])
	acts, err := tail.Next()
	if err != nil || len(acts) != 1 || acts[0].Player != "alice" {
		t.Fatalf("first read: %+v %v", acts, err)
	}
	f.WriteString(bobLogs[40:] + "\n")
	acts, _ = tail.Next()
	if len(acts) != 1 || acts[0].Player != "bob" || acts[0].Subresource != "log" {
		t.Fatalf("the line finished since: %+v", acts)
	}
	if acts, _ := tail.Next(); len(acts) != 0 {
		t.Fatalf("read again: %+v", acts)
	}
	if tail.Lines != 3 {
		t.Errorf("lines read %d, want 3", tail.Lines)
	}
	f.Close()
	os.WriteFile(path, []byte(bobDenied+"\n"), 0o644) // rotated: a new, shorter log
	if acts, _ := tail.Next(); len(acts) != 1 || acts[0].Code != 403 {
		t.Errorf("after rotation: %+v", acts)
	}
}

// A game on a cluster used before reads only what is written after it
// starts: an earlier game's acts (a player of the same name) are not its.
func TestTailFromEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if tail, err := TailFromEnd(path); err != nil || tail.offset != 0 {
		t.Fatalf("a log not there yet: %+v %v", tail, err)
	}
	if err := os.WriteFile(path, []byte(aliceUndo+"\n"+admin+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tail, err := TailFromEnd(path)
	if err != nil {
		t.Fatal(err)
	}
	if acts, _ := tail.Next(); len(acts) != 0 {
		t.Fatalf("an earlier game's acts were read: %+v", acts)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	f.WriteString(bobLogs + "\n")
	f.Close()
	if acts, _ := tail.Next(); len(acts) != 1 || acts[0].Player != "bob" {
		t.Errorf("the act written after the start: %+v", acts)
	}
}

// A player's dry run (kubectl --dry-run=server, or the game's own check that
// their rights are in force) stores nothing: it is not a change.
func TestDryRunIsNoChange(t *testing.T) {
	dry := strings.Replace(aliceUndo, `/deployments/workers"`, `/deployments/workers?dryRun=All&fieldManager=kubectl"`, 1)
	a, ok := ParseAct([]byte(dry))
	if !ok || !a.DryRun || a.Write() {
		t.Errorf("a dry-run patch: %+v (write %v)", a, a.Write())
	}
	if a, _ := ParseAct([]byte(aliceUndo)); a.DryRun || !a.Write() {
		t.Errorf("a patch: %+v", a)
	}
}
