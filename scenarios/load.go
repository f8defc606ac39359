package scenarios

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/internal/yamlfile"
	"gameday.dev/gameday/system"
)

// Defaults of the format.
const (
	DefaultProbeRate    = 10.0
	DefaultProbeTimeout = 2 * time.Second
	DefaultSuccessRatio = 0.99
	DefaultLatency      = time.Second
	DefaultWindow       = 10 * time.Second
	DefaultSteadyFor    = 10 * time.Second
	DefaultSteadyWithin = 2 * time.Minute
	DefaultMaxDuration  = 15 * time.Minute
	DefaultHorizon      = 5 * time.Minute
	// MaxProbeRate bounds the probes: they share two cores with the cluster.
	MaxProbeRate = 50.0
	// MinProbeRate: at least one probe of each endpoint every 10 s, or a
	// service's state is not seen at all.
	MinProbeRate = 0.1
	// MaxStoryScale: one minute of a run stands for at most a day of the story.
	MaxStoryScale = 1440
)

// DefaultTopologies are run when a scenario names none.
var DefaultTopologies = []string{"shared", "separate"}

// Load reads, strictly decodes, defaults and validates a scenario file.
// Every problem is reported as file:line: field: message (a yamlfile.Errors).
func Load(path string) (*Scenario, error) {
	data, err := yamlfile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse is Load on data already read from file. Topology and System files a
// scenario names are read relative to file's folder.
func Parse(file string, data []byte) (*Scenario, error) {
	return ParseFor(file, data, nil)
}

// ParseFor is Parse against sys (gameday's --system) instead of the system
// the file names; nil: the file's (or system.Default).
func ParseFor(file string, data []byte, sys *system.System) (*Scenario, error) {
	var f scenarioFile
	doc, err := yamlfile.Decode(file, data, &f)
	if err != nil {
		return nil, err
	}
	s, errs := f.convert(doc, filepath.Dir(file), sys)
	errs = yamlfile.WithNumbers(&f, errs)
	s.File = file
	s.Digest = Digest(data)
	if err := doc.FieldErrors(errs); err != nil {
		return nil, err
	}
	return s, nil
}

// Digest identifies a scenario file's bytes: "sha256:" and their hex SHA-256.
// A run records it so that a gate compares only runs of the same scenario,
// not of another file that happens to share its name.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func durOr(d *time.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return *d
}

