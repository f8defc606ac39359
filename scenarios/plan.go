package scenarios

import (
	"fmt"
	"io"
	"strings"
	"time"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/system"
)

// WritePlan prints what running s on topology t does, step by step, with
// every selector resolved to the topology's pools. It changes nothing; it is
// what `gameday run --dry-run` prints.
func WritePlan(w io.Writer, s *Scenario, t cluster.Topology) error {
	p := &planWriter{w: w}
	sys := s.System
	src := s.File
	p.f("Scenario %s on topology %s (%s)\n", s.Name, t.Name, src)
	if s.StoryScale > 0 {
		p.f("  story time: 1 minute of run time stands for %s of the incident\n", storyDuration(s.StoryScale))
	}
	p.f("  1. cluster   %s\n", describeTopology(t))
	place, err := fixtures.Place(s.System, t)
	if err != nil {
		return err
	}
	var tiers []string
	for _, name := range s.System.TierNames() {
		tier := fixtures.Tier(name)
		tiers = append(tiers, fmt.Sprintf("%s %s x%d on %s", tier, s.Fixtures.Releases[tier], s.Fixtures.Replicas[tier], place[tier].Name))
	}
	extras := []string{}
	if s.Fixtures.Degrade {
		extras = append(extras, "frontend degrades without the API")
	}
	if s.Fixtures.PDB {
		extras = append(extras, "a PodDisruptionBudget per tier")
	}
	p.f("  2. fixtures  system %s: %s%s\n", s.System.Name, strings.Join(tiers, "; "), suffix(extras))
	var paths []string
	for _, pr := range s.ProbeMix() {
		paths = append(paths, string(pr.Service)+" "+pr.Path)
	}
	p.f("  3. observe   probes from the host at %g/s each (%s, timeout %s); informers on nodes, pods, deployments, events; every change to deployments, nodes, services, PDBs, config maps, secrets and the control plane's version, whoever makes it\n",
		s.Probes.Rate, strings.Join(paths, ", "), s.Probes.Timeout)
	p.f("  4. steady    every objective holds for %s (waiting up to %s):\n", s.SteadyState.Duration, s.SteadyState.Timeout)
	for _, o := range s.Objectives {
		p.f("                %s: %g%% of probes succeed and p95 latency <= %s over %s\n", o.Service, o.SuccessRatio*100, o.Latency, o.Window)
	}
	p.f("  5. timeline  at most %s; observed at least %s from the first change (the score's horizon)\n", s.MaxDuration, s.Horizon)
	for _, st := range s.Timeline {
		when := "right after the previous step"
		switch {
		case st.At != nil:
			when = "at +" + st.At.String()
		case st.After != nil:
			when = "after " + describeCondition(*st.After, t, sys)
			if st.Delay > 0 {
				when += "; then " + st.Delay.String() + " more"
			}
		}
		by := ""
		if st.Actor == ActorOperator {
			by = " [operator]"
		}
		p.f("                %s%s (%s): %s\n", st.Name, by, when, describeStep(st, t, sys))
	}
	for _, r := range s.Automation {
		p.f("     automation %s: when %s, once:\n", r.Name, describeCondition(r.When, t, sys))
		for _, st := range r.Steps {
			p.f("                %s: %s\n", st.Name, describeStep(st, t, sys))
		}
	}
	for _, w := range s.BusinessWindows {
		p.f("     business   %s: %s must be up from +%s to +%s\n", w.Name, w.Service, w.Start, w.End)
	}
	for _, st := range s.Play.Curveballs {
		p.f("     curveball  %s (in a game, when the facilitator injects it): %s\n", st.Name, describeStep(st, t, sys))
	}
	for _, c := range s.Abort {
		p.f("     abort      when %s\n", describeCondition(c, t, sys))
	}
	p.f("  6. recover   put back everything the run changed (journal: recover with `gameday recover`)\n")
	p.f("  7. cleanup   stop the observers; delete the cluster unless --retain\n")
	return p.err
}

type planWriter struct {
	w   io.Writer
	err error
}

func (p *planWriter) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func suffix(extras []string) string {
	if len(extras) == 0 {
		return ""
	}
	return "; " + strings.Join(extras, "; ")
}

func storyDuration(scale float64) string {
	return (time.Duration(scale * float64(time.Minute))).String()
}

