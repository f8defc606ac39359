package reports

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gameday.dev/gameday/scenarios/timeline"
)

// The actors of a change (see scenarios.Actor).
const (
	ActorScenario   = "scenario"
	ActorOperator   = "operator"
	ActorAutomation = "automation"
	ActorOutside    = "outside"
)

// How long after a step a change that nobody's field manager records (a
// node going NotReady, a pod deleted) may still be its effect: a stopped
// kubelet is noticed only after the node monitor's grace period.
const effectWindow = 3 * time.Minute

// ownSlack is how long after a step's end gameday's own write may still be
// the step's (the step's end entry is written after its last request).
const ownSlack = 2 * time.Second

// acts reports whether a step acts on the cluster (waits and notes do not).
func (s stepRun) acts() bool { return s.action != "wait" && s.action != "note" }

// stepRun is a step as the timeline recorded it, start to end.
type stepRun struct {
	name, action, rule, actor string
	// player: a game's player made it (a console action, or a request of theirs).
	player       string
	start, end   time.Time
	targets      []string
	blocked      bool
	message, err string
	change       bool
}

// stepRuns pairs each step's start with its end (a step without an end, as
// in a killed run, lasts to the end of the timeline).
func stepRuns(es []timeline.Entry) []stepRun {
	var out []stepRun
	open := map[string]int{}
	for _, e := range es {
		if e.Kind != timeline.KindStep {
			continue
		}
		key := e.Rule + "/" + e.Step
		switch e.Phase {
		case "start":
			actor := e.Actor
			switch {
			case actor != "":
			case e.Rule != "": // recorded before steps had actors
				actor = ActorAutomation
			default:
				actor = ActorScenario
			}
			open[key] = len(out)
			out = append(out, stepRun{name: e.Step, action: e.Action, rule: e.Rule, actor: actor, player: e.Player, start: e.Time, change: e.Change})
		case "end":
			i, ok := open[key]
			if !ok {
				continue
			}
			delete(open, key)
			s := &out[i]
			s.end, s.targets, s.blocked, s.message, s.err = e.Time, e.Targets, e.Blocked, e.Message, e.Error
		}
	}
	if len(es) > 0 {
		for _, i := range open {
			out[i].end = es[len(es)-1].Time
		}
	}
	return out
}

// effects says which actions a change that no field manager records can
// be the effect of.
var effects = map[string][]string{
	"ready=false": {"node-stop", "kubelet-stop", "pool-outage", "retire-pool"},
	"ready=true":  {"node-start", "kubelet-start", "provision-pool"},
	"deleted":     {"pod-kill", "retire-pool"},
	// A node joins when its kubelet registers its Node object.
	"created": {"provision-pool", "kubelet-start", "node-start"},
}

// observedChanges is every change the timeline holds, whoever made it, each
// matched to the step that made it or, if none did, the outside's. A change
// gameday's clients made (their field manager) is the step's that was
// running on that object; a node's readiness or a pod's deletion, which no
// field manager records, is the effect of the latest step that acted on
// that object in a way that causes it, within effectWindow; a field removed
// (which leaves no manager either: an uncordon, a taint taken off) is the
// step's that was running on that object then; anything else was made
// outside the run, by the field manager the API server recorded.
//
// Timelines recorded before changes were observed hold none: their
// declared change steps stand in for them.
func observedChanges(es []timeline.Entry, runs []stepRun) []observed {
	var out []observed
	any := false
	players := playerRuns(es)
	for _, e := range es {
		switch {
		case e.Kind == timeline.KindChange:
			any = true
			o := attribute(observed{at: e.Time, object: e.Object, field: e.Field, from: e.From, to: e.To, manager: e.Manager}, runs)
			if o.actor == ActorOutside {
				o = attributePlayer(o, players)
			}
			out = append(out, o)
		case e.Kind == timeline.KindPod && e.Deleted:
			// A pod deleted by a step that named it (pod-kill). Other pod
			// deletions (rollouts, evictions) are not changes anyone made to
			// the pod: the change behind them (a release, a cordon) is.
			o := observed{at: e.Time, object: "pod/" + e.Name, field: "deleted"}
			if a := attribute(o, runs); a.step != "" {
				out = append(out, a)
			}
		}
	}
	if any {
		return dedupePods(out)
	}
	out = out[:0]
	for _, s := range runs {
		if s.change {
			out = append(out, observed{at: s.start, object: "step/" + s.name, field: s.action, step: s.name, action: s.action,
				rule: s.rule, actor: s.actor, declared: true, message: s.message, failed: s.err})
		}
	}
	return out
}