// convert defaults the file into a Scenario and validates it.
func (f *scenarioFile) convert(doc *yamlfile.Document, dir string, sys *system.System) (*Scenario, field.ErrorList) {
	var errs field.ErrorList
	if f.APIVersion != APIVersion {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), f.APIVersion, "must be "+APIVersion))
	}
	if f.Kind != Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), f.Kind, "must be "+Kind))
	}
	s := &Scenario{Name: f.Name, Description: strings.TrimSpace(f.Description), StoryScale: f.StoryScale,
		MaxDuration: durOr(f.MaxDuration, DefaultMaxDuration)}
	if f.Name == "" {
		errs = append(errs, field.Required(field.NewPath("name"), "a scenario needs a name"))
	} else {
		for _, msg := range validation.IsDNS1123Label(f.Name) {
			errs = append(errs, field.Invalid(field.NewPath("name"), f.Name, msg))
		}
	}
	if !(f.StoryScale >= 0 && f.StoryScale <= MaxStoryScale) {
		errs = append(errs, field.Invalid(field.NewPath("storyScale"), f.StoryScale, fmt.Sprintf("must be between 0 and %d (a minute of the run standing for a day of the story)", MaxStoryScale)))
	}
	errs = append(errs, positive(field.NewPath("maxDuration"), s.MaxDuration)...)
	s.Horizon = durOr(f.Horizon, DefaultHorizon)
	if f.Horizon != nil {
		errs = append(errs, positive(field.NewPath("horizon"), s.Horizon)...)
	}
	if s.Horizon > s.MaxDuration && s.MaxDuration > 0 {
		errs = append(errs, field.Invalid(field.NewPath("horizon"), s.Horizon.String(), fmt.Sprintf("longer than maxDuration (%s): the run could never observe it", s.MaxDuration)))
	}

	v := &validator{s: s}
	if sys == nil {
		var serrs field.ErrorList
		if sys, serrs = systemFor(f.System, dir); len(serrs) > 0 {
			return s, append(errs, serrs...) // nothing else can be checked against it
		}
	}
	s.System = sys
	errs = append(errs, v.topologies(f.Topologies, dir)...)
	errs = append(errs, v.fixtures(f.Fixtures)...)
	errs = append(errs, v.probes(f.Probes)...)
	errs = append(errs, v.objectives(f.Objectives)...)
	ss := f.SteadyState
	if ss == nil {
		ss = &steadyStateFile{}
	}
	s.SteadyState = SteadyState{Duration: durOr(ss.Duration, DefaultSteadyFor), Timeout: durOr(ss.Timeout, DefaultSteadyWithin)}
	errs = append(errs, positive(field.NewPath("steadyState", "duration"), s.SteadyState.Duration)...)
	errs = append(errs, positive(field.NewPath("steadyState", "timeout"), s.SteadyState.Timeout)...)
	errs = append(errs, v.businessWindows(f.BusinessWindows)...)

	names := map[string]bool{}
	tl := field.NewPath("timeline")
	if len(f.Timeline) == 0 {
		errs = append(errs, field.Required(tl, "a scenario needs at least one step"))
	}
	var lastAt time.Duration
	for i, sf := range f.Timeline {
		p := tl.Index(i)
		st, serrs := v.step(sf, p, fmt.Sprintf("%d-%s", i+1, sf.Action), inTimeline)
		st.Line = doc.Line(p.String())
		errs = append(errs, serrs...)
		errs = append(errs, uniqueName(names, st.Name, p.Child("name"))...)
		if st.At != nil {
			if *st.At >= 0 && *st.At < lastAt {
				errs = append(errs, field.Invalid(p.Child("at"), st.At.String(),
					fmt.Sprintf("steps out of order: an earlier step is at %s; list steps in the order they run", lastAt)))
			} else if *st.At > s.MaxDuration {
				errs = append(errs, field.Invalid(p.Child("at"), st.At.String(), fmt.Sprintf("after maxDuration (%s)", s.MaxDuration)))
			}
			lastAt = *st.At
		}
		if st.After != nil {
			st.After.Line = doc.Line(p.Child("after").String())
		}
		s.Timeline = append(s.Timeline, st)
	}
	rules := map[string]bool{}
	for i, rf := range f.Automation {
		p := field.NewPath("automation").Index(i)
		r := Rule{Name: rf.Name, Description: strings.TrimSpace(rf.Description), Line: doc.Line(p.String())}
		errs = append(errs, dnsName(p.Child("name"), rf.Name)...)
		errs = append(errs, uniqueName(rules, rf.Name, p.Child("name"))...)
		if rf.When == nil {
			errs = append(errs, field.Required(p.Child("when"), "a rule needs a condition"))
		} else {
			c, cerrs := v.condition(*rf.When, p.Child("when"))
			c.Line = doc.Line(p.Child("when").String())
			r.When = c
			errs = append(errs, cerrs...)
		}
		if len(rf.Steps) == 0 {
			errs = append(errs, field.Required(p.Child("steps"), "a rule needs at least one step"))
		}
		for j, sf := range rf.Steps {
			sp := p.Child("steps").Index(j)
			st, serrs := v.step(sf, sp, fmt.Sprintf("%s-%d-%s", rf.Name, j+1, sf.Action), inAutomation)
			st.Line = doc.Line(sp.String())
			errs = append(errs, serrs...)
			errs = append(errs, uniqueName(names, st.Name, sp.Child("name"))...)
			r.Steps = append(r.Steps, st)
		}
		s.Automation = append(s.Automation, r)
	}
	for i, cf := range f.Abort {
		p := field.NewPath("abort").Index(i)
		c, cerrs := v.condition(cf, p)
		c.Line = doc.Line(p.String())
		errs = append(errs, cerrs...)
		if cf.Within != nil {
			errs = append(errs, field.Forbidden(p.Child("within"), "only a step's after condition has a bound"))
		}
		s.Abort = append(s.Abort, c)
	}
	errs = append(errs, v.play(f.Play, doc, names)...)
	return s, errs
}

