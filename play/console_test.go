package play

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeProvider has one pool whose nodes are lost and one spare's worth of
// capacity.
type fakeProvider struct {
	mu      sync.Mutex
	cp      string
	groups  []NodeGroup
	spare   bool
	retired []string
}

func (f *fakeProvider) ControlPlaneVersion(context.Context) (string, error) { return f.cp, nil }

func (f *fakeProvider) NodeGroups(context.Context) ([]NodeGroup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]NodeGroup{}, f.groups...), nil
}

func (f *fakeProvider) Provision(_ context.Context, name, version string) (NodeGroup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.spare {
		return NodeGroup{}, errors.New("no capacity left")
	}
	f.spare = false
	g := NodeGroup{Name: name, Version: version, Size: 1, Desired: 1, Status: StatusActive}
	f.groups = append(f.groups, g)
	return g, nil
}

func (f *fakeProvider) Retire(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retired = append(f.retired, name)
	return nil
}

type consoleT struct {
	t       *testing.T
	srv     *httptest.Server
	tokens  map[string]string
	actions *[]Action
	mu      *sync.Mutex
}

func newConsoleT(t *testing.T, p Provider) (*Console, consoleT) {
	c, tokens, err := NewConsole("gd", p, []string{"alice", "bob"})
	if err != nil {
		t.Fatal(err)
	}
	c.JoinTimeout = 200 * time.Millisecond
	var mu sync.Mutex
	var actions []Action
	c.Actions = func(a Action) { mu.Lock(); actions = append(actions, a); mu.Unlock() }
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(func() { srv.Close(); c.Close() })
	return c, consoleT{t: t, srv: srv, tokens: tokens, actions: &actions, mu: &mu}
}

