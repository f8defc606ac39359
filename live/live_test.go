package live

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gameday.dev/gameday/scenarios/timeline"
)

func testServer(t *testing.T) (*Server, *httptest.Server, Tokens) {
	t.Helper()
	tok, err := NewTokens()
	if err != nil {
		t.Fatal(err)
	}
	info := Info{Scenario: "cascading-outage", Topology: "shared", Cluster: "gameday-shared", Game: true,
		Journeys: []timeline.Journey{{Name: "frontend /", Service: "frontend", Critical: true}, {Name: "frontend /items", Service: "frontend"}, {Name: "api /api/items", Service: "api", Critical: true}}}
	s := NewServer(info, timeline.Meta{Scenario: "cascading-outage", Topology: "shared"}, tok)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs, tok
}

// sse reads events from a stream until it has n or the stream ends.
type sseEvent struct {
	ID   int64
	Type string
	Data json.RawMessage
	At   int64
}

func readEvents(t *testing.T, body io.Reader, n int) []sseEvent {
	t.Helper()
	var out []sseEvent
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur sseEvent
	for len(out) < n && sc.Scan() {
		l := sc.Text()
		switch {
		case l == "":
			if cur.Type != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(l, "id: "):
			cur.ID, _ = strconv.ParseInt(l[4:], 10, 64)
		case strings.HasPrefix(l, "event: "):
			cur.Type = l[7:]
		case strings.HasPrefix(l, "data: "):
			var d struct {
				At   int64           `json:"at"`
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal([]byte(l[6:]), &d); err != nil {
				t.Fatalf("data %q: %v", l, err)
			}
			cur.Data, cur.At = d.Data, d.At
		}
	}
	return out
}

func get(t *testing.T, url, token string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// The stream sends every event in order, each once; a client that comes
// back with Last-Event-ID gets exactly what came after, published while it
// was away included, with no gap and nothing twice.
func TestStreamOrderAndResume(t *testing.T) {
	s, hs, tok := testServer(t)
	var wg sync.WaitGroup
	for w := range 4 { // publishers racing each other
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				s.Hub().Publish("test", fmt.Sprintf("w%d-%d", w, i))
			}
		}()
	}
	resp := get(t, hs.URL+"/events", tok[Observer], nil)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	first := readEvents(t, resp.Body, 120)
	resp.Body.Close() // the client drops
	wg.Wait()
	for i, e := range first {
		if e.ID != int64(i+1) {
			t.Fatalf("event %d has ID %d: out of order or with a gap", i, e.ID)
		}
	}
	if first[0].Type != "info" {
		t.Errorf("the first event is %q, want the game's info", first[0].Type)
	}
	// Published while it was away.
	for i := range 30 {
		s.Hub().Publish("late", i)
	}
	last := first[len(first)-1].ID
	resp = get(t, hs.URL+"/events", tok[Observer], map[string]string{"Last-Event-ID": strconv.FormatInt(last, 10)})
	defer resp.Body.Close()
	total := s.Hub().Last()
	rest := readEvents(t, resp.Body, int(total-last))
	if len(rest) != int(total-last) {
		t.Fatalf("resumed with %d events, want %d", len(rest), total-last)
	}
	seen := map[string]bool{}
	for i, e := range append(first, rest...) {
		if e.ID != int64(i+1) {
			t.Fatalf("after resuming, event %d has ID %d", i, e.ID)
		}
		if e.Type == "test" {
			seen[string(e.Data)] = true
		}
	}
	if len(seen) != 200 {
		t.Errorf("%d distinct published values seen, want 200", len(seen))
	}
	// A live event reaches a connected client.
	s.Hub().Publish("now", "x")
	if ev := readEvents(t, resp.Body, 1); len(ev) != 1 || ev[0].Type != "now" || ev[0].ID != total+1 {
		t.Errorf("live event: %+v", ev)
	}
	bad := get(t, hs.URL+"/events", tok[Observer], map[string]string{"Last-Event-ID": "x"})
	bad.Body.Close()
	if bad.StatusCode != http.StatusBadRequest {
		t.Errorf("a Last-Event-ID that is not an ID: %d", bad.StatusCode)
	}
}