// play checks the game's part: roles with unique names, at most one default,
// facts that name a step or a business window; hints with a text.
func (v *validator) play(f *playFile, doc *yamlfile.Document, stepNames map[string]bool) field.ErrorList {
	p := field.NewPath("play")
	v.s.Play.TimeLimit = DefaultTimeLimit
	if f == nil {
		return nil
	}
	var errs field.ErrorList
	v.s.Play.Briefing = strings.TrimSpace(f.Briefing)
	if f.TimeLimit != nil {
		v.s.Play.TimeLimit = *f.TimeLimit
		errs = append(errs, positive(p.Child("timeLimit"), *f.TimeLimit)...)
	}
	facts := map[string]bool{}
	for _, st := range v.s.Timeline {
		facts[st.Name] = true
	}
	for _, w := range v.s.BusinessWindows {
		facts[w.Name] = true
	}
	names, defaults := map[string]bool{}, 0
	for i, rf := range f.Roles {
		rp := p.Child("roles").Index(i)
		errs = append(errs, dnsName(rp.Child("name"), rf.Name)...)
		errs = append(errs, uniqueName(names, rf.Name, rp.Child("name"))...)
		r := Role{Name: rf.Name, Title: strings.TrimSpace(rf.Title), Card: strings.TrimSpace(rf.Card), Default: rf.Default, Line: doc.Line(rp.String())}
		if r.Card == "" {
			errs = append(errs, field.Required(rp.Child("card"), "what the player in this role knows"))
		}
		for j, k := range rf.Knows {
			if !facts[k] {
				errs = append(errs, field.Invalid(rp.Child("knows").Index(j), k, "names no timeline step or business window of the scenario"))
			}
			r.Knows = append(r.Knows, k)
		}
		if rf.Default {
			if defaults++; defaults > 1 {
				errs = append(errs, field.Invalid(rp.Child("default"), true, "another role is the default already"))
			}
		}
		v.s.Play.Roles = append(v.s.Play.Roles, r)
	}
	for i, hf := range f.Hints {
		hp := p.Child("hints").Index(i)
		h := Hint{Text: strings.TrimSpace(hf.Text), After: hf.After, Line: doc.Line(hp.String())}
		if h.Text == "" {
			errs = append(errs, field.Required(hp.Child("text"), "what the hint says"))
		}
		errs = append(errs, notNegative(hp.Child("after"), hf.After)...)
		if hf.When != nil {
			c, cerrs := v.condition(*hf.When, hp.Child("when"))
			c.Line = doc.Line(hp.Child("when").String())
			errs = append(errs, cerrs...)
			if hf.When.Within != nil {
				errs = append(errs, field.Forbidden(hp.Child("when", "within"), "only a step's after condition has a bound"))
			}
			h.When = &c
		}
		v.s.Play.Hints = append(v.s.Play.Hints, h)
	}
	for i, sf := range f.Curveballs {
		cp := p.Child("curveballs").Index(i)
		st, serrs := v.step(sf, cp, fmt.Sprintf("curveball-%d-%s", i+1, sf.Action), inCurveballs)
		st.Line = doc.Line(cp.String())
		errs = append(errs, serrs...)
		errs = append(errs, uniqueName(stepNames, st.Name, cp.Child("name"))...)
		v.s.Play.Curveballs = append(v.s.Play.Curveballs, st)
	}
	return errs
}

func positive(p *field.Path, d time.Duration) field.ErrorList {
	if d <= 0 {
		return field.ErrorList{field.Invalid(p, d.String(), "must be a positive duration such as 30s")}
	}
	return nil
}

func notNegative(p *field.Path, d *time.Duration) field.ErrorList {
	if d != nil && *d < 0 {
		return field.ErrorList{field.Invalid(p, d.String(), "must not be negative")}
	}
	return nil
}

func dnsName(p *field.Path, name string) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
}

func uniqueName(seen map[string]bool, name string, p *field.Path) field.ErrorList {
	if seen[name] {
		return field.ErrorList{field.Duplicate(p, name)}
	}
	seen[name] = true
	return nil
}

// validator holds what later checks need from earlier ones.
type validator struct {
	s *Scenario
}