// dedupePods keeps one deletion per pod (a pod is seen deleting, then gone).
func dedupePods(in []observed) []observed {
	seen := map[string]bool{}
	return slices.DeleteFunc(in, func(o observed) bool {
		if !strings.HasPrefix(o.object, "pod/") {
			return false
		}
		if seen[o.object] {
			return true
		}
		seen[o.object] = true
		return false
	})
}

// playerWindow is how soon after a player's request the change it asked
// for is seen.
const playerWindow = 5 * time.Second

// playerRuns are a game's players' changes as the audit log has them, each
// a run of one moment on the object it named.
func playerRuns(es []timeline.Entry) []stepRun {
	var out []stepRun
	for _, e := range es {
		if e.Kind != timeline.KindAct || e.Via != "kubectl" || e.Count > 0 || !isWrite(e.Verb) || e.Code >= 300 || e.Name == "" {
			continue
		}
		out = append(out, stepRun{action: e.Verb + " " + e.Resource, actor: ActorOperator, player: e.Player, start: e.Time, end: e.Time, targets: []string{e.Name}})
	}
	return out
}

// attributePlayer gives a change no step made to the player whose request
// on that object came just before it.
func attributePlayer(o observed, players []stepRun) observed {
	name := o.object[strings.Index(o.object, "/")+1:]
	for i := len(players) - 1; i >= 0; i-- {
		p := players[i]
		if slices.Contains(p.targets, name) && !o.at.Before(p.start.Add(-time.Second)) && !o.at.After(p.start.Add(playerWindow)) {
			o.actor, o.player, o.action = p.actor, p.player, p.action
			return o
		}
	}
	return o
}

// observed is one change with who made it.
type observed struct {
	at                        time.Time
	object, field, from, to   string
	manager                   string
	actor, step, action, rule string
	player                    string
	declared                  bool      // a declared step standing in (old timelines)
	made                      time.Time // its step's start, if earlier
	message, failed           string
}

func attribute(o observed, runs []stepRun) observed {
	name := o.object[strings.Index(o.object, "/")+1:]
	targets := func(s stepRun) bool { return slices.Contains(s.targets, name) }
	take := func(s stepRun) observed {
		o.actor, o.step, o.action, o.rule, o.player = s.actor, s.name, s.action, s.rule, s.player
		if s.start.Before(o.at) {
			o.made = s.start
		}
		return o
	}
	manager := o.manager
	if strings.HasPrefix(o.object, "node/") && (o.field == "created" || o.field == "deleted") {
		// A Node comes and goes with its machine joining and leaving (its
		// kubelet registers it): the effect of the step that made it so.
		manager = ""
	}
	switch manager {
	case timeline.Manager:
		// gameday's own write: the step running then, the one acting on
		// this object first.
		var running []stepRun
		for _, s := range runs {
			if !o.at.Before(s.start) && !o.at.After(s.end.Add(ownSlack)) {
				running = append(running, s)
			}
		}
		if i := slices.IndexFunc(running, targets); i >= 0 {
			return take(running[i])
		}
		if len(running) > 0 {
			return take(running[len(running)-1])
		}
		o.actor = ActorScenario // gameday, between steps
		return o
	case "":
		key := o.field
		if o.field == "ready" {
			key += "=" + o.to
		}
		causes := effects[key]
		for i := len(runs) - 1; i >= 0; i-- {
			s := runs[i]
			if s.start.After(o.at) || o.at.After(s.end.Add(effectWindow)) || !slices.Contains(causes, s.action) || !targets(s) {
				continue
			}
			return take(s)
		}
		// A field removed leaves no manager: the step running on it then.
		for i := len(runs) - 1; i >= 0; i-- {
			s := runs[i]
			if !o.at.Before(s.start) && !o.at.After(s.end.Add(ownSlack)) && targets(s) {
				return take(s)
			}
		}
	}
	o.actor = ActorOutside
	return o
}

