package reports

import (
	"time"

	"gameday.dev/gameday/scenarios/timeline"
)

// synth builds timelines by hand: 10 probes a second per service, nodes and
// pods described at the start, steps and failures at chosen seconds.
type synth struct {
	t0 time.Time
	es []timeline.Entry
}

var synthT0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func newSynth() *synth {
	s := &synth{t0: synthT0}
	s.run(-30, "start")
	s.run(0, "timeline-start")
	return s
}

func (s *synth) at(sec float64) time.Time {
	return s.t0.Add(time.Duration(sec * float64(time.Second)))
}

func (s *synth) add(sec float64, e timeline.Entry) *synth {
	e.Time = s.at(sec)
	s.es = append(s.es, e)
	return s
}

func (s *synth) run(sec float64, phase string) *synth {
	return s.add(sec, timeline.Entry{Kind: timeline.KindRun, Phase: phase})
}

// step adds a step's start and end entries.
func (s *synth) step(sec float64, name, action string, change bool) *synth {
	s.add(sec, timeline.Entry{Kind: timeline.KindStep, Phase: "start", Step: name, Action: action, Change: change})
	return s.add(sec+0.01, timeline.Entry{Kind: timeline.KindStep, Phase: "end", Step: name, Action: action, Change: change, Message: name + " done"})
}

// stepOn adds a step that acted on targets, by actor.
func (s *synth) stepOn(sec, dur float64, name, action, actor string, targets ...string) *synth {
	s.add(sec, timeline.Entry{Kind: timeline.KindStep, Phase: "start", Step: name, Action: action, Actor: actor, Change: true})
	return s.add(sec+dur, timeline.Entry{Kind: timeline.KindStep, Phase: "end", Step: name, Action: action, Actor: actor, Change: true, Targets: targets})
}

// change adds a change the observers saw.
func (s *synth) change(sec float64, object, field, from, to, manager string) *synth {
	return s.add(sec, timeline.Entry{Kind: timeline.KindChange, Object: object, Field: field, From: from, To: to, Manager: manager})
}

// outcome is what a probe in a given second gets.
type outcome struct {
	ok, degraded bool
	latencyMs    float64
}

var fine = outcome{ok: true, latencyMs: 5}

// probes adds 10 probes a second for service in [from, to) seconds, each
// getting what fn says for its second.
func (s *synth) probes(service string, from, to int, fn func(sec int) outcome) *synth {
	for sec := from; sec < to; sec++ {
		o := fn(sec)
		for j := 0; j < 10; j++ {
			s.add(float64(sec)+float64(j)/10+0.001, timeline.Entry{Kind: timeline.KindProbe, Service: service,
				Endpoint: service + " /", OK: timeline.Bool(o.ok), Degraded: o.degraded, LatencyMs: o.latencyMs})
		}
	}
	return s
}

// failIn is an outcome function failing every probe in the given seconds.
func failIn(secs ...[2]int) func(int) outcome {
	return func(sec int) outcome {
		for _, r := range secs {
			if sec >= r[0] && sec < r[1] {
				return outcome{ok: false, latencyMs: 2000}
			}
		}
		return fine
	}
}

func (s *synth) node(sec float64, name, pool string, ready, schedulable, inService bool) *synth {
	return s.add(sec, timeline.Entry{Kind: timeline.KindNode, Name: name, Pool: pool,
		Ready: timeline.Bool(ready), Schedulable: timeline.Bool(schedulable), InService: timeline.Bool(inService)})
}

func (s *synth) pod(sec float64, name, tier, node, release string, restarts int32, waiting string, deleted bool) *synth {
	return s.add(sec, timeline.Entry{Kind: timeline.KindPod, Name: name, Tier: tier, Node: node, Release: release,
		Restarts: restarts, Waiting: waiting, Deleted: deleted, Ready: timeline.Bool(!deleted && waiting == "")})
}

func (s *synth) deployment(sec float64, tier, release string) *synth {
	return s.add(sec, timeline.Entry{Kind: timeline.KindDeployment, Name: tier, Tier: tier, Release: release})
}

// cluster adds the shared-like layout at the start: pool app (n1, n2) with
// every tier, spare pool app-next (n3), the control plane in pool system.
func (s *synth) cluster() *synth {
	s.node(-5, "cp", "system", true, true, true)
	s.node(-5, "n1", "app", true, true, true)
	s.node(-5, "n2", "app", true, true, true)
	s.node(-5, "n3", "app-next", false, false, false)
	for _, t := range []string{"frontend", "api", "workers"} {
		s.deployment(-5, t, "v1")
	}
	s.pod(-5, "fe-1", "frontend", "n1", "v1", 0, "", false)
	s.pod(-5, "fe-2", "frontend", "n2", "v1", 0, "", false)
	s.pod(-5, "api-1", "api", "n2", "v1", 0, "", false)
	return s.pod(-5, "wk-old", "workers", "n1", "v1", 0, "", false)
}

func meta() timeline.Meta {
	obj := func(svc string) timeline.Objective {
		return timeline.Objective{Service: svc, SuccessRatio: 0.99, Latency: timeline.Duration(time.Second), Window: timeline.Duration(10 * time.Second)}
	}
	return timeline.Meta{Schema: timeline.MetaSchema, Scenario: "synthetic", Topology: "shared",
		Objectives: []timeline.Objective{obj("frontend"), obj("api")}}
}