func (v *validator) topologies(names []string, dir string) field.ErrorList {
	p := field.NewPath("topologies")
	if len(names) == 0 {
		names = DefaultTopologies
	}
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, n := range names {
		arg := n
		if _, ok := cluster.Builtin(n); !ok && !filepath.IsAbs(n) {
			arg = filepath.Join(dir, n)
		}
		t, err := cluster.ResolveTopology(arg)
		if err != nil {
			var yerrs yamlfile.Errors
			if errors.As(err, &yerrs) {
				err = fmt.Errorf("invalid topology file: %s", yerrs[0])
			} else if errors.Is(err, cluster.ErrUnknownTopology) {
				err = fmt.Errorf("use %s, or the path of a topology file", strings.Join(cluster.BuiltinNames(), ", "))
			}
			errs = append(errs, field.Invalid(p.Index(i), n, err.Error()))
			continue
		}
		if seen[t.Name] {
			errs = append(errs, field.Duplicate(p.Index(i), n))
			continue
		}
		seen[t.Name] = true
		v.s.Topologies = append(v.s.Topologies, t)
	}
	return errs
}

func (v *validator) fixtures(f *fixturesFile) field.ErrorList {
	p := field.NewPath("fixtures")
	sys := v.s.System
	params := fixtures.SystemParams(sys, "")
	var errs field.ErrorList
	if f != nil {
		params.Degrade, params.PDB = f.Degrade, f.PDB
		for _, k := range sortedKeys(f.Replicas) {
			n := f.Replicas[k]
			kp := p.Child("replicas").Key(k)
			if _, ok := sys.Tier(k); !ok {
				errs = append(errs, field.NotSupported(kp, k, sys.TierNames()))
			} else if n < 1 || n > fixtures.MaxReplicas {
				errs = append(errs, field.Invalid(kp, n, fmt.Sprintf("must be between 1 and %d", fixtures.MaxReplicas)))
			} else {
				params.Replicas[fixtures.Tier(k)] = n
			}
		}
		for _, k := range sortedKeys(f.Releases) {
			rel := f.Releases[k]
			kp := p.Child("releases").Key(k)
			if t, ok := sys.Tier(k); !ok {
				errs = append(errs, field.NotSupported(kp, k, sys.TierNames()))
			} else if err := sys.CanRun(t, rel); err != nil {
				errs = append(errs, field.Invalid(kp, rel, err.Error()))
			} else {
				params.Releases[fixtures.Tier(k)] = rel
			}
		}
	}
	v.s.Fixtures = params
	return errs
}

func (v *validator) probes(f *probesFile) field.ErrorList {
	v.s.Probes = Probes{Rate: DefaultProbeRate, Timeout: DefaultProbeTimeout, Critical: DefaultCritical(v.s.System)}
	if f == nil {
		return nil
	}
	var errs field.ErrorList
	p := field.NewPath("probes")
	if f.KeepAlive != nil {
		v.s.Probes.KeepAlive = *f.KeepAlive
		if k := *f.KeepAlive; !(k >= 0 && k <= 1) {
			errs = append(errs, field.Invalid(p.Child("keepAlive"), k, "must be a share from 0 to 1"))
		}
	}
	if f.Critical != nil {
		v.s.Probes.Critical = nil
		for i, path := range f.Critical {
			mix := v.s.ProbeMix()
			j := slices.IndexFunc(mix, func(pr Probe) bool { return pr.Path == path })
			if j < 0 {
				errs = append(errs, field.NotSupported(p.Child("critical").Index(i), path, v.probePaths()))
				continue
			}
			v.s.Probes.Critical = append(v.s.Probes.Critical, mix[j].Name())
		}
	}
	if f.Rate != 0 {
		if !(f.Rate >= MinProbeRate && f.Rate <= MaxProbeRate) {
			errs = append(errs, field.Invalid(p.Child("rate"), f.Rate, fmt.Sprintf("must be between %g and %g requests per second", MinProbeRate, MaxProbeRate)))
		}
		v.s.Probes.Rate = f.Rate
	}
	v.s.Probes.Timeout = durOr(f.Timeout, DefaultProbeTimeout)
	return append(errs, positive(p.Child("timeout"), v.s.Probes.Timeout)...)
}