// words says what a change was, for people: "deployment/api was scaled
// 2 -> 0 by kubectl-scale".
func (o observed) words() string {
	if o.declared {
		w := fmt.Sprintf("step %s (%s)", o.step, o.action)
		if o.message != "" {
			w += ": " + o.message
		}
		return w
	}
	var w string
	switch {
	case o.field == "created":
		w = o.object + " was created"
	case o.field == "deleted":
		w = o.object + " was deleted"
	case o.object == "control-plane" && o.to != "":
		w = "the control plane was upgraded to " + o.to
	case o.object == "control-plane":
		w = "the control plane's recorded version " + o.from + " was removed"
	case o.field == "replicas":
		w = fmt.Sprintf("%s was scaled %s -> %s", o.object, o.from, o.to)
	case o.field == "release":
		w = fmt.Sprintf("%s was released %s -> %s", o.object, noneIfEmpty(o.from), noneIfEmpty(o.to))
	case o.field == "template":
		w = fmt.Sprintf("%s's pod template changed (%s)", o.object, strings.Join(templateDiff(o.from, o.to), ", "))
	case o.field == "unschedulable" && o.to == "true":
		w = o.object + " was cordoned"
	case o.field == "unschedulable":
		w = o.object + " was uncordoned"
	case o.field == "ready" && o.to == "true":
		w = o.object + " became Ready"
	case o.field == "ready":
		w = o.object + " went NotReady"
	case o.field == "taints" && !strings.Contains(o.from, lostTaint) && strings.Contains(o.to, lostTaint):
		w = o.object + " was lost (emulated: cordoned, tainted " + lostTaint + ", the opted-in namespaces' pods there deleted; its machine runs on)"
	case o.field == "taints" && strings.Contains(o.from, lostTaint) && !strings.Contains(o.to, lostTaint):
		w = o.object + " came back (its emulated loss ended)"
	case o.field == "data":
		w = o.object + "'s data changed"
	default:
		w = fmt.Sprintf("%s's %s changed %s -> %s", o.object, o.field, noneIfEmpty(o.from), noneIfEmpty(o.to))
	}
	switch {
	case o.manager != "" && o.manager != timeline.Manager:
		w += " by " + o.manager
	case o.manager == "" && o.actor == ActorOutside && o.field != "ready" && o.field != "deleted":
		// The API server does not always record who made a change: the
		// first scale of a Deployment through its scale subresource leaves
		// no field manager owning its replicas (seen on v1.37).
		w += " (the API server recorded no field manager)"
	}
	return w
}

func noneIfEmpty(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// templateDiff names the parts of a pod template summary that differ.
func templateDiff(from, to string) []string {
	var out []string
	fromAnno, from, _ := strings.Cut(from, " | ")
	toAnno, to, _ := strings.Cut(to, " | ")
	if fromAnno != toAnno {
		out = append(out, "annotations, as a rollout restart makes")
	}
	for _, part := range []string{"image", "args", "env", "resources"} {
		if templatePart(from, part) != templatePart(to, part) {
			out = append(out, part)
		}
	}
	if len(out) == 0 {
		out = []string{"containers"}
	}
	return out
}

func templatePart(summary, part string) string {
	var out []string
	for _, c := range strings.Split(summary, "; ") {
		i := strings.Index(c, " "+part+"=")
		if i < 0 {
			continue
		}
		rest := c[i+len(part)+2:]
		if j := strings.Index(rest, " "+nextPart(part)+"="); j >= 0 && nextPart(part) != "" {
			rest = rest[:j]
		}
		out = append(out, rest)
	}
	return strings.Join(out, "|")
}

func nextPart(part string) string {
	switch part {
	case "image":
		return "args"
	case "args":
		return "env"
	case "env":
		return "resources"
	}
	return ""
}
