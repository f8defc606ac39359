// Package observe watches a run the way users and SREs would: HTTP probes
// from the host (the fixtures' traffic generator) and client-go informers on
// nodes, pods, deployments and events, all written into the run's timeline.
package observe

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"gameday.dev/gameday/fixtures/traffic"
	"gameday.dev/gameday/scenarios/timeline"
)

// keep is how much probe history Probes keeps in memory for windows.
const keep = 5 * time.Minute

type sample struct {
	at      time.Time
	ok      bool
	latency time.Duration
}

// Probes requests every endpoint at its rate and keeps recent results per
// service (the endpoint name's first word) and per endpoint, for
// objectives and conditions.
type Probes struct {
	mu      sync.Mutex
	recent  map[string][]sample
	count   int
	started time.Time
	stopped time.Time
	cancel  context.CancelFunc
	done    chan struct{}
}

// StartProbes starts probing until Stop. keepAlive is the share of
// requests sent on kept-alive connections; the others open a new
// connection each, as a stream of arriving visitors does, so that a change
// that only new connections see (a Service's endpoints emptied, a pod out
// of a Service by its readiness) is seen when users would see it.
//
// via, when not nil, is the route to the endpoints: a transport on
// kept-alive connections or a new connection per request (the API server's
// proxy, on a cluster gameday did not create); nil is straight from here.
func StartProbes(ctx context.Context, endpoints []traffic.Endpoint, timeout time.Duration, keepAlive float64, tl *timeline.Writer, via *Via) *Probes {
	ctx, cancel := context.WithCancel(ctx)
	p := &Probes{recent: map[string][]sample{}, started: time.Now(), cancel: cancel, done: make(chan struct{})}
	// Enough requests in flight that a slow answer (up to the timeout) never
	// makes a tick find every slot busy, which the generator counts as a timeout.
	rate := 0.0
	for _, e := range endpoints {
		rate = max(rate, e.Rate)
	}
	inFlight := int(math.Ceil(rate*timeout.Seconds())) + 2
	var kept, fresh http.RoundTripper = &http.Transport{MaxIdleConnsPerHost: 16}, &http.Transport{DisableKeepAlives: true}
	if via != nil {
		kept, fresh = via.Kept, via.Fresh
	}
	gen := &traffic.Generator{Endpoints: endpoints, Timeout: timeout, MaxInFlight: inFlight,
		Client: &http.Client{Transport: &mixed{share: keepAlive, kept: kept, fresh: fresh}}}
	go func() {
		defer close(p.done)
		gen.Run(ctx, func(r traffic.Result) {
			svc, _, _ := strings.Cut(r.Endpoint, " ")
			tl.Write(timeline.Entry{Time: r.Time, Kind: timeline.KindProbe, Service: svc, Endpoint: r.Endpoint, Status: r.Status,
				LatencyMs: float64(r.Latency.Microseconds()) / 1000, OK: timeline.Bool(r.OK()), Degraded: r.Degraded, Class: r.Class, Error: r.Error})
			p.add(svc, sample{at: r.Time, ok: r.OK(), latency: r.Latency})
			p.add(r.Endpoint, sample{at: r.Time, ok: r.OK(), latency: r.Latency})
		})
	}()
	return p
}

// Via is a route to the probed endpoints other than straight from here:
// its transports on kept-alive connections and on a new one per request.
type Via struct {
	Kept, Fresh http.RoundTripper
	// Name says the route in the report.
	Name string
}

// mixed sends a share of each endpoint's requests on kept-alive
// connections and the others on a new connection each, spread evenly (each
// request's place in its endpoint's run of 100 decides).
type mixed struct {
	share       float64
	kept, fresh http.RoundTripper
	mu          sync.Mutex
	n           map[string]uint64 // requests so far per URL
}

func (m *mixed) RoundTrip(r *http.Request) (*http.Response, error) {
	if m.turn(r.URL.String()) {
		return m.kept.RoundTrip(r)
	}
	return m.fresh.RoundTrip(r)
}

// turn reports whether the next request to url goes on a kept-alive connection.
func (m *mixed) turn(url string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == nil {
		m.n = map[string]uint64{}
	}
	i := m.n[url]
	m.n[url]++
	return keepAliveTurn(i, m.share)
}

// keepAliveTurn reports whether the i-th request goes on a kept-alive
// connection: share x 100 of every 100, spread by Bresenham's rule.
func keepAliveTurn(i uint64, share float64) bool {
	k := uint64(math.Round(share * 100))
	j := i % 100
	return (j+1)*k/100 > j*k/100
}

func (p *Probes) add(key string, s sample) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !strings.Contains(key, " ") { // once per probe, under its service
		p.count++
	}
	list := append(p.recent[key], s)
	cut := 0
	for cut < len(list) && s.at.Sub(list[cut].at) > keep {
		cut++
	}
	p.recent[key] = list[cut:]
}

// Stop stops probing and waits for requests in flight.
func (p *Probes) Stop() {
	p.cancel()
	<-p.done
	p.mu.Lock()
	p.stopped = time.Now()
	p.mu.Unlock()
}

// Window is what a service's probes saw over a span of time.
type Window struct {
	Total, OK int
	P95       time.Duration
}

// Ratio is the share of probes that succeeded; 0 with no probes.
func (w Window) Ratio() float64 {
	if w.Total == 0 {
		return 0
	}
	return float64(w.OK) / float64(w.Total)
}

// Last is what a service's probes saw during the last d.
func (p *Probes) Last(service string, d time.Duration) Window {
	p.mu.Lock()
	defer p.mu.Unlock()
	since := time.Now().Add(-d)
	var w Window
	var lat []time.Duration
	for _, s := range p.recent[service] {
		if s.at.Before(since) {
			continue
		}
		w.Total++
		if s.ok {
			w.OK++
		}
		lat = append(lat, s.latency)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		w.P95 = lat[(len(lat)*95+99)/100-1]
	}
	return w
}

// Rate is the requests per second achieved so far, over every endpoint.
func (p *Probes) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	end := p.stopped
	if end.IsZero() {
		end = time.Now()
	}
	secs := end.Sub(p.started).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(p.count) / secs
}
