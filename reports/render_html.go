package reports

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The HTML pages are html/template files embedded from html/: page.tmpl
// (both pages), charts.tmpl (the SVG charts, shared by both) and style.css
// (inlined). All geometry is computed here into small view models with
// coordinates already rounded (px prints "%.1f"), so the templates hold
// markup only and the output is byte-for-byte deterministic.

//go:embed html
var htmlFS embed.FS

var htmlPages = template.Must(template.New("").Funcs(template.FuncMap{
	"code":      codeSpans,
	"score":     ScoreText,
	"pct":       pct,
	"seconds":   seconds,
	"offset":    offset,
	"optOffset": optOffset,
	"opt":       func(f *float64) string { return optSeconds(f, "-") },
	"recovery": func(r *Report) string {
		return recoverText(r.TimeToRecoverSeconds, r.Recovered, r.FirstBreach != nil)
	},
	"utc":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"join": func(xs []string) string { return strings.Join(orNone(xs), ", ") },
	"yesNo": func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	},
	"mod4": func(i int) int { return i % 4 },
}).ParseFS(htmlFS, "html/*.tmpl", "html/*.css"))

// WriteHTML writes one run's report as a single self-contained HTML page.
func WriteHTML(w io.Writer, r *Report) error {
	fr := newTimeScale(r.SpanSeconds, labelsOf([]*Report{r}, true))
	p := reportPage{R: r, Avail: availabilityChart(r, fr), Lanes: lanesChart(r, fr),
		Score: scoreChart([]*Report{r}, fr), Breach: r.FirstBreach != nil, Callouts: controlPlaneCallouts(r)}
	if r.Team != nil && r.Team.Game {
		p.Team = teamView(r.Team)
		p.People = peopleChart(r, fr)
	}
	for _, ch := range r.ChangesInFlight {
		p.Changes = append(p.Changes, changeRow(ch))
	}
	for _, s := range r.Services {
		p.Services = append(p.Services, serviceRow(r, s))
	}
	return executeHTML(w, "report", p)
}

// WriteCompareHTML writes the side-by-side comparison as one self-contained page.
func WriteCompareHTML(w io.Writer, c *Comparison) error {
	// One x scale for every availability chart: the longest span.
	span := 0.0
	var tops []string
	for _, r := range c.Reports {
		span = math.Max(span, r.SpanSeconds)
		tops = append(tops, r.Topology)
	}
	fr := newTimeScale(span, labelsOf(c.Reports, false))
	p := comparePage{C: c, Topologies: strings.Join(tops, " vs "), Score: scoreChart(c.Reports, fr)}
	for _, r := range c.Reports {
		for _, comp := range r.Components {
			if !slices.Contains(p.Components, comp.Name) {
				p.Components = append(p.Components, comp.Name)
			}
		}
	}
	for _, r := range c.Reports {
		row := compareRow{R: r, Best: r.Topology == c.Best, Avail: availabilityChart(r, fr), Callouts: controlPlaneCallouts(r)}
		for _, name := range p.Components {
			pen := "-"
			if i := slices.IndexFunc(r.Components, func(comp Component) bool { return comp.Name == name }); i >= 0 {
				pen = fmt.Sprintf("-%.1f", r.Components[i].Penalty)
			}
			row.Penalties = append(row.Penalties, pen)
		}
		p.Rows = append(p.Rows, row)
	}
	return executeHTML(w, "compare", p)
}