// Every action needs its role's token in the header: none or another is
// 401; a role without the right 403 (the observer may do nothing); a token
// in the URL counts for nothing; actions are POSTs only.
func TestRoles(t *testing.T) {
	s, hs, tok := testServer(t)
	var ended, hinted, stopped int
	var notes []timeline.Entry
	s.SetControls(Controls{
		End:  func() string { ended++; return "the game ends" },
		Hint: func() string { hinted++; return "hint 1 released" },
		Stop: func() string { stopped++; return "stopping" },
	})
	s.SetNotes(func(e timeline.Entry) { notes = append(notes, e) })
	do := func(method, path, token, body string) int {
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	note := `{"text":"the API pods restart every 30 s","kind":"observation","by":"Ana"}`
	for _, c := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"POST", "/api/end", "", "", 401},
		{"POST", "/api/end", "not-a-token", "", 401},
		{"POST", "/api/end?token=" + tok[Facilitator], "", "", 401},
		{"POST", "/api/end", tok[Observer], "", 403},
		{"POST", "/api/end", tok[Reporter], "", 403},
		{"POST", "/api/stop", tok[Reporter], "", 403},
		{"POST", "/api/hint", tok[Observer], "", 403},
		{"POST", "/api/note", tok[Observer], note, 403},
		{"POST", "/api/note", tok[Reporter], note, 200},
		{"POST", "/api/note", tok[Facilitator], `{"text":"we roll back"}`, 200},
		{"POST", "/api/note", tok[Reporter], `{"text":"  "}`, 400},
		{"POST", "/api/note", tok[Reporter], `{"text":"x","kind":"rumour"}`, 400},
		{"POST", "/api/note", tok[Reporter], `{"text":"` + strings.Repeat("x", maxNote+1) + `"}`, 413},
		{"GET", "/api/end", tok[Facilitator], "", 405},
		{"GET", "/api/note", tok[Reporter], "", 405},
		{"POST", "/api/inject", tok[Facilitator], `{"step":"x"}`, 409}, // no curveball offered
		{"POST", "/api/hint", tok[Facilitator], "", 200},
		{"POST", "/api/end", tok[Facilitator], "", 200},
		{"POST", "/api/stop", tok[Facilitator], "", 200},
		{"GET", "/events", "", "", 401},
		{"GET", "/debrief", tok[Observer], "", 404}, // not yet
		{"GET", "/debrief", "", "", 401},
	} {
		if got := do(c.method, c.path, c.token, c.body); got != c.want {
			t.Errorf("%s %s as %s: %d, want %d", c.method, c.path, roleName(tok, c.token), got, c.want)
		}
	}
	if ended != 1 || hinted != 1 || stopped != 1 {
		t.Errorf("levers pulled: end %d, hint %d, stop %d; want 1 each", ended, hinted, stopped)
	}
	if len(notes) != 2 || notes[0].Kind != timeline.KindNote || notes[0].Phase != "observation" || notes[0].Player != "Ana (reporter)" ||
		notes[1].Player != "facilitator" || notes[1].Phase != "note" {
		t.Errorf("notes written: %+v", notes)
	}
	// The page itself needs no token, and loads nothing from elsewhere.
	for _, p := range []string{"/", "/app.js", "/app.css"} {
		resp := get(t, hs.URL+p, "", nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s: no policy keeping the page to itself", p)
		}
		for _, ext := range []string{"http://", "https://", "//cdn"} {
			if strings.Contains(string(b), ext) {
				t.Errorf("%s refers to %q: the page must load nothing from the network", p, ext)
			}
		}
	}
	s.SetDebrief([]byte("<html>debrief</html>"))
	resp := get(t, hs.URL+"/debrief", tok[Observer], nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "<html>debrief</html>" {
		t.Errorf("the debrief: %d %q", resp.StatusCode, b)
	}
}

func roleName(tok Tokens, token string) string {
	for r, t := range tok {
		if t == token {
			return string(r)
		}
	}
	return "nobody"
}

// What the probes saw in the last second is each journey's state; a
// critical journey down takes its service down, another only makes it
// fail; a second without probes keeps the last state.
func TestStateFromProbes(t *testing.T) {
	s, _, _ := testServer(t)
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	probe := func(at time.Duration, ep, svc string, ok, degraded bool) {
		s.Feed(timeline.Entry{Time: t0.Add(at), Kind: timeline.KindProbe, Endpoint: ep, Service: svc, OK: timeline.Bool(ok), Degraded: degraded})
	}
	s.Feed(timeline.Entry{Time: t0, Kind: timeline.KindRun, Phase: "timeline-start"})
	s.Feed(timeline.Entry{Time: t0, Kind: timeline.KindNode, Name: "w1", Pool: "app", Ready: timeline.Bool(true), Schedulable: timeline.Bool(true), InService: timeline.Bool(true)})
	probe(100*time.Millisecond, "frontend /", "frontend", true, false)
	probe(200*time.Millisecond, "frontend /items", "frontend", true, true)
	probe(300*time.Millisecond, "api /api/items", "api", true, false)
	st := s.tracker().snapshot(t0.Add(time.Second))
	if st.Services["frontend"] != StateDegraded || st.Services["api"] != StateOK || st.Journeys["frontend /"] != StateOK || st.Clock != 1 {
		t.Fatalf("healthy second: %+v", st)
	}
	probe(1100*time.Millisecond, "frontend /items", "frontend", false, false)
	probe(1200*time.Millisecond, "frontend /", "frontend", true, false)
	probe(1300*time.Millisecond, "api /api/items", "api", false, false)
	probe(1400*time.Millisecond, "api /api/items", "api", true, false)
	s.Feed(timeline.Entry{Time: t0.Add(1500 * time.Millisecond), Kind: timeline.KindNode, Name: "w1", Ready: timeline.Bool(false)})
	st = s.tracker().snapshot(t0.Add(2 * time.Second))
	if st.Journeys["frontend /items"] != StateDown || st.Services["frontend"] != StateFailing || st.Services["api"] != StateFailing {
		t.Fatalf("a non-critical journey down, the API failing: %+v", st)
	}
	if len(st.Nodes) != 1 || st.Nodes[0].Ready || st.Nodes[0].Pool != "app" {
		t.Errorf("nodes: %+v", st.Nodes)
	}
	probe(2500*time.Millisecond, "frontend /", "frontend", false, false)
	st = s.tracker().snapshot(t0.Add(3 * time.Second))
	if st.Services["frontend"] != StateDown || st.Journeys["api /api/items"] != StateFailing {
		t.Fatalf("a critical journey down; no API probe this second keeps its last state: %+v", st)
	}
	// A probe counts when it came back: one sent at 2.2 s that timed out
	// after 2 s is seen in the second ending at 5 s, not at 3 s.
	s.Feed(timeline.Entry{Time: t0.Add(2200 * time.Millisecond), Kind: timeline.KindProbe, Endpoint: "api /api/items", Service: "api",
		OK: timeline.Bool(false), LatencyMs: 2000})
	probe(4500*time.Millisecond, "api /api/items", "api", true, false)
	if st = s.tracker().snapshot(t0.Add(4 * time.Second)); st.Journeys["api /api/items"] != StateFailing {
		t.Errorf("before the timed-out probe came back: %+v", st.Journeys)
	}
	if st = s.tracker().snapshot(t0.Add(5 * time.Second)); st.Journeys["api /api/items"] != StateFailing || st.Services["api"] != StateFailing {
		t.Errorf("the timed-out probe and a success in the same second: %+v", st.Journeys)
	}
}