func describeTopology(t cluster.Topology) string {
	parts := []string{"control plane (pool system)"}
	for _, p := range t.Pools {
		s := fmt.Sprintf("pool %s (%d node%s", p.Name, p.Size, plural(p.Size))
		if p.Spare {
			s += ", spare for " + p.Replaces + ", out of service"
		}
		parts = append(parts, s+")")
	}
	return strings.Join(parts, " + ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// describeSelector names what a selector resolves to on t.
func describeSelector(sel Selector, t cluster.Topology, sys *system.System, nodes bool) string {
	if sel.Tier != "" && nodes {
		if p, err := PoolFor(sys, t, sel); err == nil {
			return fmt.Sprintf("pool %s (hosting %s)", p.Name, sel.Tier)
		}
	}
	if sel.Pool != "" {
		return "pool " + sel.Pool
	}
	if sel.Tier != "" {
		return "tier " + string(sel.Tier)
	}
	return sel.String()
}

func describeTarget(tg Target, t cluster.Topology, sys *system.System, nodes bool) string {
	what := describeSelector(tg.Selector, t, sys, nodes)
	noun := "pods of "
	if nodes {
		noun = "nodes of "
	}
	switch tg.Mode {
	case ModeOne:
		return "one of the " + noun + what
	case ModeFixed:
		return fmt.Sprintf("%d of the %s%s", tg.Value, noun, what)
	case ModePercent:
		return fmt.Sprintf("%d%% of the %s%s", tg.Value, noun, what)
	}
	return "the " + noun + what
}

func describeStep(st Step, t cluster.Topology, sys *system.System) string {
	switch st.Action {
	case ActionRelease:
		return fmt.Sprintf("release %s %s", st.Target.Tier, st.Version)
	case ActionRollback:
		return fmt.Sprintf("roll %s back to its release from before the run", st.Target.Tier)
	case ActionPodKill:
		return "kill " + describeTarget(st.Target, t, sys, false)
	case ActionCordon, ActionDrain, ActionNodeStop, ActionNodeStart, ActionKubeletStop, ActionKubeletStart:
		verb := map[Action]string{ActionCordon: "cordon", ActionDrain: "drain", ActionNodeStop: "stop the containers of",
			ActionNodeStart: "start the containers of", ActionKubeletStop: "stop the kubelets of", ActionKubeletStart: "start the kubelets of"}[st.Action]
		s := verb + " " + describeTarget(st.Target, t, sys, true)
		if st.DisableEviction {
			s += ", deleting pods instead of evicting them (PodDisruptionBudgets do not hold it back)"
		}
		if st.Timeout > 0 {
			s += fmt.Sprintf(" (timeout %s)", st.Timeout)
		}
		if st.Action == ActionDrain && !st.DisableEviction {
			s += "; blocked by a budget until then, the cluster's refusal is recorded and the scenario goes on"
		}
		return s
	case ActionPoolOutage:
		return "lose every node of " + describeSelector(st.Target.Selector, t, sys, true)
	case ActionControlPlaneUpgrade:
		return fmt.Sprintf("upgrade the control plane to %s (recorded; nodes at another version cannot join)", st.Version)
	case ActionProvisionPool:
		var names []string
		if spares, err := SparePools(sys, t, st.Target.Selector); err == nil {
			for _, sp := range spares {
				names = append(names, sp.Name)
			}
		}
		at := "at the control plane's version"
		if st.Version == VersionPool {
			at = "at the replaced pool's version (blocked while the control plane is at another)"
		}
		return fmt.Sprintf("bring spare pool %s into service %s", strings.Join(names, ", "), at)
	case ActionWait:
		return "wait " + st.Duration.String()
	case ActionNote:
		return fmt.Sprintf("note %q", st.Message)
	}
	return string(st.Action)
}

func describeCondition(c Condition, t cluster.Topology, sys *system.System) string {
	var s string
	switch c.Type {
	case CondCrashLooping:
		s = "pods of " + describeSelector(c.Selector, t, sys, false) + " crash-loop"
	case CondPoolDown:
		s = "every node of " + describeSelector(c.Selector, t, sys, true) + " is NotReady"
	case CondPoolReady:
		s = "every node of " + describeSelector(c.Selector, t, sys, true) + " is Ready"
	case CondTierHealthy:
		s = string(c.Selector.Tier) + " is healthy"
	case CondTierDown:
		s = string(c.Selector.Tier) + " has no ready replica"
	case CondServiceDown:
		s = "every probe of " + string(c.Service) + " fails"
	case CondServiceUp:
		s = "every probe of " + string(c.Service) + " succeeds"
	default:
		s = string(c.Type)
	}
	if c.For > 0 {
		s += " for " + c.For.String()
	}
	if c.Within > 0 {
		s += " (within " + c.Within.String() + ")"
	}
	return s
}
