package reports

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report as report.json (schema gameday.dev/report/v1).
func WriteJSON(w io.Writer, r *Report) error { return WriteJSONValue(w, r) }

// WriteJSONValue writes v as indented JSON.
func WriteJSONValue(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteMarkdown writes the report as report.md.
func WriteMarkdown(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("# %s on `%s`: %s/100\n\n", r.Scenario, r.Topology, ScoreText(r.Score))
	if r.Aborted != "" {
		ew.printf("> **Aborted:** %s\n\n", mdEscape(r.Aborted))
	}
	for _, w := range r.Warnings {
		ew.printf("> **Warning:** %s\n\n", mdEscape(w))
	}
	if r.Backend != "" && r.Backend != "kind" {
		ew.printf("> On a cluster gameday did not create (backend %s, %s).\n\n", r.Backend, mdEscape(r.Cluster))
	}
	for _, e := range r.Emulated {
		ew.printf("> **Emulated:** %s\n\n", mdEscape(e))
	}
	if r.ProbedVia != "" {
		ew.printf("> **Probed through** %s.\n\n", mdEscape(r.ProbedVia))
	}
	for _, line := range r.Explanation {
		ew.printf("- %s\n", mdEscape(line))
	}
	if cp := r.controlPlaneChange(); cp != nil {
		ew.printf("\n> **⚠ The control plane was upgraded at %s, %s before the first breach (%s).** %s\n",
			offset(cp.AtSeconds), seconds(r.beforeFirstBreach(*cp)), r.FirstBreach.Service, mdEscape(cp.Message))
	}
	if r.Team != nil && r.Team.Game {
		writeTeamMarkdown(ew, r.Team)
	}
	if len(r.Notes) > 0 {
		ew.printf("\n## Notes from the room\n\n")
		for _, n := range r.Notes {
			ew.printf("- %s **%s** (%s): %s\n", offset(n.AtSeconds), mdEscape(n.By), n.Kind, mdEscape(strings.ReplaceAll(n.Text, "\n", " ")))
		}
	}
	ew.printf("\n## Score\n\n| component | weight | share | penalty | what |\n|---|---:|---:|---:|---|\n")
	for _, c := range r.Components {
		ew.printf("| %s | %.0f | %s | -%.1f | %s |\n", c.Name, c.Weight, pct(c.Share), c.Penalty, mdEscape(c.Detail))
	}
	ew.printf("| **score** | | | | **%s** |\n", ScoreText(r.Score))
	ew.printf("\n## Services\n\n| service | availability | down | degraded | breached | impact | detect | mitigate | recover | budget burned | burn rate | objective |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, s := range r.Services {
		ew.printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1fx | %s |\n", s.Name, pct(s.Availability), seconds(s.DowntimeSeconds),
			seconds(s.DegradedSeconds), seconds(s.BreachedSeconds), optSeconds(s.TimeToImpactSeconds, "-"), optSeconds(s.TimeToDetectSeconds, "-"),
			optSeconds(s.TimeToMitigateSeconds, "-"), recoverText(s.TimeToRecoverSeconds, s.Recovered, s.FirstBreachSeconds != nil), pct(s.ErrorBudget.BurnedShare),
			s.ErrorBudget.BurnRate, r.objectiveVerdict(s.Name))
	}
	for _, s := range r.Services {
		if line := journeysLine(s); line != "" {
			ew.printf("\n%s's journeys (* critical: down takes the service down): %s\n", s.Name, mdEscape(line))
		}
	}
	ew.printf("\nTimes: impact from the first change to the first breach; detect from the first breach to %s; mitigate to the last change before recovery; recover to the moment from which the objective holds.\n", mdEscape(r.DetectionAlert))
	b := r.BlastRadius
	ew.printf("\n## Blast radius\n\n- services breached: %s (%s)\n- requests failed: %s (%d of %d)\n- pods disrupted: %d of %d (%d killed or evicted, %d restarts)\n- nodes lost: %d of %d\n- pools touched: %s (%s)\n",
		pct(b.ServicesShare), strings.Join(orNone(b.ServicesBreached), ", "), pct(b.RequestsFailedShare), b.RequestsFailed, b.Requests,
		b.PodsDisrupted, b.PodsAtStart, b.PodsKilled, b.PodRestarts, b.NodesLost, b.NodesAtStart,
		strings.Join(orNone(b.PoolsTouched), ", "), pct(b.PoolsShare))
	ew.printf("\n%s.\n", mdEscape(upperFirst(r.timesLine())))
	ew.printf("\n## Changes in flight before the first breach\n\n")
	switch {
	case r.FirstBreach == nil:
		ew.printf("No breach.\n")
	case len(r.ChangesInFlight) == 0:
		ew.printf("None before the first breach (%s at %s).\n", r.FirstBreach.Service, offset(r.FirstBreach.AtSeconds))
	default:
		for _, ch := range r.ChangesInFlight {
			line := mdEscape(changeLine(ch))
			if ch.ControlPlane {
				line = "**" + line + "**"
			}
			ew.printf("- %s\n", line)
		}
	}
	ew.printf("\n## Objectives\n\n")
	for _, v := range append(append([]Verdict{}, r.Objectives...), r.BusinessWindows...) {
		ew.printf("- **%s** %s: %s\n", passFail(v.Passed), mdEscape(v.Name), mdEscape(v.Message))
	}
	ew.printf("\n## Changes\n\nEvery change seen in the span, whoever made it.\n\n| at | change | by |\n|---|---|---|\n")
	for _, ch := range r.Changes {
		ew.printf("| %s | %s | %s |\n", offset(ch.AtSeconds), mdEscape(ch.Message), mdEscape(byWhom(ch)))
	}
	ew.printf("\n## Timeline\n\n| at | step | action | by |\n|---|---|---|---|\n")
	for _, st := range r.Steps {
		by := st.Actor
		if by == "" {
			by = ActorScenario
		}
		if st.Rule != "" {
			by = "automation " + st.Rule
		}
		blocked := ""
		if st.Blocked {
			blocked = " (blocked)"
		}
		ew.printf("| %s | %s%s | %s | %s |\n", offset(st.AtSeconds), st.Step, blocked, st.Action, by)
	}
	return ew.err
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mdEscape keeps table cells and lists intact.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// JUnit XML: each objective and business window is a test case.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes junit.xml: one suite per report, a test case per
// objective and per business window, the score as a property.
func WriteJUnit(w io.Writer, rs ...*Report) error {
	var out junitSuites
	for _, r := range rs {
		out.Name = "gameday " + r.Scenario
		s := junitSuite{Name: fmt.Sprintf("%s on %s", r.Scenario, r.Topology), Time: fmt.Sprintf("%.3f", r.SpanSeconds),
			Timestamp: r.Start.UTC().Format("2006-01-02T15:04:05"),
			Properties: []junitProperty{{"topology", r.Topology}, {"score", fmt.Sprintf("%.1f", r.Score)},
				{"downtime_seconds", fmt.Sprintf("%.0f", r.DowntimeSeconds)}}}
		add := func(kind string, v Verdict) {
			c := junitCase{Classname: fmt.Sprintf("gameday.%s.%s", r.Topology, kind), Name: v.Name, Time: "0"}
			if v.Passed {
				c.SystemOut = v.Message
			} else {
				c.Failure = &junitFailure{Message: v.Message, Type: kind, Text: strings.Join(r.Explanation, "\n")}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		for _, v := range r.Objectives {
			add("objective", v)
		}
		for _, v := range r.BusinessWindows {
			add("business-window", v)
		}
		s.Tests = len(s.Cases)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteCompareText writes the comparison as the table `gameday run` and
// `gameday report compare` print.
func WriteCompareText(w io.Writer, c *Comparison) error {
	ew := &errWriter{w: w}
	compareTable(ew, c, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", "")
	ew.printf("\n")
	for _, line := range c.Explanation {
		ew.printf("  - %s\n", line)
	}
	return ew.err
}

// WriteCompareMarkdown writes compare.md.
func WriteCompareMarkdown(w io.Writer, c *Comparison) error {
	ew := &errWriter{w: w}
	ew.printf("# %s: %s\n\n", c.Scenario, topologies(c))
	for _, line := range c.Explanation {
		ew.printf("- %s\n", mdEscape(line))
	}
	ew.printf("\n")
	compareTable(ew, c, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", "|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range c.Reports {
		if cp := r.controlPlaneChange(); cp != nil {
			ew.printf("\n**⚠ `%s`: the control plane was upgraded at %s, %s before the first breach.**\n",
				r.Topology, offset(cp.AtSeconds), seconds(r.beforeFirstBreach(*cp)))
		}
	}
	return ew.err
}

// compareTable writes one row per report in the given row format.
func compareTable(ew *errWriter, c *Comparison, row, rule string) {
	var tw io.Writer = ew
	var flush func()
	if rule == "" {
		t := newTabWriter(ew)
		tw, flush = t, func() { t.Flush() }
	}
	fmt.Fprintf(tw, row, "TOPOLOGY", "SCORE", "DOWN", "DETECT", "RECOVER", "REQUESTS FAILED", "NODES LOST", "PODS DISRUPTED", "POOLS TOUCHED")
	if rule != "" {
		fmt.Fprint(tw, rule)
	}
	for _, r := range c.Reports {
		b := r.BlastRadius
		fmt.Fprintf(tw, row, r.Topology, ScoreText(r.Score), seconds(r.DowntimeSeconds), optSeconds(r.TimeToDetectSeconds, "-"),
			recoverText(r.TimeToRecoverSeconds, r.Recovered, r.FirstBreach != nil), pct(b.RequestsFailedShare),
			fmt.Sprintf("%d/%d", b.NodesLost, b.NodesAtStart), fmt.Sprintf("%d/%d", b.PodsDisrupted, b.PodsAtStart),
			strings.Join(orNone(b.PoolsTouched), ", "))
	}
	if flush != nil {
		flush()
	}
}

func topologies(c *Comparison) string {
	var ts []string
	for _, r := range c.Reports {
		ts = append(ts, r.Topology)
	}
	return strings.Join(ts, " vs ")
}
