package live

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"

	"gameday.dev/gameday/scenarios/timeline"
)

// line is one entry as the page lists it.
type line struct {
	Kind, Class, Clock, Who, What, Detail string
}

var lineTmpl = template.Must(template.New("line").Parse(
	`<li class="entry kind-{{.Kind}}{{with .Class}} {{.}}{{end}}" data-kind="{{.Kind}}"><time>{{.Clock}}</time>` +
		`{{with .Who}} <b class="who">{{.}}</b>{{end}} <span class="what">{{.What}}</span>` +
		`{{with .Detail}} <span class="detail">{{.}}</span>{{end}}</li>`))

// RenderEntry renders e as the page lists it, its time on the game's clock
// (from t0; the wall clock before the game starts). Probes and pods are not
// listed (the services' and nodes' states show them), nor a hint the game
// still holds (its text would give it away), nor the cost of reading the
// audit log, nor the cluster's Normal events.
func RenderEntry(e timeline.Entry, t0 time.Time) (string, bool) {
	l, ok := describe(e)
	if !ok {
		return "", false
	}
	l.Kind = e.Kind
	l.Clock = clock(e.Time, t0)
	var b bytes.Buffer
	if err := lineTmpl.Execute(&b, l); err != nil {
		return "", false
	}
	return b.String(), true
}

// zone is the wall clock's, for what happens before the game's clock starts.
var zone = time.Local

// clock is "+m:ss" from t0, or the wall clock's "15:04:05" before it.
func clock(at, t0 time.Time) string {
	if t0.IsZero() || at.Before(t0) {
		return at.In(zone).Format("15:04:05")
	}
	d := at.Sub(t0).Truncate(time.Second)
	return fmt.Sprintf("+%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

func describe(e timeline.Entry) (line, bool) {
	switch e.Kind {
	case timeline.KindRun:
		if e.Phase == "audit-read" {
			return line{}, false
		}
		if e.Phase == "kit" {
			return line{Who: e.Player, What: "has a kit", Detail: e.Message}, true
		}
		return line{What: phaseText(e.Phase), Detail: join(e.Message, e.Error), Class: errClass(e.Error)}, true
	case timeline.KindStep:
		who := e.Actor
		if e.Player != "" {
			who = e.Player
		}
		switch {
		case e.Phase == "start":
			return line{Who: who, What: e.Step + " starts", Detail: join(e.Action, strings.Join(e.Targets, ", ")), Class: "actor-" + e.Actor}, true
		case e.Error != "":
			return line{Who: who, What: e.Step + " failed", Detail: e.Error, Class: "error actor-" + e.Actor}, true
		case e.Blocked:
			return line{Who: who, What: e.Step + " was blocked", Detail: e.Message, Class: "blocked actor-" + e.Actor}, true
		default:
			return line{Who: who, What: e.Step + " done", Detail: e.Message, Class: "actor-" + e.Actor}, true
		}
	case timeline.KindRecord:
		what := "changed"
		if e.Phase == "recovered" {
			what = "put back"
		}
		return line{Who: "gameday", What: fmt.Sprintf("%s %s %s", what, e.RecordKind, e.Name), Detail: join(e.Value, e.Error), Class: errClass(e.Error)}, true
	case timeline.KindAutomation:
		return line{Who: "automation", What: e.Rule, Detail: join(e.Message, e.Error), Class: errClass(e.Error)}, true
	case timeline.KindChange:
		who := e.Manager
		if who == "" {
			who = "the cluster"
		}
		return line{Who: who, What: fmt.Sprintf("%s %s", e.Object, e.Field), Detail: fmt.Sprintf("%s → %s", orDash(e.From), orDash(e.To))}, true
	case timeline.KindAct:
		what := strings.TrimSpace(strings.Join([]string{e.Verb, e.Resource, e.Subresource, e.Name}, " "))
		if e.Count > 1 {
			what += fmt.Sprintf(" (%d reads)", e.Count)
		}
		class := "act"
		if e.Code >= 400 {
			class = "act refused"
		}
		detail := e.Via
		if e.Code != 0 {
			detail = fmt.Sprintf("%s, %d", e.Via, e.Code)
		}
		return line{Who: e.Player, What: strings.Join(strings.Fields(what), " "), Detail: detail, Class: class}, true
	case timeline.KindGoal:
		if e.Phase == "reached" {
			detail := e.Message
			if detail == "" {
				detail = e.Step
			}
			return line{What: "goal reached", Detail: detail, Class: "goal-reached"}, true
		}
		return line{What: "goal", Detail: e.Message}, true
	case timeline.KindHint:
		if e.Phase != "released" {
			return line{}, false
		}
		return line{What: "hint " + e.Name + " released", Detail: join(e.Reason, e.Message), Class: "hint"}, true
	case timeline.KindFact:
		return line{Who: e.Player, What: "learned " + e.Name, Detail: e.Message, Class: "fact"}, true
	case timeline.KindNote:
		return line{Who: e.Player, What: e.Phase, Detail: e.Message, Class: "note"}, true
	case timeline.KindNode:
		return line{Who: "node " + e.Name, What: nodeText(e), Detail: e.Pool, Class: "node"}, true
	case timeline.KindDeployment:
		ready := ""
		if e.ReadyCount != nil {
			ready = fmt.Sprintf("%d/%d ready", *e.ReadyCount, e.Replicas)
		}
		return line{Who: e.Tier, What: join(e.Release, ready), Class: "deployment"}, true
	case timeline.KindEvent:
		if e.EventType != "Warning" { // the cluster's routine (scheduled, pulled, created) would drown the rest
			return line{}, false
		}
		return line{Who: e.Object, What: e.Reason, Detail: e.Message, Class: "event " + strings.ToLower(e.EventType)}, true
	}
	return line{}, false
}

func phaseText(p string) string {
	switch p {
	case "start":
		return "the run starts"
	case "cluster-up":
		return "the cluster is up"
	case "fixtures":
		return "the system is deployed"
	case "steady-state":
		return "steady state"
	case "timeline-start":
		return "the clock starts"
	case "abort":
		return "aborted"
	case "game-won":
		return "the game is won"
	case "recover-start":
		return "recovery starts"
	case "players-recovered":
		return "the players' changes are put back"
	case "verified":
		return "the cluster is checked"
	case "end":
		return "the end"
	}
	return p
}

func nodeText(e timeline.Entry) string {
	if e.Deleted {
		return "gone"
	}
	var parts []string
	if e.Ready != nil {
		parts = append(parts, map[bool]string{true: "Ready", false: "NotReady"}[*e.Ready])
	}
	if e.Schedulable != nil && !*e.Schedulable {
		parts = append(parts, "cordoned")
	}
	if e.InService != nil && !*e.InService {
		parts = append(parts, "out of service")
	}
	if len(parts) == 0 {
		return "seen"
	}
	return strings.Join(parts, ", ")
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ": " + b
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func errClass(err string) string {
	if err != "" {
		return "error"
	}
	return ""
}