func (v *validator) objectives(fs []objectiveFile) field.ErrorList {
	var errs field.ErrorList
	if len(fs) == 0 {
		for _, svc := range v.s.System.ServiceNames() {
			v.s.Objectives = append(v.s.Objectives, Objective{Service: Service(svc), SuccessRatio: DefaultSuccessRatio, Latency: DefaultLatency, Window: DefaultWindow})
		}
		return nil
	}
	seen := map[string]bool{}
	for i, f := range fs {
		p := field.NewPath("objectives").Index(i)
		o := Objective{Service: Service(f.Service), Journey: f.Journey, SuccessRatio: DefaultSuccessRatio,
			Latency: durOr(f.Latency, DefaultLatency), Window: durOr(f.Window, DefaultWindow)}
		errs = append(errs, v.service(p.Child("service"), f.Service)...)
		if f.Journey != "" && !slices.ContainsFunc(v.s.ProbeMix(), func(pr Probe) bool { return pr.Service == o.Service && pr.Path == f.Journey }) {
			var paths []string
			for _, pr := range v.s.ProbeMix() {
				if pr.Service == o.Service {
					paths = append(paths, pr.Path)
				}
			}
			errs = append(errs, field.NotSupported(p.Child("journey"), f.Journey, paths))
		}
		if seen[o.Key()] {
			errs = append(errs, field.Duplicate(p.Child("service"), o.Key()))
		}
		seen[o.Key()] = true
		if f.SuccessRatio != nil {
			o.SuccessRatio = *f.SuccessRatio
			if !(o.SuccessRatio > 0 && o.SuccessRatio <= 1) {
				errs = append(errs, field.Invalid(p.Child("successRatio"), o.SuccessRatio, "must be above 0 and at most 1"))
			}
		}
		errs = append(errs, positive(p.Child("latency"), o.Latency)...)
		errs = append(errs, positive(p.Child("window"), o.Window)...)
		v.s.Objectives = append(v.s.Objectives, o)
	}
	return errs
}

func (v *validator) probePaths() []string {
	var out []string
	for _, pr := range v.s.ProbeMix() {
		out = append(out, pr.Path)
	}
	return out
}

func (v *validator) service(p *field.Path, s string) field.ErrorList {
	if s == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if _, ok := v.s.System.Service(s); !ok {
		return field.ErrorList{field.NotSupported(p, s, v.s.System.ServiceNames())}
	}
	return nil
}

// systemFor is the system a scenario file names: a built-in, or a System
// file relative to the scenario's folder; none names system.Default.
func systemFor(name, dir string) (*system.System, field.ErrorList) {
	p := field.NewPath("system")
	if name == "" {
		return system.MustDefault(), nil
	}
	if !strings.ContainsAny(name, "/.") {
		if slices.Contains(system.BuiltinNames(), name) {
			sys, _, err := system.Builtin(name)
			if err != nil {
				return nil, field.ErrorList{field.InternalError(p, err)}
			}
			return sys, nil
		}
		return nil, field.ErrorList{field.NotSupported(p, name, system.BuiltinNames())}
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	sys, err := system.Load(path)
	if err != nil {
		return nil, field.ErrorList{field.Invalid(p, name, err.Error())}
	}
	return sys, nil
}

func (v *validator) businessWindows(fs []businessWindowFile) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, f := range fs {
		p := field.NewPath("businessWindows").Index(i)
		errs = append(errs, dnsName(p.Child("name"), f.Name)...)
		errs = append(errs, uniqueName(seen, f.Name, p.Child("name"))...)
		errs = append(errs, v.service(p.Child("service"), f.Service)...)
		w := BusinessWindow{Name: f.Name, Description: strings.TrimSpace(f.Description), Service: Service(f.Service)}
		if f.Start == nil {
			errs = append(errs, field.Required(p.Child("start"), ""))
		} else {
			w.Start = *f.Start
			errs = append(errs, notNegative(p.Child("start"), f.Start)...)
		}
		if f.End == nil {
			errs = append(errs, field.Required(p.Child("end"), ""))
		} else {
			w.End = *f.End
			if f.Start != nil && w.End <= w.Start {
				errs = append(errs, field.Invalid(p.Child("end"), w.End.String(), "must be after start ("+w.Start.String()+")"))
			}
		}
		v.s.BusinessWindows = append(v.s.BusinessWindows, w)
	}
	return errs
}

// Where a step is: its timing and its actor depend on it.
type stepPlace int

