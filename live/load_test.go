//go:build load

// The live page's load test (not part of make test): `make load-live`.
//
// A server in its own process replays a whole recorded game at its own pace
// (testdata/game-separate: the e2e's game on separate, from setup to
// recovery; another run's folder with -live.run=DIR), as `gameday play --ui`
// serves it, and
// 50 viewers watch it over server-sent events. One viewer drops a third of
// the way through and comes back 5 s later with Last-Event-ID. Measured:
// the server process's CPU and peak memory, each event's lag from its
// publication to its arrival at each viewer; checked: every viewer got
// every event once, in order, the one that dropped included.
package live

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios/timeline"
)

var (
	loadRun     = flag.String("live.run", "testdata/game-separate", "a run's folder: run.json and timeline.jsonl (or .gz)")
	loadViewers = flag.Int("live.viewers", 50, "simultaneous viewers")
	loadOut     = flag.String("live.out", "../_artifacts/live-load.json", "where the figures are written")
)

func TestMain(m *testing.M) {
	if dir := os.Getenv("GAMEDAY_LIVE_SERVE"); dir != "" {
		if err := serveRecorded(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func readRun(dir string) (timeline.Meta, []timeline.Entry, error) {
	meta, err := timeline.ReadMeta(dir)
	if err != nil {
		return meta, nil, err
	}
	var r io.Reader
	f, err := os.Open(filepath.Join(dir, "timeline.jsonl"))
	if err != nil {
		if f, err = os.Open(filepath.Join(dir, "timeline.jsonl.gz")); err != nil {
			return meta, nil, err
		}
		if r, err = gzip.NewReader(f); err != nil {
			return meta, nil, err
		}
	} else {
		r = f
	}
	defer f.Close()
	es, err := timeline.Read(r)
	return meta, es, err
}

// serveRecorded is the server process: the run's entries fed at their own
// pace, restamped from now, a state each second, then the debrief.
func serveRecorded(dir string) error {
	meta, es, err := readRun(dir)
	if err != nil {
		return err
	}
	tok, err := NewTokens()
	if err != nil {
		return err
	}
	info := Info{Scenario: meta.Scenario, Topology: meta.Topology, Cluster: meta.Cluster, Game: meta.TimeLimit > 0, Journeys: meta.Journeys}
	s := NewServer(info, meta, tok)
	ln, _, err := Listen("")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Serve(ctx, ln) }()
	go s.Run(ctx)
	fmt.Printf("ADDR %s %s\n", ln.Addr(), tok[Observer])
	start, origin := time.Now(), es[0].Time
	for _, e := range es {
		due := start.Add(e.Time.Sub(origin))
		time.Sleep(time.Until(due))
		e.Time = due
		s.Feed(e)
	}
	s.Tick(time.Now())
	r, err := reports.Build(meta, es)
	var html strings.Builder
	if err == nil {
		err = reports.WriteHTML(&html, r)
	}
	if err != nil {
		return err
	}
	s.SetDebrief([]byte(html.String()))
	fmt.Printf("DONE %d\n", s.Hub().Last())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the test is done
	return nil
}

type viewer struct {
	ids  []int64
	lags []time.Duration
	err  error
}

// watch reads the stream from after last until it has seen upTo (0: until
// stop closes), appending what it gets.
func (v *viewer) watch(ctx context.Context, url, token string, last int64, upTo func() int64) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if last > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(last, 10))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			v.err = err
		}
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	var id int64
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "id: "):
			id, _ = strconv.ParseInt(l[4:], 10, 64)
		case strings.HasPrefix(l, "data: "):
			var d struct {
				At int64 `json:"at"`
			}
			if err := json.Unmarshal([]byte(l[6:]), &d); err != nil {
				v.err = err
				return
			}
			v.ids = append(v.ids, id)
			v.lags = append(v.lags, time.Since(time.UnixMilli(d.At)))
			if n := upTo(); n > 0 && id >= n {
				return
			}
		}
	}
}

