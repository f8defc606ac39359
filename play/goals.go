package play

import (
	"errors"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/system"
)

// ErrNothingToPlay is bad input: a scenario with no operator step that
// changes the cluster leaves a team nothing to do.
var ErrNothingToPlay = errors.New("nothing to play")

// State is what goals are judged on: the cluster as the observers see it.
type State struct {
	Nodes       []corev1.Node
	Pods        []corev1.Pod        // the app namespace's
	Deployments []appsv1.Deployment // the app namespace's
}

// A Goal is an operator step of the scenario that, in a game, the team must
// reach: recognised from its effect on the cluster, however they got there.
type Goal struct {
	Step string // the operator step it stands for
	Text string // what the team must reach, in words
	// holds judges the goal on a state.
	holds func(*State) bool
}

// Holds reports whether the cluster shows the goal reached.
func (g Goal) Holds(s *State) bool { return g.holds(s) }

// GoalsFor turns a scenario's operator steps into goals on a topology. Steps
// that change nothing (notes, waits) are not goals; an operator step of an
// action gameday cannot recognise by its effect is an error, and so is a
// scenario left with no goal at all.
func GoalsFor(s *scenarios.Scenario, t cluster.Topology) ([]Goal, error) {
	place, err := fixtures.Place(s.System, t)
	if err != nil {
		return nil, err
	}
	var goals []Goal
	for _, st := range s.Timeline {
		if st.Actor != scenarios.ActorOperator {
			continue
		}
		switch st.Action {
		case scenarios.ActionNote, scenarios.ActionWait:
			continue
		case scenarios.ActionRollback:
			tier := st.Target.Tier
			good := s.Fixtures.Releases[tier]
			goals = append(goals, Goal{Step: st.Name,
				Text:  fmt.Sprintf("the %s back on release %s (the one before the incident)", tier, good),
				holds: func(st *State) bool { return onRelease(st, s.System, tier, good) }})
		case scenarios.ActionProvisionPool:
			spares, err := scenarios.SparePools(s.System, t, st.Target.Selector)
			if err != nil {
				return nil, fmt.Errorf("step %s (line %d): %w", st.Name, st.Line, err)
			}
			pools := []string{}
			for _, p := range spares {
				pools = append(pools, p.Name)
			}
			if st.Target.Tier != "" {
				pools = append(pools, place[st.Target.Tier].Name)
			} else if st.Target.Pool != "" {
				pools = append(pools, st.Target.Pool)
			}
			goals = append(goals, Goal{Step: st.Name,
				Text:  fmt.Sprintf("capacity for pool %s back in service", pools[len(pools)-1]),
				holds: func(s *State) bool { return capacityAt(s, pools) }})
		default:
			return nil, fmt.Errorf("step %s (line %d): an operator step %s cannot be played yet: gameday does not recognise its effect", st.Name, st.Line, st.Action)
		}
	}
	if len(goals) == 0 {
		return nil, fmt.Errorf("%w: scenario %s has no operator step that changes the cluster (actor: operator), so there is nothing for the team to do", ErrNothingToPlay, s.Name)
	}
	return goals, nil
}

// onRelease: the tier's Deployment starts new pods on the release, and no
// pod of the tier that is not on its way out runs another.
func onRelease(s *State, sys *system.System, tier fixtures.Tier, good string) bool {
	i := slices.IndexFunc(s.Deployments, func(d appsv1.Deployment) bool { return d.Name == string(tier) })
	if i < 0 || fixtures.SystemRelease(sys, string(tier), &s.Deployments[i].Spec.Template.Spec) != good {
		return false
	}
	for _, p := range s.Pods {
		if p.Labels[fixtures.TierLabel] != string(tier) || p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
			continue
		}
		if fixtures.SystemRelease(sys, string(tier), &p.Spec) != good {
			return false
		}
	}
	return true
}

// capacityAt: a node of one of the pools is Ready, in service and
// schedulable. (Which version capacity may join at is the console's to
// enforce, as the provider's API does: it is how the team gets capacity.)
func capacityAt(s *State, pools []string) bool {
	for _, n := range s.Nodes {
		if slices.Contains(pools, n.Labels[cluster.PoolLabel]) && cluster.IsReady(&n) && cluster.InService(&n) && !n.Spec.Unschedulable {
			return true
		}
	}
	return false
}