// executeHTML renders into a buffer first so that a failing template never
// leaves half a page behind.
func executeHTML(w io.Writer, name string, data any) error {
	var b bytes.Buffer
	if err := htmlPages.ExecuteTemplate(&b, name, data); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

type reportPage struct {
	R        *Report
	Breach   bool
	Callouts []string
	Changes  []changeView
	Services []serviceView
	Avail    svgChart
	Lanes    svgChart
	Score    svgChart
	// A game's: the team's part and a lane per player.
	Team   *teamPage
	People svgChart
}

// teamPage is the team's part of a game's debrief, in the words of the text.
type teamPage struct {
	T                          *Team
	ScoreLine, Times           string
	Goals, Hints, Harms, Facts []string
	Players                    []playerView
}

type playerView struct {
	Line string
	Acts []string
}

func teamView(t *Team) *teamPage {
	v := &teamPage{T: t, ScoreLine: upperFirst(t.scoreLine()), Times: upperFirst(t.timesLine())}
	for _, g := range t.Goals {
		v.Goals = append(v.Goals, g.line())
	}
	for _, h := range t.HintsReleased {
		v.Hints = append(v.Hints, h.line())
	}
	for _, h := range t.Harmful {
		v.Harms = append(v.Harms, h.line())
	}
	for _, f := range t.Facts {
		v.Facts = append(v.Facts, f.line())
	}
	for _, p := range t.Players {
		pv := playerView{Line: p.line()}
		for _, a := range p.Acts {
			pv.Acts = append(pv.Acts, a.line())
		}
		v.Players = append(v.Players, pv)
	}
	return v
}

// peopleChart: a lane per player with a mark at each of their changes and
// console actions (and what reached them), then a lane of the goals reached
// and one of the hints released, over the same time axis as the nodes.
func peopleChart(r *Report, fr timeScale) svgChart {
	t := r.Team
	c := svgChart{Kind: "people", W: chartW, Label: fmt.Sprintf("What each player did, the goals reached and the hints released, over %s", seconds(math.Round(r.SpanSeconds)))}
	var labelsH float64
	c.Steps, labelsH = stepLines(r, fr)
	top := labelsH + 4
	y := top
	mark := func(at float64, class, title string) (rectView, bool) {
		if at < 0 || at > r.SpanSeconds {
			return rectView{}, false
		}
		return rectView{X: fr.x(at) - 1.5, Y: px(y + 2), W: 3, H: px(laneH - 4), Class: class, Title: title}, true
	}
	lane := func(name string, marks func() []rectView) {
		if len(c.Lanes) > 0 {
			y += laneGap
		}
		c.Lanes = append(c.Lanes, laneView{Name: textView{X: px(fr.left - 8), Y: px(y + laneH - 5), Anchor: "end", Text: rowLabel(name), Class: "name"}, States: marks()})
		y += laneH
	}
	for _, p := range t.Players {
		lane(p.Name, func() []rectView {
			var ms []rectView
			for _, a := range p.Acts {
				class := "pl-act"
				if !a.OK {
					class = "pl-refused"
				}
				if m, ok := mark(a.AtSeconds, class, offset(a.AtSeconds)+" "+a.What); ok {
					ms = append(ms, m)
				}
			}
			for _, f := range t.Facts {
				if m, ok := mark(f.AtSeconds, "pl-fact", fmt.Sprintf("%s learnt %q", offset(f.AtSeconds), f.Name)); ok && f.Player == p.Name {
					ms = append(ms, m)
				}
			}
			return ms
		})
	}
	lane("goals", func() []rectView {
		var ms []rectView
		for _, g := range t.Goals {
			if g.AtSeconds != nil {
				if m, ok := mark(*g.AtSeconds, "pl-goal", g.line()); ok {
					ms = append(ms, m)
				}
			}
		}
		return ms
	})
	lane("hints", func() []rectView {
		var ms []rectView
		for _, h := range t.HintsReleased {
			if m, ok := mark(h.AtSeconds, "pl-hint", h.line()); ok {
				ms = append(ms, m)
			}
		}
		return ms
	})
	for i := range c.Steps {
		c.Steps[i].Y1 = px(y)
	}
	c.Axis, c.Grid = timeAxis(fr, top, y)
	c.H = px(y + axisH)
	return c
}

type comparePage struct {
	C          *Comparison
	Topologies string
	Components []string // every component name, in order of first appearance
	Rows       []compareRow
	Score      svgChart
}

type compareRow struct {
	R         *Report
	Best      bool
	Penalties []string // per Components
	Callouts  []string
	Avail     svgChart
}

// controlPlaneCallouts say, for each control-plane upgrade in flight, how
// long before the first breach it came: the change nobody knew of.
func controlPlaneCallouts(r *Report) []string {
	var out []string
	for _, ch := range r.ChangesInFlight {
		if ch.ControlPlane && r.FirstBreach != nil {
			out = append(out, fmt.Sprintf("The control plane was upgraded at %s, %s before the first breach (%s).",
				offset(ch.AtSeconds), seconds(r.beforeFirstBreach(ch)), r.FirstBreach.Service))
		}
	}
	return out
}

type changeView struct {
	Change
	Before string // "20 s before frontend breached, ..."
}

func changeRow(ch Change) changeView {
	var before []string
	for _, p := range ch.Preceded {
		before = append(before, fmt.Sprintf("%s before %s breached", seconds(math.Round(p.BeforeSeconds)), p.Service))
	}
	return changeView{Change: ch, Before: strings.Join(before, ", ")}
}

type serviceView struct {
	Service
	Detect, Recover string
	Verdict         string // PASS or FAIL
}

func serviceRow(r *Report, s Service) serviceView {
	v := serviceView{Service: s, Detect: optSeconds(s.TimeToDetectSeconds, "-"),
		Recover: recoverText(s.TimeToRecoverSeconds, s.Recovered, s.FirstBreachSeconds != nil), Verdict: r.objectiveVerdict(s.Name)}
	return v
}

// codeSpans writes an explanation line as HTML, its `quoted` words as <code>.
func codeSpans(s string) template.HTML {
	var b strings.Builder
	parts := strings.Split(s, "`")
	for i, part := range parts {
		switch {
		case i%2 == 1 && i < len(parts)-1:
			b.WriteString("<code>" + template.HTMLEscapeString(part) + "</code>")
		case i%2 == 1: // after an unmatched backquote: keep it
			b.WriteString(template.HTMLEscapeString("`" + part))
		default:
			b.WriteString(template.HTMLEscapeString(part))
		}
	}
	return template.HTML(b.String())
}

// px is a coordinate or length, printed with one decimal.
type px float64

func (n px) String() string {
	if n == 0 {
		n = 0 // no "-0.0"
	}
	return strconv.FormatFloat(float64(n), 'f', 1, 64)
}

// The charts share one geometry: a fixed-width viewBox, a left margin wide
// enough for the longest row label, a right margin for the y labels.
const (
	chartW     = 960.0
	rightM     = 40.0
	maxLeft    = 300.0 // the widest left margin
	charW      = 6.5   // estimated width of a character of 11px text
	labelCharW = 7.8   // and of 12px bold text
	rowH       = 14.0  // a row of staggered labels
	bandH      = 64.0  // a service's band
	bandGap    = 16.0
	laneH      = 18.0 // a node's lane
	laneGap    = 5.0
	poolGap    = 10.0
	axisH      = 26.0
	barH       = 26.0 // a score bar
)

// timeScale maps seconds onto x: [0, span] onto [left, chartW-rightM].
type timeScale struct{ left, span float64 }

func newTimeScale(span float64, labels []string) timeScale {
	longest := 0
	for _, l := range labels {
		longest = max(longest, len([]rune(l)))
	}
	return timeScale{left: math.Min(maxLeft, math.Max(90, 16+labelCharW*float64(longest))), span: math.Max(span, 1)}
}

func (f timeScale) x(t float64) px {
	return px(f.left + math.Min(math.Max(t, 0), f.span)/f.span*(chartW-rightM-f.left))
}
func (f timeScale) right() px { return px(chartW - rightM) }

// rowLabel cuts a row label to what the widest left margin holds (its
// shapes' tooltips keep the whole name).
func rowLabel(s string) string {
	n := int(math.Floor((maxLeft - 16) / labelCharW))
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// labelsOf are the row labels the charts put in the left margin.
func labelsOf(rs []*Report, lanes bool) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Topology)
		for _, s := range r.Services {
			out = append(out, s.Name)
		}
		if lanes {
			for _, n := range r.Nodes {
				out = append(out, n.Pool+"/"+n.Name)
			}
		}
	}
	return out
}

