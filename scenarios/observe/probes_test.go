package observe

import "testing"

// A share of probes on kept-alive connections, spread evenly over every 100.
func TestKeepAliveTurn(t *testing.T) {
	for _, tc := range []struct {
		share float64
		want  int
	}{{0, 0}, {0.3, 30}, {0.5, 50}, {1, 100}} {
		got, run, longest := 0, 0, 0
		for i := uint64(0); i < 1000; i++ {
			if keepAliveTurn(i, tc.share) {
				got++
				run = 0
			} else if run++; run > longest {
				longest = run
			}
		}
		if got != tc.want*10 {
			t.Errorf("share %v: %d of 1000 kept alive, want %d", tc.share, got, tc.want*10)
		}
		if tc.share > 0 && longest > int(1/tc.share)+1 {
			t.Errorf("share %v: %d new connections in a row: not spread", tc.share, longest)
		}
	}
}

// Each endpoint gets its share, whatever order endpoints are requested in.
func TestKeepAliveSharePerEndpoint(t *testing.T) {
	m := &mixed{share: 0.5}
	kept := map[string]int{}
	for i := 0; i < 600; i++ {
		url := []string{"http://h/a", "http://h/b", "http://h/c", "http://h/d", "http://h/e", "http://h/f"}[i%6]
		if m.turn(url) {
			kept[url]++
		}
	}
	for url, n := range kept {
		if n != 50 {
			t.Errorf("%s: %d of 100 kept alive, want 50", url, n)
		}
	}
	if len(kept) != 6 {
		t.Errorf("kept alive on %d endpoints of 6", len(kept))
	}
}
