package reports

import (
	"strings"
	"testing"
)

func TestGate(t *testing.T) {
	shared, separate := goldenReports(t) // 74.6 and a higher score; each fails one objective
	if why := Gate(separate, separate, 0); len(why) != 0 {
		t.Errorf("a report against itself regressed: %v", why)
	}
	if why := Gate(shared, shared, 0); len(why) != 0 {
		t.Errorf("a report against itself regressed: %v", why)
	}
	drop := separate.Score - shared.Score
	why := Gate(shared, separate, drop-0.1)
	if len(why) != 2 || !strings.HasPrefix(why[0], "score dropped") ||
		!strings.Contains(why[1], `objective "frontend: 99% of requests succeed`) {
		t.Errorf("gate of shared against separate: %q", why)
	}
	// Within the allowed drop only the objective counts.
	if why := Gate(shared, separate, drop); len(why) != 1 {
		t.Errorf("allowed drop: %q", why)
	}
	// A drop of exactly the allowed points passes, whatever the floats say.
	a, b := &Report{Score: 64.4, Topology: "x"}, &Report{Score: 59.4, Topology: "x"}
	if why := Gate(b, a, 5); len(why) != 0 {
		t.Errorf("64.4 -> 59.4 with 5 allowed: %q", why)
	}
	if why := Gate(b, a, 4.9); len(why) != 1 {
		t.Errorf("64.4 -> 59.4 with 4.9 allowed: %q", why)
	}
	// Better than the baseline: no regression, even with objectives failing
	// that failed there too.
	if why := Gate(separate, shared, 0); len(why) != 1 || !strings.Contains(why[0], `"api: 99%`) {
		t.Errorf("separate against shared: %q (api passed on shared and fails on separate)", why)
	}
}