// svgChart is one SVG chart: each kind fills the parts it draws.
type svgChart struct {
	Kind, Label string // data-chart and aria-label
	W, H        px
	Steps       []stepView
	Grid        string // vertical grid lines at the ticks, one path
	Axis        *axisView
	Bands       []bandView
	Lanes       []laneView
	Bars        []barView
	Windows     bool // business windows are shaded
}

type rectView struct {
	X, Y, W, H   px
	Class, Title string
}

type textView struct {
	X, Y         px
	Anchor, Text string
	Class        string
}

type axisView struct {
	D     string // the axis line and its tick marks
	Ticks []textView
}

type stepView struct {
	X, Y0, Y1 px
	Class     string
	Label     textView
	Title     string
}

type bandView struct {
	Name, Sub   textView
	Top, Bottom textView // "100%" and "0%"
	Frame       rectView
	States      []rectView
	Windows     []rectView
	Line        string // the answered share, a step path with gaps
}

type laneView struct {
	Name   textView
	States []rectView
}

type barView struct {
	Name, Sub textView
	Segs      []rectView
	Labels    []textView
	Leaders   string // lines from the segments down to their labels
}

// placed is a label to stagger: the x of the line that leads to it and the
// extents its text may take (right of the line first, see textCands).
type placed struct {
	x           float64
	cands       [][2]float64
	left, right float64 // the extent chosen
	row         int
}