const (
	inTimeline   stepPlace = iota // at a time or after a condition; the scenario's or the operator's
	inAutomation                  // when its rule fires; the automation's
	inCurveballs                  // when the facilitator injects it during a game; the scenario's
)

func (v *validator) step(f stepFile, p *field.Path, defName string, where stepPlace) (Step, field.ErrorList) {
	st := Step{Name: f.Name, Action: Action(f.Action), At: f.At, Delay: durOr(f.Delay, 0),
		Version: f.Version, Duration: durOr(f.Duration, 0), Timeout: durOr(f.Timeout, 0), Message: strings.TrimSpace(f.Message),
		Actor: ActorScenario, DisableEviction: f.DisableEviction}
	var errs field.ErrorList
	if f.DisableEviction && st.Action != ActionDrain {
		errs = append(errs, field.Forbidden(p.Child("disableEviction"), "only a drain evicts"))
	}
	switch {
	case where == inAutomation && f.Actor != "":
		errs = append(errs, field.Forbidden(p.Child("actor"), "an automation step is the automation's"))
	case where == inAutomation:
		st.Actor = ActorAutomation
	case where == inCurveballs && f.Actor != "":
		errs = append(errs, field.Forbidden(p.Child("actor"), "a curveball is the scenario's, injected by the facilitator"))
	case where == inCurveballs:
	case f.Actor == string(ActorScenario) || f.Actor == string(ActorOperator):
		st.Actor = Actor(f.Actor)
	case f.Actor != "":
		errs = append(errs, field.NotSupported(p.Child("actor"), f.Actor, []string{string(ActorScenario), string(ActorOperator)}))
	}
	if st.Name == "" {
		st.Name = defName
	} else {
		errs = append(errs, dnsName(p.Child("name"), f.Name)...)
	}
	spec, ok := st.Action.Spec()
	if f.Action == "" {
		errs = append(errs, field.Required(p.Child("action"), "one of "+strings.Join(Actions(), ", ")))
	} else if !ok {
		errs = append(errs, field.NotSupported(p.Child("action"), f.Action, Actions()))
	}
	if where != inTimeline {
		when := "an automation step runs when its rule fires"
		if where == inCurveballs {
			when = "a curveball runs when the facilitator injects it"
		}
		if f.At != nil {
			errs = append(errs, field.Forbidden(p.Child("at"), when))
		}
		if f.After != nil {
			errs = append(errs, field.Forbidden(p.Child("after"), when))
		}
	}
	if f.At != nil && f.After != nil {
		errs = append(errs, field.Forbidden(p.Child("after"), "a step has at or after, not both"))
	}
	errs = append(errs, notNegative(p.Child("at"), f.At)...)
	errs = append(errs, notNegative(p.Child("delay"), f.Delay)...)
	if f.Delay != nil && f.After == nil {
		errs = append(errs, field.Forbidden(p.Child("delay"), "only a step with after has a delay"))
	}
	if f.After != nil && where == inTimeline {
		c, cerrs := v.condition(*f.After, p.Child("after"))
		st.After = &c
		errs = append(errs, cerrs...)
	}
	if !ok {
		return st, errs
	}
	// What the action takes.
	if f.Version == "" && spec.NeedVersion {
		errs = append(errs, field.Required(p.Child("version"), fmt.Sprintf("%s needs a version", f.Action)))
	} else if f.Version != "" && !spec.TakeVersion {
		errs = append(errs, field.Forbidden(p.Child("version"), fmt.Sprintf("%s takes no version", f.Action)))
	} else if f.Version != "" {
		errs = append(errs, v.versionFor(st.Action, p.Child("version"), f.Version)...)
	}
	if st.Action == ActionProvisionPool && st.Version == "" {
		st.Version = VersionControlPlane
	}
	switch {
	case spec.NeedDur && f.Duration == nil:
		errs = append(errs, field.Required(p.Child("duration"), fmt.Sprintf("%s needs a duration", f.Action)))
	case !spec.NeedDur && f.Duration != nil:
		errs = append(errs, field.Forbidden(p.Child("duration"), fmt.Sprintf("%s takes no duration", f.Action)))
	case f.Duration != nil:
		errs = append(errs, positive(p.Child("duration"), st.Duration)...)
	}
	if f.Timeout != nil {
		if !spec.TakeTimeout {
			errs = append(errs, field.Forbidden(p.Child("timeout"), fmt.Sprintf("%s takes no timeout", f.Action)))
		} else {
			errs = append(errs, positive(p.Child("timeout"), st.Timeout)...)
		}
	}
	if spec.NeedMessage && st.Message == "" {
		errs = append(errs, field.Required(p.Child("message"), fmt.Sprintf("%s needs a message", f.Action)))
	} else if !spec.NeedMessage && f.Message != "" {
		errs = append(errs, field.Forbidden(p.Child("message"), fmt.Sprintf("%s takes no message", f.Action)))
	}
	t, terrs := v.target(f.Target, p.Child("target"), spec.Target, string(f.Action), true)
	st.Target = t
	errs = append(errs, terrs...)
	if st.Action == ActionProvisionPool && len(terrs) == 0 {
		errs = append(errs, v.spareFor(p.Child("target"), t.Selector)...)
	}
	if (st.Action == ActionRelease || st.Action == ActionRollback) && len(terrs) == 0 {
		if tier, ok := v.s.System.Tier(string(t.Selector.Tier)); ok {
			if st.Action == ActionRelease && f.Version != "" {
				if err := v.s.System.CanRun(tier, f.Version); err != nil {
					errs = append(errs, field.Invalid(p.Child("version"), f.Version, err.Error()))
				}
			}
			if tier.Deployment != nil {
				errs = append(errs, field.Invalid(p.Child("target", "tier"), tier.Name, "gameday releases and rolls back the mock app's tiers and those of your own image (tag, env), not those of your manifests (kustomize) so far: such a tier runs as its build has it throughout"))
			}
		}
	}
	return st, errs
}