// The server's stream ends when its context does.
func TestServeStops(t *testing.T) {
	tok, _ := NewTokens()
	s := NewServer(Info{}, timeline.Meta{}, tok)
	ln, warn, err := Listen("")
	if err != nil || warn != "" {
		t.Fatalf("listen: %v %q", err, warn)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Serve(ctx, ln) }()
	resp := get(t, "http://"+ln.Addr().String()+"/events", tok[Observer], nil)
	cancel()
	_, _ = io.ReadAll(resp.Body) // ends once the hub is closed
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not stop")
	}
}

func TestListenWarnsBeyondLoopback(t *testing.T) {
	ln, warn, err := Listen("0.0.0.0:0")
	if err != nil {
		t.Skip(err)
	}
	ln.Close()
	if !strings.Contains(warn, "beyond this machine") {
		t.Errorf("warning %q", warn)
	}
}

// Run publishes a change of state within a tick (not at the next whole
// second) and an unchanged state only once a second (the clock).
func TestRunPublishesChangesAtOnce(t *testing.T) {
	s, _, _ := testServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	now := time.Now()
	s.Feed(timeline.Entry{Time: now, Kind: timeline.KindRun, Phase: "timeline-start"})
	states := func() (n int, down time.Time) {
		evs, _, _ := s.Hub().After(0)
		for _, e := range evs {
			if e.Type != "state" {
				continue
			}
			n++
			var st State
			_ = json.Unmarshal(e.Data, &st)
			if st.Services["api"] == StateDown && down.IsZero() {
				down = e.At
			}
		}
		return n, down
	}
	time.Sleep(2200 * time.Millisecond) // nothing changes
	if n, _ := states(); n < 1 || n > 3 {
		t.Errorf("%d states published in 2.2 s with nothing changing, want at most 3 (one a second)", n)
	}
	failed := time.Now()
	s.Feed(timeline.Entry{Time: failed, Kind: timeline.KindProbe, Endpoint: "api /api/items", Service: "api", OK: timeline.Bool(false)})
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if _, down := states(); !down.IsZero() {
			if lag := down.Sub(failed); lag > 900*time.Millisecond {
				t.Errorf("the API down published %s after its probe failed, want within a tick", lag)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the API down was never published")
}

// The curveballs a facilitator may inject reach the facilitator alone: not
// the stream every viewer gets (players may watch an observer's page), not
// another role's /api/me.
func TestCurveballsOnlyToTheFacilitator(t *testing.T) {
	tok, err := NewTokens()
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(Info{Scenario: "cascading-outage", Game: true, Curveballs: []string{"api-pod-killed"}}, timeline.Meta{}, tok)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	me := func(role Role) string {
		resp := get(t, hs.URL+"/api/me", tok[role], nil)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := me(Facilitator); !strings.Contains(got, "api-pod-killed") {
		t.Errorf("the facilitator's /api/me %s lacks the curveball", got)
	}
	for _, r := range []Role{Reporter, Observer} {
		if got := me(r); strings.Contains(got, "api-pod-killed") {
			t.Errorf("the %s's /api/me names the curveball: %s", r, got)
		}
	}
	resp := get(t, hs.URL+"/events", tok[Observer], nil)
	defer resp.Body.Close()
	ev := readEvents(t, resp.Body, 1)
	if len(ev) != 1 || ev[0].Type != "info" || !strings.Contains(string(ev[0].Data), "cascading-outage") {
		t.Fatalf("first event %+v, want the info", ev)
	}
	if strings.Contains(string(ev[0].Data), "api-pod-killed") {
		t.Errorf("the stream names the curveball: %s", ev[0].Data)
	}
}