// stagger places labels in rows, row 0 nearest the chart, each label's line
// running from the chart through the rows before its own, so that no two
// texts overlap and, wherever it can, no line crosses a text. It tries two
// orders and keeps the one with fewer crossings, then fewer rows: right to
// left with texts right of their lines (always crossing-free when every
// text fits there), and left to right with texts left of their lines (for
// labels crowded at the right edge). It returns the number of rows.
func stagger(ls []*placed) int {
	type result struct {
		at              []placed
		rows, crossings int
	}
	var best *result
	for _, leftFirst := range []bool{false, true} {
		at := make([]placed, len(ls))
		order := make([]int, len(ls))
		for i, l := range ls {
			at[i], order[i] = placed{x: l.x, cands: slices.Clone(l.cands)}, i
			if leftFirst {
				slices.Reverse(at[i].cands)
			}
		}
		slices.SortStableFunc(order, func(a, b int) int {
			if leftFirst {
				return cmpFloat(ls[a].x, ls[b].x)
			}
			return cmpFloat(ls[b].x, ls[a].x)
		})
		rows, crossings := place(at, order)
		if best == nil || crossings < best.crossings || crossings == best.crossings && rows < best.rows {
			best = &result{at, rows, crossings}
		}
	}
	for i, l := range ls {
		l.left, l.right, l.row = best.at[i].left, best.at[i].right, best.at[i].row
	}
	return best.rows
}

// place puts each label, in order, in the first row (trying its extents in
// turn) where its text overlaps no text or line and its line crosses no
// text; failing that, in a new row, crossing. It returns the rows used and
// the labels that had to cross.
func place(at []placed, order []int) (rows, crossings int) {
	fits := func(l *placed, c [2]float64, row int, done []*placed) bool {
		for _, p := range done {
			switch {
			case p.row == row && c[0] < p.right+6 && p.left < c[1]+6:
				return false // texts overlap
			case p.row > row && p.x > c[0]-1 && p.x < c[1]+1:
				return false // its line would cross this text
			case p.row < row && l.x > p.left-1 && l.x < p.right+1:
				return false // this line would cross its text
			}
		}
		return true
	}
	var done []*placed
	for _, i := range order {
		l := &at[i]
		l.row, l.left, l.right = -1, l.cands[0][0], l.cands[0][1]
	try:
		for _, c := range l.cands {
			for row := 0; row <= rows; row++ {
				if fits(l, c, row, done) {
					l.row, l.left, l.right = row, c[0], c[1]
					break try
				}
			}
		}
		if l.row < 0 {
			l.row = rows
			crossings++
		}
		rows = max(rows, l.row+1)
		done = append(done, l)
	}
	return rows, crossings
}

// textCands are the extents of a text of width w beside a line at x: to its
// right, else to its left, within the chart.
func textCands(x, w float64) [][2]float64 {
	var out [][2]float64
	if x+3+w <= chartW {
		out = append(out, [2]float64{x + 3, x + 3 + w})
	}
	if x-3-w >= 0 {
		out = append(out, [2]float64{x - 3 - w, x - 3})
	}
	if len(out) == 0 {
		out = append(out, [2]float64{x + 3, x + 3 + w})
	}
	return out
}

// labelAt is the text for a placed label at baseline y.
func labelAt(l *placed, y float64, text, class string) textView {
	if l.left >= l.x {
		return textView{X: px(l.left), Y: px(y), Anchor: "start", Text: text, Class: class}
	}
	return textView{X: px(l.right), Y: px(y), Anchor: "end", Text: text, Class: class}
}

