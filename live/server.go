package live

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"gameday.dev/gameday/scenarios/timeline"
)

//go:embed page
var pageFS embed.FS

// Info is what the page shows of the game before anything happens.
type Info struct {
	Scenario string `json:"scenario"`
	Topology string `json:"topology"`
	Cluster  string `json:"cluster"`
	// Game: a game (gameday play); false for a replay (gameday run).
	Game      bool               `json:"game"`
	TimeLimit float64            `json:"timeLimitSeconds,omitempty"`
	Pools     []Pool             `json:"pools"`
	Journeys  []timeline.Journey `json:"journeys"`
	Goals     []string           `json:"goals,omitempty"`
	Hints     int                `json:"hints,omitempty"`
	// Curveballs are the scenario's optional steps the facilitator may
	// inject.
	Curveballs []string `json:"curveballs,omitempty"`
}

// public is info as every viewer gets it: the curveballs only go to the
// facilitator (GET /api/me), never to a page the players may watch.
func (i Info) public() Info {
	i.Curveballs = nil
	return i
}

// Pool is a node pool of the topology.
type Pool struct {
	Name  string `json:"name"`
	Spare bool   `json:"spare,omitempty"`
}

// Controls are the levers of the game the facilitator pulls from the page;
// a nil one is not offered.
type Controls struct {
	Hint   func() string
	End    func() string
	Stop   func() string
	Inject func(step string) (string, error)
}

// Server serves the live page of one game or replay.
type Server struct {
	hub    *Hub
	tokens Tokens

	// noteMu is held while a note is written: once SetNotes(nil) returns,
	// no note is written any more (the timeline may be closed).
	noteMu sync.Mutex
	// note writes a note into the game's timeline (the engine's writer);
	// its entry comes back through Feed.
	note func(timeline.Entry)

	mu       sync.Mutex
	state    *tracker
	controls Controls
	debrief  []byte
	info     Info
}

// NewServer returns a server for a game described by info and meta (the
// run's, for the scores so far).
func NewServer(info Info, meta timeline.Meta, tokens Tokens) *Server {
	s := &Server{hub: NewHub(), tokens: tokens, info: info, state: newTracker(info, meta)}
	_, _ = s.hub.Publish("info", info.public())
	return s
}

// Next starts the page over for the next run of the same command (a
// replay's next topology): the new run's info, its own state.
func (s *Server) Next(info Info, meta timeline.Meta) {
	s.mu.Lock()
	s.state, s.info, s.controls, s.debrief = newTracker(info, meta), info, Controls{}, nil
	s.mu.Unlock()
	_, _ = s.hub.Publish("info", info.public())
}

func (s *Server) tracker() *tracker {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Hub is the server's event log.
func (s *Server) Hub() *Hub { return s.hub }

// SetNotes has the room's notes written with write (into the timeline).
func (s *Server) SetNotes(write func(timeline.Entry)) {
	s.noteMu.Lock()
	defer s.noteMu.Unlock()
	s.note = write
}

// SetControls offers the game's levers (once it has started).
func (s *Server) SetControls(c Controls) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.controls = c
}

// Feed takes one timeline entry as it is written: what the page lists is
// published at once, the rest is counted into the next state.
func (s *Server) Feed(e timeline.Entry) {
	st := s.tracker()
	st.feed(e)
	if html, ok := RenderEntry(e, st.start()); ok {
		_, _ = s.hub.Publish("entry", entryEvent{Kind: e.Kind, Time: e.Time, HTML: html})
	}
}

type entryEvent struct {
	Kind string    `json:"kind"`
	Time time.Time `json:"time"`
	HTML string    `json:"html"`
}

// Tick publishes the state now: the clock, what the probes saw in the last
// second, the nodes, goals and scores.
func (s *Server) Tick(now time.Time) {
	st := s.tracker()
	st.rescore(now)
	_, _ = s.hub.Publish("state", st.snapshot(now))
}

