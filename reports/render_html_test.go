package reports

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"gameday.dev/gameday/scenarios/timeline"
)

func writeHTML(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func writeCompareHTML(t *testing.T, c *Comparison) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteCompareHTML(&b, c); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestHTMLGolden(t *testing.T) {
	shared, separate := goldenReports(t)
	page := writeHTML(t, shared)
	checkPage(t, "report.html", page, "availability", "lanes", "score")
	golden(t, "report.html", []byte(page))

	page = writeCompareHTML(t, Compare([]*Report{shared, separate}))
	checkPage(t, "compare.html", page, "score", "availability", "availability")
	golden(t, "compare.html", []byte(page))
}

// noBreach: a release and nothing else; every service stays up.
func noBreach(t *testing.T) *Report {
	t.Helper()
	s := newSynth().cluster().step(10, "release", "release", true).
		probes("frontend", -10, 60, failIn()).probes("api", -10, 60, failIn()).run(60, "recover-start")
	r, err := Build(meta(), s.es)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHTMLNoBreach(t *testing.T) {
	r := noBreach(t)
	page := writeHTML(t, r)
	checkPage(t, "no breach", page, "availability", "lanes", "score")
	if !strings.Contains(page, "No service breached its objective") {
		t.Error("the page does not say that nothing breached")
	}
	if strings.Contains(page, `class="callout"`) {
		t.Error("a control-plane callout without a control-plane change")
	}
	checkPage(t, "no breach compared", writeCompareHTML(t, Compare([]*Report{r})), "score", "availability")
}

func TestHTMLEmpty(t *testing.T) {
	// A report with nothing in it (a hand-edited report.json) still renders.
	page := writeHTML(t, &Report{Scenario: "empty", Topology: "none", Aborted: "interrupted"})
	checkPage(t, "empty", page, "availability", "lanes", "score")
	if !strings.Contains(page, "<strong>Aborted:</strong> interrupted") {
		t.Error("no aborted note")
	}
	checkPage(t, "empty compared", writeCompareHTML(t, &Comparison{}), "score")
}

func TestHTMLControlPlaneCallout(t *testing.T) {
	shared, _ := goldenReports(t)
	page := writeHTML(t, shared)
	// html/template writes "+" as "&#43;".
	callout := `<div class="callout">The control plane was upgraded at &#43;0:00, 20 s before the first breach (frontend).</div>`
	i, j := strings.Index(page, callout), strings.Index(page, "<th>by automation rule</th>")
	if i < 0 || j < 0 || i > j {
		t.Errorf("want the control-plane callout above the changes table: callout at %d, table at %d", i, j)
	}
	if !strings.Contains(page, `<tr class="cp"><td class="n">&#43;0:00</td><td>control-plane-upgrade</td>`) {
		t.Error("the control-plane change's row is not marked")
	}
	if !strings.Contains(page, `<line class="step cp"`) {
		t.Error("the control-plane upgrade's step line is not marked")
	}
}

func TestHTMLEscapes(t *testing.T) {
	r := noBreach(t)
	r.Scenario = `<script>alert("x")</script>`
	r.Services[0].Name = `<b onclick=x>`
	r.Explanation = []string{"pool `<b>` & `app`"}
	page := writeHTML(t, r)
	checkPage(t, "escaped", page, "availability", "lanes", "score")
	if strings.Contains(page, "<b onclick") {
		t.Error("a service name is not escaped")
	}
	if !strings.Contains(page, "<li>pool <code>&lt;b&gt;</code> &amp; <code>app</code></li>") {
		t.Errorf("explanation not escaped with code spans:\n%s", page[strings.Index(page, "<h2>Why"):][:200])
	}
}

func TestHTMLLongNames(t *testing.T) {
	r := noBreach(t)
	long := strings.Repeat("n", 80)
	r.Nodes[0].Name = long
	page := writeHTML(t, r)
	checkPage(t, "long names", page, "availability", "lanes", "score")
	keep := int(math.Floor((maxLeft-16)/labelCharW)) - 1 - len("app/") // what the widest margin holds, the ellipsis aside
	if !strings.Contains(page, `class="name">app/`+strings.Repeat("n", keep)+"…</text>") {
		t.Error("a long node name is not cut to the margin")
	}
	if !strings.Contains(page, "<title>app/"+long+" ready") {
		t.Error("a long node name's tooltip is not whole")
	}
	if regexp.MustCompile(`x="-`).MatchString(page) {
		t.Error("something is drawn left of the chart")
	}
}

func TestHTMLBusinessWindows(t *testing.T) {
	m := meta()
	m.BusinessWindows = []timeline.BusinessWindow{
		{Name: "checkout", Service: "frontend", Start: timeline.Duration(15 * time.Second), End: timeline.Duration(40 * time.Second)},
		{Name: "late", Service: "api", Start: timeline.Duration(50 * time.Second), End: timeline.Duration(90 * time.Second)},
	}
	r := build(t, oneOutage(), m)
	page := writeHTML(t, r)
	checkPage(t, "business windows", page, "availability", "lanes", "score")
	// x of 15 s, 40 s and 60 s (the end of the span) on the golden scale.
	fr := newTimeScale(r.SpanSeconds, labelsOf([]*Report{r}, true))
	for _, w := range [][2]float64{{15, 40}, {50, 60}} {
		want := fmt.Sprintf(`<rect class="bw" x="%s" `, fr.x(w[0]))
		if !strings.Contains(page, want) {
			t.Errorf("no business window shaded from %v s (%s)", w[0], want)
		}
		if !strings.Contains(page, fmt.Sprintf(`width="%s"`, fr.x(w[1])-fr.x(w[0]))) {
			t.Errorf("business window from %v s: no width %s", w[0], fr.x(w[1])-fr.x(w[0]))
		}
	}
	if !strings.Contains(page, "<h3>Business windows</h3>") {
		t.Error("no business windows table")
	}
}

// TestStagger: crowded labels never overlap; where there is room (labels
// to the right of their lines) no line crosses another label either.
func TestStagger(t *testing.T) {
	for _, c := range []struct {
		xs        []float64
		crossFree bool
	}{
		{[]float64{100, 100, 100, 101, 140, 180, 400, 410}, true},
		{[]float64{0, 5, 10, 15, 20, 25, 30}, true},
		{[]float64{950, 940, 930, 500, 10, 12}, true}, // labels left of their lines near the edge
		{[]float64{823.3, 844.1, 874.4, 907.1}, true},
		{[]float64{800, 810, 820, 940, 950}, false}, // both ways round: some must cross
	} {
		var ls []*placed
		for i, x := range c.xs {
			ls = append(ls, &placed{x: x, cands: textCands(x, float64(40+10*(i%4)))})
		}
		stagger(ls)
		for i, a := range ls {
			if a.left < 0 || a.right > chartW {
				t.Errorf("%v: label at %v outside the chart: [%v, %v]", c.xs, a.x, a.left, a.right)
			}
			for j, b := range ls {
				if i == j {
					continue
				}
				if a.row == b.row && a.left < b.right && b.left < a.right {
					t.Errorf("%v: labels at %v and %v overlap in row %d", c.xs, a.x, b.x, a.row)
				}
				if c.crossFree && a.row > b.row && a.x > b.left && a.x < b.right {
					t.Errorf("%v: the line at %v crosses the label at %v", c.xs, a.x, b.x)
				}
			}
		}
	}
}

var svgOpen = regexp.MustCompile(`<svg[ >]`)

// checkPage checks that a page is self-contained, balanced in its SVGs and
// holds the charts named (in order), each drawing something.
func checkPage(t *testing.T, name, page string, charts ...string) {
	t.Helper()
	for _, bad := range []string{"http://", "https://", "src=", "<script", "<link", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("%s: not self-contained: holds %q", name, bad)
		}
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(page, "</html>\n") {
		t.Errorf("%s: not one whole HTML document", name)
	}
	opens, closes := len(svgOpen.FindAllStringIndex(page, -1)), strings.Count(page, "</svg>")
	if opens != closes || opens != len(charts) {
		t.Fatalf("%s: %d <svg, %d </svg>; want %d charts", name, opens, closes, len(charts))
	}
	rest := page
	for _, kind := range charts {
		i := strings.Index(rest, `<svg class="chart" data-chart="`+kind+`" role="img" aria-label="`)
		if i < 0 {
			t.Errorf("%s: no %s chart", name, kind)
			return
		}
		svg := rest[i : i+strings.Index(rest[i:], "</svg>")]
		if !strings.Contains(svg, "<path ") && !strings.Contains(svg, "<rect ") && !strings.Contains(svg, "<line ") {
			t.Errorf("%s: the %s chart draws nothing", name, kind)
		}
		if strings.Contains(svg, `width="0.0"`) || strings.Contains(svg, `height="0.0"`) {
			t.Errorf("%s: the %s chart has a zero size", name, kind)
		}
		rest = rest[i+len(svg):]
	}
}

// TestHTMLRecorded renders the recorded cascading-outage runs: real steps,
// automation and node churn, and a page well under 200 KB.
func TestHTMLRecorded(t *testing.T) {
	rs := recordedReports(t)
	for _, r := range rs {
		page := writeHTML(t, r)
		checkPage(t, r.Topology, page, "availability", "lanes", "score")
		if len(page) > 100_000 {
			t.Errorf("%s: the page is %d bytes", r.Topology, len(page))
		}
	}
	checkPage(t, "recorded comparison", writeCompareHTML(t, Compare(rs)), "score", "availability", "availability")
}
