package reports

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report as the table `gameday run` prints.
func WriteText(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("%s on %s: score %s/100\n", r.Scenario, r.Topology, ScoreText(r.Score))
	if r.Aborted != "" {
		ew.printf("  aborted: %s\n", r.Aborted)
	}
	for _, w := range r.Warnings {
		ew.printf("  warning: %s\n", w)
	}
	if r.Backend != "" && r.Backend != "kind" {
		ew.printf("  on a cluster gameday did not create (backend %s, %s)\n", r.Backend, r.Cluster)
	}
	for _, e := range r.Emulated {
		ew.printf("  emulated: %s\n", e)
	}
	if r.ProbedVia != "" {
		ew.printf("  probed through %s\n", r.ProbedVia)
	}
	tw := newTabWriter(ew)
	for _, c := range r.Components {
		fmt.Fprintf(tw, "  %s\t-%.1f\t(%.0f x %s)\t%s\n", c.Name, c.Penalty, c.Weight, pct(c.Share), c.Detail)
	}
	tw.Flush()
	ew.printf("\n")
	tw = newTabWriter(ew)
	fmt.Fprintln(tw, "SERVICE\tAVAILABILITY\tDOWN\tDEGRADED\tBREACHED\tIMPACT\tDETECT\tMITIGATE\tRECOVER\tBUDGET BURNED\tBURN RATE\tOBJECTIVE")
	for _, s := range r.Services {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, pct(s.Availability), seconds(s.DowntimeSeconds),
			seconds(s.DegradedSeconds), seconds(s.BreachedSeconds), optSeconds(s.TimeToImpactSeconds, "-"), optSeconds(s.TimeToDetectSeconds, "-"),
			optSeconds(s.TimeToMitigateSeconds, "-"), recoverText(s.TimeToRecoverSeconds, s.Recovered, s.FirstBreachSeconds != nil), pct(s.ErrorBudget.BurnedShare),
			fmt.Sprintf("%.1fx", s.ErrorBudget.BurnRate), r.objectiveVerdict(s.Name))
	}
	tw.Flush()
	for _, s := range r.Services {
		if line := journeysLine(s); line != "" {
			ew.printf("  %s journeys: %s\n", s.Name, line)
		}
	}
	b := r.BlastRadius
	ew.printf("\nblast radius: services %s (%s), requests failed %s, pods disrupted %d of %d (%d killed or evicted, %d restarts), nodes lost %d of %d, pools touched %s (%s)\n",
		pct(b.ServicesShare), strings.Join(orNone(b.ServicesBreached), ", "), pct(b.RequestsFailedShare),
		b.PodsDisrupted, b.PodsAtStart, b.PodsKilled, b.PodRestarts, b.NodesLost, b.NodesAtStart,
		strings.Join(orNone(b.PoolsTouched), ", "), pct(b.PoolsShare))
	ew.printf("%s\n", r.timesLine())
	if r.FirstBreach != nil {
		ew.printf("\nchanges in flight before the first breach (%s at %s):\n", r.FirstBreach.Service, offset(r.FirstBreach.AtSeconds))
		if len(r.ChangesInFlight) == 0 {
			ew.printf("  none\n")
		}
		for _, ch := range r.ChangesInFlight {
			ew.printf("  %s\n", changeLine(ch))
		}
	}
	if len(r.BusinessWindows) > 0 {
		ew.printf("\nbusiness windows:\n")
		for _, v := range r.BusinessWindows {
			ew.printf("  %s %s: %s\n", passFail(v.Passed), v.Name, v.Message)
		}
	}
	ew.printf("\nwhy:\n")
	for _, line := range r.Explanation {
		ew.printf("  - %s\n", line)
	}
	if r.Team != nil && r.Team.Game {
		writeTeamText(ew, r.Team)
	}
	return ew.err
}

// changeLine is one change in flight, the control-plane upgrade flagged.
func changeLine(ch Change) string {
	flag := ""
	if ch.ControlPlane {
		flag = "!! CONTROL PLANE UPGRADED !! "
	}
	var before []string
	for _, p := range ch.Preceded {
		before = append(before, fmt.Sprintf("%s before %s breached", seconds(math.Round(p.BeforeSeconds)), p.Service))
	}
	return fmt.Sprintf("%s%s %s [%s]; %s", flag, offset(ch.AtSeconds), ch.Message, byWhom(ch), strings.Join(before, ", "))
}

// byWhom says who made a change: "automation node-group-health-check, step
// drain", "outside: not made by the run".
func byWhom(ch Change) string {
	switch {
	case ch.Player != "" && ch.Step != "":
		return "player " + ch.Player + ", " + strings.Replace(ch.Step, ":", " ", 1)
	case ch.Player != "":
		return "player " + ch.Player
	case ch.Actor == ActorOutside:
		return "outside: not made by the run"
	case ch.Rule != "":
		return fmt.Sprintf("%s %s, step %s", ch.Actor, ch.Rule, ch.Step)
	case ch.Step != "":
		return fmt.Sprintf("%s, step %s", ch.Actor, ch.Step)
	}
	return ch.Actor
}

// journeysLine sums up a service's journeys: "/items* 83.3% down 10 s,
// / 100%" (* critical: down takes the service down).
func journeysLine(s Service) string {
	var parts []string
	for _, j := range s.Journeys {
		name := strings.TrimPrefix(j.Name, s.Name+" ")
		if j.Critical {
			name += "*"
		}
		part := name + " " + pct(j.Availability)
		if j.DowntimeSeconds > 0 {
			part += " down " + seconds(j.DowntimeSeconds)
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

// timesLine is the run's times in one line.
func (r *Report) timesLine() string {
	first := "none"
	if r.FirstFaultSeconds != nil {
		first = fmt.Sprintf("%s, %s", offset(*r.FirstFaultSeconds), r.FirstFault)
	}
	return fmt.Sprintf("impact %s, detect %s, mitigate %s, recover %s, down %s (first fault %s)", optSeconds(r.TimeToImpactSeconds, "-"),
		optSeconds(r.TimeToDetectSeconds, "-"), optSeconds(r.TimeToMitigateSeconds, "-"),
		recoverText(r.TimeToRecoverSeconds, r.Recovered, r.FirstBreach != nil), seconds(r.DowntimeSeconds), first)
}

func newTabWriter(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0) }

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func optSeconds(f *float64, none string) string {
	if f == nil {
		return none
	}
	return seconds(*f)
}

func optOffset(f *float64) string {
	if f == nil {
		return "none"
	}
	return offset(*f)
}

func recoverText(f *float64, recovered, breached bool) string {
	switch {
	case !breached:
		return "-"
	case !recovered || f == nil:
		return "never"
	}
	return seconds(*f)
}

// objectiveVerdict is PASS or FAIL for the service's objective ("-" if a
// report read from a file lacks it).
func (r *Report) objectiveVerdict(service string) string {
	for _, v := range r.Objectives {
		if v.Service == service {
			return passFail(v.Passed)
		}
	}
	return "-"
}

func orNone(xs []string) []string {
	if len(xs) == 0 {
		return []string{"none"}
	}
	return xs
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, a ...any) { fmt.Fprintf(e, format, a...) }