// tickEvery is how often Run looks at the state: the last second's probes,
// seen four times a second, so that a service that goes down shows within
// about a second of its probes failing, not two.
const tickEvery = 250 * time.Millisecond

// Run publishes the state until ctx ends: at once when it changed (a
// service, a node, a goal, a score), else each second for the clock.
func (s *Server) Run(ctx context.Context) {
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	var last []byte
	var lastAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			st := s.tracker()
			st.rescore(now)
			snap := st.snapshot(now)
			clock := snap.Clock
			snap.Clock = 0
			b, _ := json.Marshal(snap)
			if bytes.Equal(b, last) && now.Sub(lastAt) < time.Second-tickEvery/2 {
				continue
			}
			snap.Clock = clock
			last, lastAt = b, now
			_, _ = s.hub.Publish("state", snap)
		}
	}
}

// SetDebrief switches the page to the debrief: the game's report.html.
func (s *Server) SetDebrief(html []byte) {
	s.mu.Lock()
	s.debrief = html
	s.mu.Unlock()
	s.Tick(time.Now())
	_, _ = s.hub.Publish("debrief", map[string]string{"path": "/debrief"})
}

// Handler is the page, its event stream and its actions.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	page, _ := fs.Sub(pageFS, "page")
	files := http.FileServerFS(page)
	mux.Handle("GET /{$}", files)
	for _, f := range []string{"app.js", "app.css"} {
		mux.Handle("GET /"+f, files)
	}
	mux.HandleFunc("GET /events", s.guard(actWatch, s.events))
	mux.HandleFunc("GET /api/me", s.guard(actWatch, func(w http.ResponseWriter, r *http.Request, role Role) {
		me := map[string]any{"role": role, "may": s.allowed(role)}
		if role.may(actInject) { // what the players do not see coming
			s.mu.Lock()
			me["curveballs"] = s.info.Curveballs
			s.mu.Unlock()
		}
		writeJSON(w, me)
	}))
	mux.HandleFunc("GET /debrief", s.guard(actWatch, func(w http.ResponseWriter, r *http.Request, _ Role) {
		s.mu.Lock()
		d := s.debrief
		s.mu.Unlock()
		if d == nil {
			http.Error(w, "the debrief is written when the game ends", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(d)
	}))
	mux.HandleFunc("POST /api/note", s.guard(actNote, s.takeNote))
	for _, a := range []action{actHint, actEnd, actStop, actInject} {
		mux.HandleFunc("POST /api/"+string(a), s.guard(a, s.lever(a)))
	}
	// Any other method on an action is refused by the mux (405): actions
	// are POSTs only.
	return secured(mux)
}

// secured adds the headers that keep the page to itself: nothing loaded from
// elsewhere, not framed by another site, no referrer.
func secured(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-src 'self' blob:; frame-ancestors 'none'")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// guard lets a request through when its token's role may do a: 401 without
// a known token, 403 for a role that may not.
func (s *Server) guard(a action, h func(http.ResponseWriter, *http.Request, Role)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		role := s.tokens.roleOf(r)
		switch {
		case role == "":
			http.Error(w, "missing or unknown token: send your link's token as Authorization: Bearer <token>", http.StatusUnauthorized)
		case !role.may(a):
			http.Error(w, fmt.Sprintf("the %s may not %s", role, a), http.StatusForbidden)
		default:
			h(w, r, role)
		}
	}
}

func (s *Server) allowed(role Role) []action {
	var out []action
	for _, a := range []action{actNote, actHint, actInject, actEnd, actStop} {
		if role.may(a) {
			out = append(out, a)
		}
	}
	return out
}

// maxNote bounds a note.
const maxNote = 4000

func (s *Server) takeNote(w http.ResponseWriter, r *http.Request, role Role) {
	var n struct {
		Text string `json:"text"`
		// Kind: note (what someone said or decided) or observation (what
		// the room saw).
		Kind string `json:"kind"`
		By   string `json:"by"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 2*maxNote)).Decode(&n); err != nil {
		http.Error(w, "a note is JSON: {\"text\": ..., \"kind\": \"note\"|\"observation\"}", http.StatusBadRequest)
		return
	}
	n.Text = strings.TrimSpace(n.Text)
	switch {
	case n.Text == "":
		http.Error(w, "an empty note", http.StatusBadRequest)
		return
	case len(n.Text) > maxNote:
		http.Error(w, fmt.Sprintf("a note of %d bytes: at most %d", len(n.Text), maxNote), http.StatusRequestEntityTooLarge)
		return
	case n.Kind == "":
		n.Kind = "note"
	case n.Kind != "note" && n.Kind != "observation":
		http.Error(w, "kind is note or observation", http.StatusBadRequest)
		return
	}
	by := string(role)
	if b := strings.TrimSpace(n.By); b != "" && len(b) <= 64 {
		by = b + " (" + string(role) + ")"
	}
	s.noteMu.Lock()
	if s.note == nil {
		s.noteMu.Unlock()
		http.Error(w, "notes are not taken now", http.StatusConflict)
		return
	}
	e := timeline.Entry{Time: time.Now(), Kind: timeline.KindNote, Phase: n.Kind, Player: by, Message: n.Text}
	s.note(e) // its entry comes back through Feed, which takes s.mu, never noteMu
	s.noteMu.Unlock()
	writeJSON(w, map[string]any{"time": e.Time})
}

func (s *Server) lever(a action) func(http.ResponseWriter, *http.Request, Role) {
	return func(w http.ResponseWriter, r *http.Request, _ Role) {
		s.mu.Lock()
		c := s.controls
		s.mu.Unlock()
		var msg string
		var err error
		switch {
		case a == actHint && c.Hint != nil:
			msg = c.Hint()
		case a == actEnd && c.End != nil:
			msg = c.End()
		case a == actStop && c.Stop != nil:
			msg = c.Stop()
		case a == actInject && c.Inject != nil:
			var in struct {
				Step string `json:"step"`
			}
			if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil || in.Step == "" {
				http.Error(w, "inject takes JSON: {\"step\": NAME}", http.StatusBadRequest)
				return
			}
			msg, err = c.Inject(in.Step)
		default:
			http.Error(w, string(a)+" is not offered now", http.StatusConflict)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		writeJSON(w, map[string]string{"message": msg})
	}
}

// events streams the hub as server-sent events from after Last-Event-ID.
func (s *Server) events(w http.ResponseWriter, r *http.Request, _ Role) {
	var last int64
	if h := r.Header.Get("Last-Event-ID"); h != "" {
		id, err := strconv.ParseInt(h, 10, 64)
		if err != nil || id < 0 {
			http.Error(w, "Last-Event-ID is the ID of an event", http.StatusBadRequest)
			return
		}
		last = id
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "retry: 1000\n\n"); err != nil {
		return
	}
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		evs, wake, closed := s.hub.After(last)
		for _, e := range evs {
			if err := WriteEvent(w, e); err != nil {
				return
			}
			last = e.ID
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if closed && len(evs) == 0 {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-wake:
		case <-keepAlive.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
		}
	}
}

// WriteEvent writes e in the event-stream format; its data carries the
// publication time for a client's lag.
func WriteEvent(w io.Writer, e Event) error {
	_, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: {\"at\":%d,\"data\":%s}\n\n", e.ID, e.Type, e.At.UnixMilli(), e.Data)
	return err
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Listen listens on addr: a free port on 127.0.0.1 when empty. It warns
// (returns a note) for an address that is not loopback.
func Listen(addr string) (net.Listener, string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	var warn string
	if host, _, err := net.SplitHostPort(ln.Addr().String()); err == nil {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			warn = fmt.Sprintf("the live page listens on %s, beyond this machine: anyone who can reach it sees the page; the roles' tokens still guard the stream and every action", ln.Addr())
		}
	}
	return ln, warn, nil
}

// Serve serves the page on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	go func() {
		<-ctx.Done()
		s.hub.Close()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
