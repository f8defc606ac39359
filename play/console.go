package play

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The cloud console stands in for the managed-Kubernetes provider the
// seed's team used: the cluster's control-plane version and its upgrade
// history, node groups, and the deploy history, over a small HTTP API with
// a token per player. Every action is reported (Actions) with the player's
// name.

// NodeGroup is a pool as the provider shows it.
type NodeGroup struct {
	Name    string   `json:"name"`
	Version string   `json:"version,omitempty"`
	Size    int      `json:"size"`    // nodes in service
	Desired int      `json:"desired"` // nodes it should have
	Status  string   `json:"status"`  // ACTIVE, DEGRADED, CREATING, CREATE_FAILED
	Health  []string `json:"health,omitempty"`
}

// Node group statuses, as providers name them.
const (
	StatusActive       = "ACTIVE"
	StatusDegraded     = "DEGRADED"
	StatusCreating     = "CREATING"
	StatusCreateFailed = "CREATE_FAILED"
)

// Upgrade is one control-plane upgrade in the cluster's history.
type Upgrade struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// Deploy is one release in the deploy history.
type Deploy struct {
	Tier    string    `json:"tier"`
	Release string    `json:"release"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// ClusterView is what "describe the cluster" shows.
type ClusterView struct {
	Name     string    `json:"name"`
	Version  string    `json:"version"`
	Upgrades []Upgrade `json:"upgrades"`
}

// Provider is what the console does to the cluster; the cluster-backed one
// brings spare capacity into service.
type Provider interface {
	ControlPlaneVersion(ctx context.Context) (string, error)
	// NodeGroups are the pools, as they are now.
	NodeGroups(ctx context.Context) ([]NodeGroup, error)
	// Provision brings capacity for the pool a new group replaces into
	// service and returns the group; it fails if there is none left.
	Provision(ctx context.Context, name, version string) (NodeGroup, error)
	// Retire takes a group's nodes out of service.
	Retire(ctx context.Context, name string) error
}

// Action is one thing a player did on the console.
type Action struct {
	Player string
	Verb   string // describe-cluster, list-nodegroups, describe-nodegroup, create-nodegroup, delete-nodegroup, list-deploys
	Target string
	Detail string
	Error  string
}

// Console serves the provider's API.
type Console struct {
	Name     string
	Provider Provider
	// JoinTimeout is how long a node group at the wrong version takes to
	// fail, as instances try to join and give up.
	JoinTimeout time.Duration
	// Actions receives every action, for the timeline; nil drops them.
	Actions func(Action)

	mu       sync.Mutex
	tokens   map[string]string // token -> player
	upgrades []Upgrade
	deploys  []Deploy
	pending  map[string]NodeGroup // groups being created or failed
	health   map[string][]string  // issues the provider reports on a group (AddHealth)
	stop     chan struct{}
	stopOnce sync.Once
	creating sync.WaitGroup
}

// NewConsole returns a console for cluster name with a token per player.
func NewConsole(name string, p Provider, players []string) (*Console, map[string]string, error) {
	if err := ValidatePlayers(players); err != nil {
		return nil, nil, err
	}
	c := &Console{Name: name, Provider: p, JoinTimeout: 20 * time.Second, tokens: map[string]string{},
		pending: map[string]NodeGroup{}, stop: make(chan struct{})}
	byPlayer := map[string]string{}
	for _, pl := range players {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, err
		}
		t := hex.EncodeToString(b)
		c.tokens[t], byPlayer[pl] = pl, t
	}
	return c, byPlayer, nil
}

// Close stops node groups being created and waits for them.
func (c *Console) Close() {
	c.stopOnce.Do(func() { close(c.stop) })
	c.creating.Wait()
}

// RecordUpgrade and RecordDeploy keep the history the console shows.
func (c *Console) RecordUpgrade(u Upgrade) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.upgrades = append(c.upgrades, u)
}

func (c *Console) RecordDeploy(d Deploy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deploys = append(c.deploys, d)
}

// player is who sent r (a bearer token), or "".
func (c *Console) player(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for t, p := range c.tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 {
			return p
		}
	}
	return ""
}

// apiError is the provider's error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Handler is the console's HTTP API.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/cluster", c.auth("describe-cluster", c.describeCluster))
	mux.HandleFunc("GET /v1/nodegroups", c.auth("list-nodegroups", c.listGroups))
	mux.HandleFunc("GET /v1/nodegroups/{name}", c.auth("describe-nodegroup", c.describeGroup))
	mux.HandleFunc("POST /v1/nodegroups", c.auth("create-nodegroup", c.createGroup))
	mux.HandleFunc("DELETE /v1/nodegroups/{name}", c.auth("delete-nodegroup", c.deleteGroup))
	mux.HandleFunc("GET /v1/deploys", c.auth("list-deploys", c.listDeploys))
	return mux
}

// handler serves one call for a player and says what it did (target,
// detail) or why it failed (an HTTP status and the provider's error).
type handler func(w http.ResponseWriter, r *http.Request, player string) (target, detail string, status int, err error)

func (c *Console) auth(verb string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := c.player(r)
		if p == "" {
			writeJSON(w, http.StatusUnauthorized, apiError{Code: "UnauthorizedException", Message: "missing or unknown token"})
			return
		}
		target, detail, status, err := h(w, r, p)
		a := Action{Player: p, Verb: verb, Target: target, Detail: detail}
		if err != nil {
			a.Error = err.Error()
			code := map[int]string{http.StatusNotFound: "ResourceNotFoundException", http.StatusBadRequest: "InvalidParameterException",
				http.StatusConflict: "ResourceInUseException"}[status]
			if code == "" {
				code = "ServerException"
			}
			writeJSON(w, status, apiError{Code: code, Message: err.Error()})
		}
		if c.Actions != nil {
			c.Actions(a)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (c *Console) describeCluster(w http.ResponseWriter, r *http.Request, _ string) (string, string, int, error) {
	v, err := c.Provider.ControlPlaneVersion(r.Context())
	if err != nil {
		return c.Name, "", http.StatusInternalServerError, err
	}
	c.mu.Lock()
	view := ClusterView{Name: c.Name, Version: v, Upgrades: append([]Upgrade{}, c.upgrades...)}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, view)
	return c.Name, fmt.Sprintf("version %s, %d upgrades in its history", v, len(view.Upgrades)), 0, nil
}

// AddHealth reports an issue on a group, as a provider does after a
// failed replacement (it stays while the group is not back to its size).
func (c *Console) AddHealth(group, issue string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.health == nil {
		c.health = map[string][]string{}
	}
	c.health[group] = append(c.health[group], issue)
}

// groups are the provider's groups with those being created or failed.
func (c *Console) groups(ctx context.Context) ([]NodeGroup, error) {
	gs, err := c.Provider.NodeGroups(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, g := range gs {
		if issues := c.health[g.Name]; len(issues) > 0 && g.Size < g.Desired {
			gs[i].Health = append(append([]string{}, issues...), g.Health...)
		}
	}
	for _, p := range c.pending {
		gs = append(gs, p)
	}
	return gs, nil
}

func (c *Console) listGroups(w http.ResponseWriter, r *http.Request, _ string) (string, string, int, error) {
	gs, err := c.groups(r.Context())
	if err != nil {
		return "", "", http.StatusInternalServerError, err
	}
	writeJSON(w, http.StatusOK, gs)
	return "", fmt.Sprintf("%d node groups", len(gs)), 0, nil
}

func (c *Console) describeGroup(w http.ResponseWriter, r *http.Request, _ string) (string, string, int, error) {
	name := r.PathValue("name")
	gs, err := c.groups(r.Context())
	if err != nil {
		return name, "", http.StatusInternalServerError, err
	}
	for _, g := range gs {
		if g.Name == name {
			writeJSON(w, http.StatusOK, g)
			return name, g.Status, 0, nil
		}
	}
	return name, "", http.StatusNotFound, fmt.Errorf("no node group %q in cluster %s", name, c.Name)
}

type createRequest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

func (c *Console) createGroup(w http.ResponseWriter, r *http.Request, player string) (string, string, int, error) {
	var req createRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		return "", "", http.StatusBadRequest, fmt.Errorf("a node group needs a JSON body {\"name\": ..., \"version\": ...}: %v", err)
	}
	if errs := validateGroupName(req.Name); errs != "" {
		return req.Name, "", http.StatusBadRequest, fmt.Errorf("node group name %q: %s", req.Name, errs)
	}
	if req.Version == "" {
		return req.Name, "", http.StatusBadRequest, errors.New("a node group needs a version")
	}
	// The name is taken (as pending) before anything else: two creates of
	// one name at once make one group.
	creating := NodeGroup{Name: req.Name, Version: req.Version, Status: StatusCreating}
	c.mu.Lock()
	_, taken := c.pending[req.Name]
	if !taken {
		c.pending[req.Name] = creating
	}
	c.mu.Unlock()
	exists := func() (string, string, int, error) {
		return req.Name, "", http.StatusConflict, fmt.Errorf("node group %q already exists", req.Name)
	}
	if taken {
		return exists()
	}
	release := func() {
		c.mu.Lock()
		delete(c.pending, req.Name)
		c.mu.Unlock()
	}
	gs, err := c.Provider.NodeGroups(r.Context())
	if err != nil {
		release()
		return req.Name, "", http.StatusInternalServerError, err
	}
	for _, g := range gs {
		if g.Name == req.Name {
			release()
			return exists()
		}
	}
	cp, err := c.Provider.ControlPlaneVersion(r.Context())
	if err != nil {
		release()
		return req.Name, "", http.StatusInternalServerError, err
	}
	c.creating.Add(1)
	go func() {
		defer c.creating.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-c.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		c.create(WithPlayer(ctx, player), req, cp)
	}()
	writeJSON(w, http.StatusAccepted, creating)
	return req.Name, "version " + req.Version, 0, nil
}

// create brings the group up: at the control plane's version its nodes join;
// at another they try for JoinTimeout and the group fails as a provider's
// would.
func (c *Console) create(ctx context.Context, req createRequest, cp string) {
	if !SameMinor(req.Version, cp) {
		select { // the instances try to join, then give up
		case <-time.After(c.JoinTimeout):
		case <-ctx.Done():
			return
		}
		c.mu.Lock()
		c.pending[req.Name] = NodeGroup{Name: req.Name, Version: req.Version, Status: StatusCreateFailed,
			// The provider's words: why is for the team to find.
			Health: []string{"NodeCreationFailure: Instances failed to join the kubernetes cluster"}}
		c.mu.Unlock()
		return
	}
	// The group runs the control plane's version, however the player wrote
	// it ("1.38"): its nodes join with a kubelet that reports that version.
	_, err := c.Provider.Provision(ctx, req.Name, cp)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.pending[req.Name] = NodeGroup{Name: req.Name, Version: req.Version, Status: StatusCreateFailed, Health: []string{"InsufficientCapacity: " + err.Error()}}
		return
	}
	delete(c.pending, req.Name) // the provider lists it from now on
}

func (c *Console) deleteGroup(w http.ResponseWriter, r *http.Request, player string) (string, string, int, error) {
	name := r.PathValue("name")
	c.mu.Lock()
	if g, ok := c.pending[name]; ok && g.Status == StatusCreateFailed {
		delete(c.pending, name)
		c.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return name, "a failed group removed", 0, nil
	}
	c.mu.Unlock()
	gs, err := c.Provider.NodeGroups(r.Context())
	if err != nil {
		return name, "", http.StatusInternalServerError, err
	}
	found := false
	for _, g := range gs {
		found = found || g.Name == name
	}
	if !found {
		return name, "", http.StatusNotFound, fmt.Errorf("no node group %q in cluster %s", name, c.Name)
	}
	if err := c.Provider.Retire(WithPlayer(r.Context(), player), name); errors.Is(err, ErrInUse) {
		return name, "", http.StatusConflict, err
	} else if err != nil {
		return name, "", http.StatusInternalServerError, err
	}
	w.WriteHeader(http.StatusNoContent)
	return name, "its nodes out of service", 0, nil
}

func (c *Console) listDeploys(w http.ResponseWriter, _ *http.Request, _ string) (string, string, int, error) {
	c.mu.Lock()
	ds := append([]Deploy{}, c.deploys...)
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, ds)
	return "", fmt.Sprintf("%d deploys", len(ds)), 0, nil
}

// validateGroupName: 1-63 of letters, digits, '-' and '_', as providers allow.
func validateGroupName(n string) string {
	if n == "" || len(n) > 63 {
		return "1 to 63 characters"
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "letters, digits, '-' and '_' only"
		}
	}
	return ""
}

// SameMinor reports whether two Kubernetes versions name the same minor
// release, as providers compare them: "1.38", "v1.38" and "v1.38.0" alike.
func SameMinor(a, b string) bool {
	minor := func(v string) string {
		parts := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(v), "v"), ".", 3)
		if len(parts) < 2 {
			return "?" + v
		}
		return parts[0] + "." + parts[1]
	}
	return minor(a) == minor(b)
}

type playerKey struct{}

// WithPlayer tells a Provider which player asked (PlayerFrom).
func WithPlayer(ctx context.Context, player string) context.Context {
	return context.WithValue(ctx, playerKey{}, player)
}

// PlayerFrom is the player who asked for what a Provider does, or "".
func PlayerFrom(ctx context.Context) string {
	p, _ := ctx.Value(playerKey{}).(string)
	return p
}
