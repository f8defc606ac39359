package reports

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// burnAlert is one pair of a multi-window, multi-burn-rate alert (the SRE
// workbook's "alerting on SLOs", its recommended paging pairs): it fires
// when the error budget burns at least factor times as fast as the
// objective allows over both the long and the short window, in buckets.
type burnAlert struct {
	long, short int
	factor      float64
	longStory   time.Duration
	shortStory  time.Duration
}

// pages are the workbook's two paging pairs, in story time.
var pages = []struct {
	long, short time.Duration
	factor      float64
}{
	{time.Hour, 5 * time.Minute, 14.4},   // 2% of a 30-day budget in an hour
	{6 * time.Hour, 30 * time.Minute, 6}, // 5% of it in six hours
}

// burnAlerts scales the pages' windows to run time by the story scale (one
// minute of run time stands for scale minutes of the story), at least one
// bucket each. Ordered by long window, shortest first.
func burnAlerts(scale float64) []burnAlert {
	if scale <= 0 {
		scale = 1
	}
	var out []burnAlert
	for _, p := range pages {
		long := max(1, int(math.Round(p.long.Seconds()/scale/Bucket.Seconds())))
		short := max(1, int(math.Round(p.short.Seconds()/scale/Bucket.Seconds())))
		out = append(out, burnAlert{long: long, short: short, factor: p.factor, longStory: p.long, shortStory: p.short})
	}
	return out
}

// describeAlerts says what the detection alert is, for the report.
func describeAlerts(as []burnAlert, scale float64) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("%gx over both %s and %s (%s and %s of story time)", a.factor,
			seconds(float64(a.long)*Bucket.Seconds()), seconds(float64(a.short)*Bucket.Seconds()), storyDur(a.longStory), storyDur(a.shortStory)))
	}
	s := "a page from a multi-window burn-rate alert on the probes' error budget: burning " + strings.Join(parts, ", or ")
	if scale > 0 {
		s += fmt.Sprintf(", windows scaled by the story scale %g", scale)
	}
	return s
}

func storyDur(d time.Duration) string {
	if d >= time.Hour {
		return fmt.Sprintf("%g h", d.Hours())
	}
	return fmt.Sprintf("%g min", d.Minutes())
}

// alertAt is the first bucket of b, from from on, at which a page would
// have fired for an objective of ratio slo; -1 if none did. before holds the
// buckets just before b (the longest window's worth), so that a window
// looks back past the span's start as an alert on live traffic would.
func alertAt(before, b []probeCount, from int, slo float64, as []burnAlert) int {
	all := append(append([]probeCount{}, before...), b...)
	n := make([]int, len(all)+1)
	bad := make([]int, len(all)+1)
	for i, pc := range all {
		n[i+1] = n[i] + pc.n
		bad[i+1] = bad[i] + pc.bad
	}
	burn := func(j, k int) float64 {
		lo := max(0, j-k+1)
		total, errs := n[j+1]-n[lo], bad[j+1]-bad[lo]
		switch {
		case total == 0 || errs == 0:
			return 0
		case slo >= 1:
			return math.Inf(1)
		}
		return float64(errs) / float64(total) / (1 - slo)
	}
	for i := max(0, from); i < len(b); i++ {
		j := i + len(before)
		for _, a := range as {
			if burn(j, a.long) >= a.factor && burn(j, a.short) >= a.factor {
				return i
			}
		}
	}
	return -1
}