var kubeVersion = regexp.MustCompile(`^v1\.[0-9]+\.[0-9]+$`)

func isKubeVersion(v string) bool { return kubeVersion.MatchString(v) }

func (v *validator) versionFor(a Action, p *field.Path, version string) field.ErrorList {
	switch a {
	case ActionRelease:
		if _, ok := v.s.System.Release(version); !ok {
			return field.ErrorList{field.NotSupported(p, version, v.s.System.ReleaseNames())}
		}
	case ActionControlPlaneUpgrade:
		if !isKubeVersion(version) {
			return field.ErrorList{field.Invalid(p, version, "must be a Kubernetes version such as v1.38.0")}
		}
	case ActionProvisionPool:
		if version != VersionControlPlane && version != VersionPool {
			return field.ErrorList{field.NotSupported(p, version, []string{VersionControlPlane, VersionPool})}
		}
	}
	return nil
}

// target checks a step's or condition's target against what its action
// takes and the topologies the scenario runs on.
func (v *validator) target(f *targetFile, p *field.Path, kind TargetKind, what string, isStep bool) (Target, field.ErrorList) {
	if kind == TargetNone {
		if f != nil {
			return Target{}, field.ErrorList{field.Forbidden(p, what+" takes no target")}
		}
		return Target{}, nil
	}
	if f == nil {
		return Target{}, field.ErrorList{field.Required(p, what+" needs a target")}
	}
	t := Target{Selector: Selector{Pool: f.Pool, Tier: fixtures.Tier(f.Tier), Labels: f.Labels}, Mode: Mode(f.Mode), Value: f.Value}
	var errs field.ErrorList
	set := 0
	for _, s := range []bool{f.Pool != "", f.Tier != "", len(f.Labels) > 0} {
		if s {
			set++
		}
	}
	switch {
	case set == 0:
		errs = append(errs, field.Required(p, "a target names a pool, a tier or labels"))
	case set > 1:
		errs = append(errs, field.Forbidden(p, "a target names one of pool, tier or labels, not several"))
	}
	if f.Tier != "" {
		if _, ok := v.s.System.Tier(f.Tier); !ok {
			errs = append(errs, field.NotSupported(p.Child("tier"), f.Tier, v.s.System.TierNames()))
		}
	}
	if f.Pool != "" && kind != TargetTier {
		errs = append(errs, v.pool(p.Child("pool"), f.Pool, isStep)...)
	}
	for k, val := range f.Labels {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(p.Child("labels").Key(k), k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(val) {
			errs = append(errs, field.Invalid(p.Child("labels").Key(k), val, msg))
		}
	}
	switch kind {
	case TargetTier:
		if f.Pool != "" || len(f.Labels) > 0 {
			errs = append(errs, field.Forbidden(p, what+" targets a tier: target.tier"))
		}
	case TargetPool:
		if len(f.Labels) > 0 {
			errs = append(errs, field.Forbidden(p.Child("labels"), what+" targets a pool: target.pool, or target.tier for the pool hosting it"))
		}
	}
	if kind == TargetTier || kind == TargetPool {
		if f.Mode != "" || f.Value != 0 {
			errs = append(errs, field.Forbidden(p.Child("mode"), what+" acts on the whole "+map[TargetKind]string{TargetTier: "tier", TargetPool: "pool"}[kind]))
		}
		return t, errs
	}
	if t.Mode == "" {
		t.Mode = ModeAll
	}
	switch t.Mode {
	case ModeAll, ModeOne:
		if f.Value != 0 {
			errs = append(errs, field.Forbidden(p.Child("value"), "only modes fixed and percent take a value"))
		}
	case ModeFixed:
		if f.Value < 1 {
			errs = append(errs, field.Invalid(p.Child("value"), f.Value, "mode fixed needs a value of at least 1"))
		}
	case ModePercent:
		if f.Value < 1 || f.Value > 100 {
			errs = append(errs, field.Invalid(p.Child("value"), f.Value, "mode percent needs a value between 1 and 100"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("mode"), f.Mode, modeNames()))
	}
	return t, errs
}

// pool checks that a pool exists in every topology of the scenario.
func (v *validator) pool(p *field.Path, name string, isStep bool) field.ErrorList {
	if name == cluster.SystemPool {
		if isStep {
			return field.ErrorList{field.Forbidden(p, "the control-plane node (pool system) is never a fault target")}
		}
		return nil
	}
	for _, t := range v.s.Topologies {
		if _, ok := t.Pool(name); !ok {
			var names []string
			for _, pl := range t.Pools {
				names = append(names, pl.Name)
			}
			return field.ErrorList{field.Invalid(p, name, fmt.Sprintf("topology %s has no such pool (it has %s); name a tier to mean the pool hosting it on every topology", t.Name, strings.Join(names, ", ")))}
		}
	}
	return nil
}

func (v *validator) condition(f conditionFile, p *field.Path) (Condition, field.ErrorList) {
	c := Condition{Type: ConditionType(f.Condition), Service: Service(f.Service), For: durOr(f.For, 0), Within: durOr(f.Within, 0)}
	var errs field.ErrorList
	spec, ok := c.Type.Spec()
	if f.Condition == "" {
		errs = append(errs, field.Required(p.Child("condition"), "one of "+strings.Join(ConditionTypes(), ", ")))
	} else if !ok {
		errs = append(errs, field.NotSupported(p.Child("condition"), f.Condition, ConditionTypes()))
	}
	errs = append(errs, notNegative(p.Child("for"), f.For)...)
	if f.Within != nil {
		errs = append(errs, positive(p.Child("within"), c.Within)...)
	}
	if !ok {
		return c, errs
	}
	if spec.NeedService {
		errs = append(errs, v.service(p.Child("service"), f.Service)...)
	} else if f.Service != "" {
		errs = append(errs, field.Forbidden(p.Child("service"), f.Condition+" takes a target, not a service"))
	}
	if f.Target != nil && (f.Target.Mode != "" || f.Target.Value != 0) {
		errs = append(errs, field.Forbidden(p.Child("target", "mode"), "a condition looks at every match"))
		f.Target.Mode, f.Target.Value = "", 0
	}
	t, terrs := v.target(f.Target, p.Child("target"), spec.Target, f.Condition, false)
	c.Selector = t.Selector
	return c, append(errs, terrs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func modeNames() []string {
	out := make([]string, len(Modes))
	for i, m := range Modes {
		out[i] = string(m)
	}
	return out
}

// spareFor checks that provision-pool has a spare pool to bring in on every
// topology: the selected pool is a spare, or a spare replaces it.
func (v *validator) spareFor(p *field.Path, sel Selector) field.ErrorList {
	for _, t := range v.s.Topologies {
		if _, err := SparePools(v.s.System, t, sel); err != nil {
			return field.ErrorList{field.Invalid(p, sel.String(), err.Error())}
		}
	}
	return nil
}