// stepLines draws r's steps as dashed vertical lines with their names
// staggered in rows above the chart, from y = 0. It returns the lines, whose bottom
// (Y1) the caller sets, and the height the rows of names take.
func stepLines(r *Report, fr timeScale) ([]stepView, float64) {
	var out []stepView
	var ls []*placed
	for _, st := range r.Steps {
		x := float64(fr.x(st.AtSeconds))
		text := st.Step
		if st.Blocked {
			text += " (blocked)"
		}
		ls = append(ls, &placed{x: x, cands: textCands(x, charW*float64(len([]rune(text))))})
		class := "step"
		switch {
		case st.Action == "control-plane-upgrade":
			class += " cp"
		case st.Rule != "":
			class += " auto"
		}
		title := fmt.Sprintf("%s %s [%s]", offset(st.AtSeconds), st.Step, st.Action)
		if st.Rule != "" {
			title += " by automation rule " + st.Rule
		}
		if st.Blocked {
			title += ", blocked"
		}
		out = append(out, stepView{X: px(x), Class: class, Title: title, Label: textView{Text: text, Class: class}})
	}
	rows := stagger(ls)
	for i, l := range ls {
		y := rowH*float64(rows-l.row) - 3 // row 0 is the lowest
		out[i].Label = labelAt(l, y, out[i].Label.Text, out[i].Class)
		out[i].Y0 = px(y - 9) // the line runs up beside its name
	}
	return out, rowH * float64(rows)
}

// timeAxis draws the time axis at y, ticks every 10 s or more so that there are
// at most 15, labelled "+0:30"; grid is the matching vertical lines from top.
func timeAxis(fr timeScale, top, y float64) (*axisView, string) {
	step := 3600.0
	for _, s := range []float64{10, 30, 60, 120, 300, 600, 1800} {
		if fr.span/s <= 15 {
			step = s
			break
		}
	}
	var ts []float64
	var labels []string
	for t := 0.0; t <= fr.span+1e-9; t += step {
		ts = append(ts, float64(fr.x(t)))
		labels = append(labels, offset(t))
	}
	return axisTicks(float64(fr.x(0)), float64(fr.right()), top, y, ts, labels)
}

// axisTicks draws an axis at y from x0 to x1 with tick marks and labels at xs,
// and grid lines at xs from top down to the axis.
func axisTicks(x0, x1, top, y float64, xs []float64, labels []string) (*axisView, string) {
	a := &axisView{}
	var d, grid strings.Builder
	fmt.Fprintf(&d, "M%s %sH%s", px(x0), px(y), px(x1))
	for i, x := range xs {
		fmt.Fprintf(&d, "M%s %sv4", px(x), px(y))
		fmt.Fprintf(&grid, "M%s %sV%s", px(x), px(top), px(y))
		a.Ticks = append(a.Ticks, textView{X: px(x), Y: px(y + 16), Anchor: "middle", Text: labels[i]})
	}
	a.D = d.String()
	return a, grid.String()
}

// stateClass is the CSS class of a state: sv- for services, nd- for nodes.
func stateClass(prefix, state string) string {
	switch state {
	case StateOK, StateDegraded, StateDown, StateNoData,
		NodeReady, NodeCordoned, NodeNotReady, NodeOutOfService, NodeGone:
		return prefix + state
	}
	return prefix + "other"
}

// spanRects draws state spans as rectangles, cut at the end of the span.
func spanRects(fr timeScale, ss []Span, end float64, prefix, who string, y, h float64) []rectView {
	var out []rectView
	for _, s := range ss {
		x0, x1 := fr.x(s.From), fr.x(math.Min(s.To, end))
		if x1 <= x0 {
			continue
		}
		out = append(out, rectView{X: x0, Y: px(y), W: x1 - x0, H: px(h), Class: stateClass(prefix, s.State),
			Title: fmt.Sprintf("%s %s %s to %s", who, s.State, offset(s.From), offset(s.To))})
	}
	return out
}