func procStat(pid int) (cpu time.Duration, peakRSS int64) {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		cpu = time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ 100
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				peakRSS = kb * 1024
			}
		}
	}
	return cpu, peakRSS
}

func TestLoad(t *testing.T) {
	dir, err := filepath.Abs(*loadRun)
	if err != nil {
		t.Fatal(err)
	}
	srv := exec.Command(os.Args[0], "-test.run=^$")
	srv.Env = append(os.Environ(), "GAMEDAY_LIVE_SERVE="+dir)
	stdin, _ := srv.StdinPipe()
	stdout, _ := srv.StdoutPipe()
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = srv.Wait() }()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatal("the server said nothing")
	}
	f := strings.Fields(lines.Text())
	url, token := "http://"+f[1]+"/events", f[2]
	began := time.Now()
	cpu0, _ := procStat(srv.Process.Pid)

	var mu sync.Mutex
	var last int64 // the server's last event, once it is done
	upTo := func() int64 { mu.Lock(); defer mu.Unlock(); return last }
	done := make(chan struct{})
	go func() {
		for lines.Scan() {
			if n, ok := strings.CutPrefix(lines.Text(), "DONE "); ok {
				v, _ := strconv.ParseInt(n, 10, 64)
				mu.Lock()
				last = v
				mu.Unlock()
				close(done)
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	viewers := make([]*viewer, *loadViewers)
	var wg sync.WaitGroup
	for i := range viewers {
		v := &viewer{}
		viewers[i] = v
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i != 0 {
				v.watch(ctx, url, token, 0, upTo)
				return
			}
			// Viewer 0 drops a third of the way through, and comes back.
			dctx, drop := context.WithTimeout(ctx, 60*time.Second)
			v.watch(dctx, url, token, 0, upTo)
			drop()
			v.err = nil
			time.Sleep(5 * time.Second)
			v.watch(ctx, url, token, v.ids[len(v.ids)-1], upTo)
		}()
	}
	// Sample the server while the run plays.
	var peak int64
	stopSampling := make(chan struct{})
	go func() {
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tk.C:
				if _, rss := procStat(srv.Process.Pid); rss > peak {
					peak = rss
				}
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Minute):
		t.Fatal("the run did not end")
	}
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		cancel()
		<-waited
	}
	wall := time.Since(began)
	cpu1, rss := procStat(srv.Process.Pid)
	close(stopSampling)
	peak = max(peak, rss)

	var lags []time.Duration
	for i, v := range viewers {
		if v.err != nil {
			t.Errorf("viewer %d: %v", i, v.err)
		}
		if len(v.ids) != int(last) {
			t.Errorf("viewer %d got %d events of %d", i, len(v.ids), last)
		}
		for j, id := range v.ids {
			if id != int64(j+1) {
				t.Fatalf("viewer %d: event %d has ID %d (a gap or a repeat)", i, j, id)
			}
		}
		// The reconnecting viewer's catch-up is not lag: count live events only.
		if i != 0 {
			lags = append(lags, v.lags...)
		}
	}
	slices.Sort(lags)
	pct := func(p float64) time.Duration {
		if len(lags) == 0 {
			return 0
		}
		return lags[int(p*float64(len(lags)-1))]
	}
	res := map[string]any{
		"run": dir, "viewers": *loadViewers, "events": last, "wall_seconds": wall.Seconds(),
		"server_cpu_seconds": (cpu1 - cpu0).Seconds(), "server_cpu_share_of_a_core": (cpu1 - cpu0).Seconds() / wall.Seconds(),
		"server_peak_rss_mib": float64(peak) / (1 << 20),
		"lag_p50_ms":          pct(0.5).Seconds() * 1000, "lag_p99_ms": pct(0.99).Seconds() * 1000, "lag_max_ms": pct(1).Seconds() * 1000,
		"reconnected_viewer_events": len(viewers[0].ids),
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	t.Logf("%s", b)
	if *loadOut != "" {
		_ = os.MkdirAll(filepath.Dir(*loadOut), 0o755)
		_ = os.WriteFile(*loadOut, append(b, '\n'), 0o644)
	}
}