func (ct consoleT) call(method, path, token, body string, out any) int {
	ct.t.Helper()
	req, _ := http.NewRequest(method, ct.srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ct.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 && resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			ct.t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func (ct consoleT) lastAction() Action {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if len(*ct.actions) == 0 {
		return Action{}
	}
	return (*ct.actions)[len(*ct.actions)-1]
}

func TestConsoleRefusesAWrongToken(t *testing.T) {
	p := &fakeProvider{cp: "v1.38.0"}
	_, ct := newConsoleT(t, p)
	for _, tok := range []string{"", "nope", ct.tokens["alice"] + "x"} {
		if code := ct.call("GET", "/v1/cluster", tok, "", nil); code != http.StatusUnauthorized {
			t.Errorf("token %q: status %d, want 401", tok, code)
		}
		if code := ct.call("POST", "/v1/nodegroups", tok, `{"name":"x","version":"v1.38.0"}`, nil); code != http.StatusUnauthorized {
			t.Errorf("create with token %q: status %d, want 401", tok, code)
		}
	}
	if len(*ct.actions) != 0 || p.spare {
		t.Errorf("a refused call did something: %v", *ct.actions)
	}
}

func TestConsoleDescribesTheClusterAndItsHistory(t *testing.T) {
	c, ct := newConsoleT(t, &fakeProvider{cp: "v1.38.0"})
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	c.RecordUpgrade(Upgrade{From: "v1.37.2", To: "v1.38.0", By: "dev", At: at})
	c.RecordDeploy(Deploy{Tier: "workers", Release: "v2", By: "ci", At: at})
	var v ClusterView
	if code := ct.call("GET", "/v1/cluster", ct.tokens["bob"], "", &v); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if v.Version != "v1.38.0" || len(v.Upgrades) != 1 || v.Upgrades[0].By != "dev" || !v.Upgrades[0].At.Equal(at) {
		t.Errorf("cluster view %+v", v)
	}
	if a := ct.lastAction(); a.Player != "bob" || a.Verb != "describe-cluster" {
		t.Errorf("action %+v, want bob's describe-cluster", a)
	}
	var ds []Deploy
	ct.call("GET", "/v1/deploys", ct.tokens["alice"], "", &ds)
	if len(ds) != 1 || ds[0].Release != "v2" {
		t.Errorf("deploys %+v", ds)
	}
}

// At the control plane's version a node group joins; at another it fails
// after the join timeout with the provider's message, and can be deleted.
func TestConsoleCreatesNodeGroupsOnlyAtTheControlPlanesVersion(t *testing.T) {
	p := &fakeProvider{cp: "v1.38.0", spare: true, groups: []NodeGroup{{Name: "app", Version: "v1.37.2", Desired: 2, Status: StatusDegraded}}}
	_, ct := newConsoleT(t, p)
	alice := ct.tokens["alice"]
	var g NodeGroup
	if code := ct.call("POST", "/v1/nodegroups", alice, `{"name":"app-old","version":"v1.37.2"}`, &g); code != http.StatusAccepted || g.Status != StatusCreating {
		t.Fatalf("create at the old version: %d %+v", code, g)
	}
	deadline := time.Now().Add(5 * time.Second)
	for ct.call("GET", "/v1/nodegroups/app-old", alice, "", &g); g.Status == StatusCreating && time.Now().Before(deadline); ct.call("GET", "/v1/nodegroups/app-old", alice, "", &g) {
		time.Sleep(50 * time.Millisecond)
	}
	if g.Status != StatusCreateFailed || len(g.Health) != 1 || !strings.HasPrefix(g.Health[0], "NodeCreationFailure: Instances failed to join the kubernetes cluster") {
		t.Fatalf("a group at the old version: %+v", g)
	}
	if !p.spare {
		t.Fatal("a group at the wrong version used the spare capacity")
	}
	if code := ct.call("DELETE", "/v1/nodegroups/app-old", alice, "", nil); code != http.StatusNoContent {
		t.Fatalf("delete the failed group: %d", code)
	}
	// At the control plane's version as a player writes it: the group runs
	// the control plane's version itself (its nodes' kubelets report it).
	if code := ct.call("POST", "/v1/nodegroups", alice, `{"name":"app-new","version":"1.38"}`, &g); code != http.StatusAccepted {
		t.Fatalf("create at the control plane's version: %d", code)
	}
	deadline = time.Now().Add(5 * time.Second)
	for ct.call("GET", "/v1/nodegroups/app-new", alice, "", &g); g.Status != StatusActive && time.Now().Before(deadline); ct.call("GET", "/v1/nodegroups/app-new", alice, "", &g) {
		time.Sleep(50 * time.Millisecond)
	}
	if g.Status != StatusActive || p.spare || g.Version != "v1.38.0" {
		t.Fatalf("a group at the control plane's version: %+v (spare left %v), want it at v1.38.0", g, p.spare)
	}
	var all []NodeGroup
	ct.call("GET", "/v1/nodegroups", ct.tokens["bob"], "", &all)
	if len(all) != 2 {
		t.Errorf("groups %+v, want app and app-new", all)
	}
}

func TestConsoleBadInput(t *testing.T) {
	p := &fakeProvider{cp: "v1.38.0", spare: true, groups: []NodeGroup{{Name: "app", Status: StatusActive}}}
	_, ct := newConsoleT(t, p)
	alice := ct.tokens["alice"]
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/v1/nodegroups", `not json`, http.StatusBadRequest},
		{"POST", "/v1/nodegroups", `{"name":"","version":"v1.38.0"}`, http.StatusBadRequest},
		{"POST", "/v1/nodegroups", `{"name":"a b","version":"v1.38.0"}`, http.StatusBadRequest},
		{"POST", "/v1/nodegroups", `{"name":"x"}`, http.StatusBadRequest},
		{"POST", "/v1/nodegroups", `{"name":"app","version":"v1.38.0"}`, http.StatusConflict},
		{"GET", "/v1/nodegroups/nope", ``, http.StatusNotFound},
		{"DELETE", "/v1/nodegroups/nope", ``, http.StatusNotFound},
		{"PUT", "/v1/cluster", ``, http.StatusMethodNotAllowed},
	} {
		if code := ct.call(c.method, c.path, alice, c.body, nil); code != c.want {
			t.Errorf("%s %s %s: status %d, want %d", c.method, c.path, c.body, code, c.want)
		}
	}
	if !p.spare || len(p.retired) != 0 {
		t.Error("bad input changed the cluster")
	}
	if _, _, err := NewConsole("gd", p, []string{"Bad Name"}); !errors.Is(err, ErrBadPlayer) {
		t.Errorf("a console for a bad player name: %v", err)
	}
}

// The cloud's failed replacement shows on the group it replaced, while the
// group is short of nodes, as a provider's health issues do.
func TestConsoleHealthOfAFailedReplacement(t *testing.T) {
	p := &fakeProvider{cp: "v1.38.0", groups: []NodeGroup{{Name: "app", Version: "v1.37.2", Size: 0, Desired: 2, Status: StatusDegraded,
		Health: []string{"NodeNotReady: 2 of 2 instances are not ready"}}}}
	c, ct := newConsoleT(t, p)
	c.AddHealth("app", "NodeCreationFailure: Instances failed to join the kubernetes cluster")
	var gs []NodeGroup
	if code := ct.call(http.MethodGet, "/v1/nodegroups", ct.tokens["alice"], "", &gs); code != http.StatusOK {
		t.Fatalf("list: %d", code)
	}
	if len(gs) != 1 || len(gs[0].Health) != 2 || !strings.HasPrefix(gs[0].Health[0], "NodeCreationFailure") {
		t.Fatalf("groups %+v", gs)
	}
	p.mu.Lock()
	p.groups[0].Size, p.groups[0].Health = 2, nil // back to its size
	p.mu.Unlock()
	var app NodeGroup
	if ct.call(http.MethodGet, "/v1/nodegroups/app", ct.tokens["alice"], "", &app); len(app.Health) != 0 {
		t.Errorf("a group back to its size still shows %v", app.Health)
	}
}