// availabilityChart: one band per service, shaded by its states, with the
// share of probes answered per bucket as a step line (gaps where no probe
// ran), business windows outlined, and the steps across every band.
func availabilityChart(r *Report, fr timeScale) svgChart {
	c := svgChart{Kind: "availability", Label: fmt.Sprintf("Availability of %s per service over %s, with the steps of the scenario", r.Topology, seconds(math.Round(r.SpanSeconds)))}
	n := max(1, len(r.Services))
	var labelsH float64
	c.Steps, labelsH = stepLines(r, fr)
	top := labelsH + 4
	bottom := top + float64(n)*(bandH+bandGap) - bandGap
	for i := range c.Steps {
		c.Steps[i].Y1 = px(bottom)
	}
	c.Axis, c.Grid = timeAxis(fr, top, bottom)
	c.H = px(bottom + axisH)
	c.W = chartW
	windows := bizWindows(r)
	bucket := r.BucketSeconds
	if bucket <= 0 {
		bucket = Bucket.Seconds()
	}
	for i, s := range r.Services {
		y := top + float64(i)*(bandH+bandGap)
		mid := y + bandH/2
		b := bandView{
			Name:   textView{X: px(fr.left - 8), Y: px(mid - 2), Anchor: "end", Text: rowLabel(s.Name), Class: "name"},
			Sub:    textView{X: px(fr.left - 8), Y: px(mid + 12), Anchor: "end", Text: pct(s.Availability) + " answered", Class: "sub"},
			Top:    textView{X: fr.right() + 4, Y: px(y + 9), Anchor: "start", Text: "100%", Class: "sub"},
			Bottom: textView{X: fr.right() + 4, Y: px(y + bandH), Anchor: "start", Text: "0%", Class: "sub"},
			Frame:  rectView{X: fr.x(0), Y: px(y), W: fr.x(r.SpanSeconds) - fr.x(0), H: bandH, Class: "frame"},
			States: spanRects(fr, s.States, r.SpanSeconds, "sv-", s.Name, y, bandH),
		}
		for _, w := range windows {
			if w.service == s.Name {
				b.Windows = append(b.Windows, rectView{X: fr.x(w.from), Y: px(y), W: fr.x(w.to) - fr.x(w.from), H: bandH, Class: "bw", Title: w.title})
				c.Windows = true
			}
		}
		// The line keeps 3 px off the band's edges so that 100% and 0% show.
		yOf := func(v float64) float64 { return y + 3 + (1-v)*(bandH-6) }
		var d strings.Builder
		pen, lastY, curX := false, 0.0, px(0)
		for j, v := range s.Series {
			from := float64(j) * bucket
			if from >= r.SpanSeconds {
				break
			}
			if v < 0 {
				if pen {
					fmt.Fprintf(&d, "H%s", curX)
				}
				pen = false
				continue
			}
			vy := yOf(math.Min(1, v))
			switch {
			case !pen:
				fmt.Fprintf(&d, "M%s %.1f", fr.x(from), vy)
				pen = true
			case vy != lastY:
				fmt.Fprintf(&d, "H%sV%.1f", curX, vy)
			}
			lastY, curX = vy, fr.x(math.Min(from+bucket, r.SpanSeconds))
		}
		if pen {
			fmt.Fprintf(&d, "H%s", curX)
		}
		b.Line = d.String()
		c.Bands = append(c.Bands, b)
	}
	if len(r.Services) == 0 {
		c.Bands = []bandView{{Name: textView{X: px(fr.left - 8), Y: px(top + bandH/2), Anchor: "end", Text: "no services", Class: "sub"},
			Frame: rectView{X: fr.x(0), Y: px(top), W: fr.right() - fr.x(0), H: bandH, Class: "frame"}}}
	}
	return c
}

type bizWindow struct {
	service, title string
	from, to       float64
}

func bizWindows(r *Report) []bizWindow {
	var out []bizWindow
	for _, v := range r.BusinessWindows {
		if v.FromSeconds == nil || v.ToSeconds == nil {
			continue
		}
		from, to := *v.FromSeconds, math.Min(*v.ToSeconds, r.SpanSeconds)
		if to > from {
			out = append(out, bizWindow{service: v.Service, from: from, to: to, title: fmt.Sprintf("business window %s: %s %s", v.Name, passFail(v.Passed), v.Message)})
		}
	}
	return out
}

// lanesChart: one lane per node, grouped by pool, coloured by its states.
func lanesChart(r *Report, fr timeScale) svgChart {
	c := svgChart{Kind: "lanes", W: chartW, Label: fmt.Sprintf("Node states of %s by pool over %s, with the steps of the scenario", r.Topology, seconds(math.Round(r.SpanSeconds)))}
	nodes := slices.Clone(r.Nodes)
	slices.SortStableFunc(nodes, func(a, b NodeLane) int { return strings.Compare(a.Pool, b.Pool) })
	var labelsH float64
	c.Steps, labelsH = stepLines(r, fr)
	top := labelsH + 4
	y := top
	for i, n := range nodes {
		if i > 0 {
			y += laneGap
			if n.Pool != nodes[i-1].Pool {
				y += poolGap
			}
		}
		who := n.Pool + "/" + n.Name
		c.Lanes = append(c.Lanes, laneView{Name: textView{X: px(fr.left - 8), Y: px(y + laneH - 5), Anchor: "end", Text: rowLabel(who), Class: "name"},
			States: spanRects(fr, n.States, r.SpanSeconds, "nd-", who, y, laneH)})
		y += laneH
	}
	if len(nodes) == 0 {
		c.Lanes = []laneView{{Name: textView{X: px(fr.left - 8), Y: px(y + laneH - 5), Anchor: "end", Text: "no nodes seen", Class: "sub"}}}
		y += laneH
	}
	for i := range c.Steps {
		c.Steps[i].Y1 = px(y)
	}
	c.Axis, c.Grid = timeAxis(fr, top, y)
	c.H = px(y + axisH)
	return c
}

// scoreChart: per report a bar of 100 split into the score and each
// component's penalty. A label that fits goes inside its segment, the others
// are staggered under the bar with leader lines.
func scoreChart(rs []*Report, fr timeScale) svgChart {
	c := svgChart{Kind: "score", W: chartW, Label: "Score out of 100 and the penalty of each component"}
	if len(rs) > 1 {
		c.Label = "Scores out of 100 side by side, split into the penalty of each component"
	}
	unit := (float64(fr.right()) - fr.left) / 100
	y := 8.0
	for _, r := range rs {
		b := barView{Name: textView{X: px(fr.left - 8), Y: px(y + barH/2 - 1), Anchor: "end", Text: rowLabel(r.Topology), Class: "name"},
			Sub: textView{X: px(fr.left - 8), Y: px(y + barH/2 + 12), Anchor: "end", Text: ScoreText(r.Score) + "/100", Class: "sub"}}
		type seg struct {
			class, text, title string
			v                  float64
		}
		segs := []seg{{"seg-score", "score " + ScoreText(r.Score), "score " + ScoreText(r.Score) + " of 100", r.Score}}
		for i, comp := range r.Components {
			segs = append(segs, seg{fmt.Sprintf("seg-pen%d", i%4), fmt.Sprintf("%s -%.1f", comp.Name, comp.Penalty),
				fmt.Sprintf("%s: -%.1f (%.0f x %s): %s", comp.Name, comp.Penalty, comp.Weight, pct(comp.Share), comp.Detail), comp.Penalty})
		}
		x, used := fr.left, 0.0
		var ls []*placed
		var below []textView
		for _, s := range segs {
			v := math.Min(math.Max(s.v, 0), 100-used) // never past 100
			if v <= 0 {
				continue
			}
			w := v * unit
			used += v
			b.Segs = append(b.Segs, rectView{X: px(x), Y: px(y), W: px(w), H: barH, Class: s.class, Title: s.title})
			cx, tw := x+w/2, charW*float64(len([]rune(s.text)))
			if tw+8 <= w {
				b.Labels = append(b.Labels, textView{X: px(cx), Y: px(y + barH/2 + 4), Anchor: "middle", Text: s.text, Class: "in"})
			} else {
				ls = append(ls, &placed{x: cx, cands: textCands(cx, tw)})
				below = append(below, textView{Text: s.text})
			}
			x += w
		}
		// The outline of 100, so that an empty bar still shows.
		b.Segs = append(b.Segs, rectView{X: px(fr.left), Y: px(y), W: px(100 * unit), H: barH, Class: "frame"})
		rows := stagger(ls)
		var leaders strings.Builder
		for i, l := range ls {
			ly := y + barH + rowH*float64(l.row+1)
			b.Labels = append(b.Labels, labelAt(l, ly, below[i].Text, ""))
			fmt.Fprintf(&leaders, "M%s %.1fV%.1f", px(l.x), y+barH, ly+2)
		}
		b.Leaders = leaders.String()
		c.Bars = append(c.Bars, b)
		y += barH + rowH*float64(rows) + 18
	}
	if len(rs) == 0 {
		c.Bars = []barView{{Segs: []rectView{{X: px(fr.left), Y: px(y), W: px(100 * unit), H: barH, Class: "frame"}}}}
		y += barH + 18
	}
	// A scale under the bars: 0, 25, 50, 75, 100.
	var xs []float64
	var labels []string
	for v := 0; v <= 100; v += 25 {
		xs = append(xs, fr.left+float64(v)*unit)
		labels = append(labels, strconv.Itoa(v))
	}
	c.Axis, c.Grid = axisTicks(fr.left, float64(fr.right()), 4, y, xs, labels)
	c.H = px(y + axisH)
	return c
}
