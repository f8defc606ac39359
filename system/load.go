package system

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"gameday.dev/gameday/internal/yamlfile"
	"gameday.dev/gameday/system/kustomize"
)

// MockReleases are the releases the mock app runs: v1, and v2 under which
// every background job raises (fixtures/mockapp.Releases).
var MockReleases = []string{"v1", MockBad}

// MockBad is the mock app's bad release, whatever a System calls bad.
const MockBad = "v2"

// Probe defaults, as Kubernetes has them.
const (
	DefaultProbePeriod    = 10 * time.Second
	DefaultProbeTimeout   = time.Second
	DefaultProbeThreshold = 3
)

// resourceNames a tier may request or limit.
var resourceNames = []string{"cpu", "memory", "ephemeral-storage"}

// Load reads, strictly decodes, defaults and validates a System file. Every
// problem is reported as file:line: field: message (a yamlfile.Errors).
func Load(path string) (*System, error) {
	data, err := yamlfile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse is Load on data already read from file; image archives are found
// relative to file's folder.
func Parse(file string, data []byte) (*System, error) {
	var f systemFile
	doc, err := yamlfile.Decode(file, data, &f)
	if err != nil {
		return nil, err
	}
	s, errs := f.convert(doc, filepath.Dir(file))
	errs = yamlfile.WithNumbers(&f, errs)
	s.File = file
	// The digest covers what the file deploys: its bytes, and what each
	// kustomize directory it names builds (a change to the manifests is a
	// change of the system, as a gate should say).
	h := sha256.New()
	h.Write(data)
	hashed := map[string]bool{}
	for _, t := range s.Tiers {
		if t.Build != nil && !hashed[t.Kustomize] {
			hashed[t.Kustomize] = true
			h.Write(t.Build.YAML)
		}
	}
	s.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	if err := doc.FieldErrors(errs); err != nil {
		return nil, err
	}
	return s, nil
}

func (f *systemFile) convert(doc *yamlfile.Document, dir string) (*System, field.ErrorList) {
	var errs field.ErrorList
	if f.APIVersion != APIVersion {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), f.APIVersion, "must be "+APIVersion))
	}
	if f.Kind != Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), f.Kind, "must be "+Kind))
	}
	s := &System{Name: f.Name, Description: strings.TrimSpace(f.Description)}
	if f.Name == "" {
		errs = append(errs, field.Required(field.NewPath("name"), "a system needs a name"))
	} else {
		errs = append(errs, dnsLabel(field.NewPath("name"), f.Name)...)
	}

	classes := map[string]bool{}
	for i, pf := range f.PriorityClasses {
		p := field.NewPath("priorityClasses").Index(i)
		for _, msg := range validation.IsDNS1123Subdomain(pf.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), pf.Name, msg))
		}
		if strings.HasPrefix(pf.Name, "system-") {
			errs = append(errs, field.Invalid(p.Child("name"), pf.Name, "names starting with system- are Kubernetes' own"))
		}
		if classes[pf.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), pf.Name))
		}
		classes[pf.Name] = true
		if pf.Value < -1000000 || pf.Value > 1000000000 {
			errs = append(errs, field.Invalid(p.Child("value"), pf.Value, "must be between -1000000 and 1000000000 (higher is Kubernetes' own)"))
		}
		s.PriorityClasses = append(s.PriorityClasses, PriorityClass{Name: pf.Name, Value: pf.Value, Description: strings.TrimSpace(pf.Description)})
	}

	tp := field.NewPath("tiers")
	if len(f.Tiers) == 0 {
		errs = append(errs, field.Required(tp, "a system needs at least one tier"))
	}
	tiers := map[string]bool{}
	for i, tf := range f.Tiers {
		if tf.Name != "" && tiers[tf.Name] {
			errs = append(errs, field.Duplicate(tp.Index(i).Child("name"), tf.Name))
		}
		tiers[tf.Name] = true
	}
	builds := map[string]*built{}
	for i, tf := range f.Tiers {
		t, terrs := tier(tf, tp.Index(i), dir, classes)
		if tf.Kustomize != "" {
			terrs = t.fromBuild(tf, tp.Index(i), dir, builds, classes, terrs)
		}
		t.Line = doc.Line(tp.Index(i).String())
		errs = append(errs, terrs...)
		s.Tiers = append(s.Tiers, t)
	}
	// Every Deployment a directory builds is a tier's that names it: none
	// is left undeployed without a word.
	checked := map[string]bool{}
	objects := map[string]string{} // "Service/NAME", "PodDisruptionBudget/NAME" -> who makes it
	for _, t := range s.Tiers {
		if t.Budget != nil {
			objects["PodDisruptionBudget/"+t.Name] = "tier " + t.Name + "'s disruptionBudget"
		}
	}
	for i, t := range s.Tiers {
		if t.Build == nil || checked[t.Kustomize] {
			continue
		}
		checked[t.Kustomize] = true
		var names []string
		for _, sv := range t.Build.Services {
			names = append(names, "Service/"+sv.Name)
		}
		for _, pb := range t.Build.PDBs {
			names = append(names, "PodDisruptionBudget/"+pb.Name)
		}
		for _, n := range names {
			if by, ok := objects[n]; ok {
				errs = append(errs, field.Invalid(tp.Index(i).Child("kustomize"), f.Tiers[i].Kustomize, fmt.Sprintf("builds %s, which %s makes too: one would replace the other", n, by)))
			}
			objects[n] = f.Tiers[i].Kustomize
		}
		for _, labelled := range sortedKeys(t.Build.Deployments) {
			if !slices.ContainsFunc(s.Tiers, func(u Tier) bool { return u.Name == labelled && u.Kustomize == t.Kustomize }) {
				errs = append(errs, field.Invalid(tp.Index(i).Child("kustomize"), f.Tiers[i].Kustomize, fmt.Sprintf("builds Deployment %s labelled for tier %s, and no tier %s names this directory: gameday would not deploy it", t.Build.Deployments[labelled].Name, labelled, labelled)))
			}
		}
	}
	// Calls name tiers of the system; the mock app calls only its API.
	for i, t := range s.Tiers {
		for j, c := range t.Calls {
			cp := tp.Index(i).Child("calls").Index(j).Child("tier")
			callee, ok := s.Tier(c.Tier)
			switch {
			case !ok:
				errs = append(errs, field.NotFound(cp, c.Tier))
			case c.Tier == t.Name:
				errs = append(errs, field.Invalid(cp, c.Tier, "a tier does not call itself"))
			case t.App != "" && !slices.Contains(MockCallees[t.App], callee.App):
				errs = append(errs, field.Invalid(cp, c.Tier, fmt.Sprintf("the mock %s calls only a tier with app: %s", t.App, strings.Join(MockCallees[t.App], " or app: "))))
			}
		}
		if callees := MockCallees[t.App]; len(callees) > 0 && len(t.Calls) != 1 {
			errs = append(errs, field.Required(tp.Index(i).Child("calls"), fmt.Sprintf("the mock %s calls exactly one tier, with app: %s", t.App, strings.Join(callees, " or app: "))))
		}
	}

	errs = append(errs, s.services(f.Services, doc)...)
	// The team's manifests' Services keep their names; a service of the
	// System file's may not take one.
	for i, sv := range s.Services {
		for j, t := range s.Tiers {
			if t.Build != nil && slices.ContainsFunc(t.Build.Services, func(b *corev1.Service) bool { return b.Name == sv.Name }) {
				errs = append(errs, field.Duplicate(field.NewPath("services").Index(i).Child("name"), sv.Name+" (a Service "+f.Tiers[j].Kustomize+" builds)"))
				break
			}
		}
	}
	errs = append(errs, s.releases(f.Releases)...)
	return s, errs
}

func tier(tf tierFile, p *field.Path, dir string, classes map[string]bool) (Tier, field.ErrorList) {
	var errs field.ErrorList
	t := Tier{Name: tf.Name, App: tf.App, Image: tf.Image, Args: tf.Args, Env: tf.Env, Pools: tf.Pools,
		Replicas: DefaultReplicas, Port: DefaultPort, AntiAffinity: tf.AntiAffinity, Priority: tf.PriorityClass}
	if tf.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), "a tier needs a name"))
	} else {
		for _, msg := range validation.IsDNS1035Label(tf.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), tf.Name, msg))
		}
	}
	switch {
	case tf.App == "" && tf.Image == "" && tf.Kustomize == "":
		errs = append(errs, field.Required(p.Child("image"), "set app (the mock app in a role: "+strings.Join(Apps, ", ")+"), image (yours) or kustomize (your manifests)"))
	case tf.App != "" && tf.Image != "":
		errs = append(errs, field.Forbidden(p.Child("image"), "set app or image, not both"))
	case tf.Kustomize != "" && (tf.App != "" || tf.Image != ""):
		errs = append(errs, field.Forbidden(p.Child("kustomize"), "set one of app, image and kustomize"))
	case tf.App != "" && !slices.Contains(Apps, tf.App):
		errs = append(errs, field.NotSupported(p.Child("app"), tf.App, Apps))
	case strings.HasPrefix(tf.Image, "-"):
		errs = append(errs, field.Invalid(p.Child("image"), tf.Image, "not an image reference"))
	case tf.Image != "":
		if _, err := name.ParseReference(tf.Image, name.WeakValidation); err != nil {
			errs = append(errs, field.Invalid(p.Child("image"), tf.Image, "not an image reference: "+err.Error()))
		}
	}
	if tf.App != "" {
		if len(tf.Args) > 0 {
			errs = append(errs, field.Forbidden(p.Child("args"), "the mock app's arguments are gameday's: set image to run your own"))
		}
		if tf.ImageArchive != "" {
			errs = append(errs, field.Forbidden(p.Child("imageArchive"), "only with image"))
		}
	}
	if tf.ImageArchive != "" {
		t.ImageArchive = tf.ImageArchive
		if !filepath.IsAbs(t.ImageArchive) {
			t.ImageArchive = filepath.Join(dir, t.ImageArchive)
		}
	}
	errs = append(errs, envNames(p.Child("env"), tf.Env)...)
	if tf.Replicas != nil {
		t.Replicas = *tf.Replicas
		if t.Replicas < 1 || t.Replicas > MaxReplicas {
			errs = append(errs, field.Invalid(p.Child("replicas"), t.Replicas, fmt.Sprintf("must be between 1 and %d", MaxReplicas)))
		}
	}
	for j, pool := range tf.Pools {
		errs = append(errs, dnsLabel(p.Child("pools").Index(j), pool)...)
	}
	if tf.Port != nil {
		t.Port = *tf.Port
		for _, msg := range validation.IsValidPortNum(int(t.Port)) {
			errs = append(errs, field.Invalid(p.Child("port"), t.Port, msg))
		}
	}
	t.Readiness, errs = probe(tf.Readiness, p.Child("readiness"), errs)
	t.Liveness, errs = probe(tf.Liveness, p.Child("liveness"), errs)
	if r := tf.Resources; r != nil {
		t.Requests, errs = quantities(r.Requests, p.Child("resources", "requests"), errs)
		t.Limits, errs = quantities(r.Limits, p.Child("resources", "limits"), errs)
		for _, k := range sortedKeys(t.Requests) {
			if l, ok := t.Limits[k]; ok && ptr(t.Requests[k]).Cmp(l) > 0 {
				errs = append(errs, field.Invalid(p.Child("resources", "requests", k), r.Requests[k], "more than its limit "+r.Limits[k]))
			}
		}
	}
	if st := tf.Stop; st != nil {
		if st.PreStop != nil {
			t.PreStop = *st.PreStop
			if t.PreStop < 0 || t.PreStop%time.Second != 0 {
				errs = append(errs, field.Invalid(p.Child("stop", "preStop"), t.PreStop.String(), "must be whole seconds, not negative"))
			}
		}
		if st.Grace != nil {
			g := *st.Grace
			t.Grace = &g
			switch {
			case g < 0 || g%time.Second != 0:
				errs = append(errs, field.Invalid(p.Child("stop", "grace"), g.String(), "must be whole seconds, not negative"))
			case g < t.PreStop:
				errs = append(errs, field.Invalid(p.Child("stop", "grace"), g.String(), fmt.Sprintf("shorter than preStop (%s): the kubelet would kill the pod while it still serves", t.PreStop)))
			}
		}
	}
	if b := tf.DisruptionBudget; b != nil {
		bp := p.Child("disruptionBudget")
		t.Budget = &Budget{}
		switch {
		case (b.MinAvailable == nil) == (b.MaxUnavailable == nil):
			errs = append(errs, field.Invalid(bp, "", "set exactly one of minAvailable and maxUnavailable"))
		case b.MinAvailable != nil:
			t.Budget.MinAvailable, errs = intOrPercent(*b.MinAvailable, bp.Child("minAvailable"), errs)
		default:
			t.Budget.MaxUnavailable, errs = intOrPercent(*b.MaxUnavailable, bp.Child("maxUnavailable"), errs)
		}
	}
	if sp := tf.Spread; sp != nil {
		t.Spread = &Spread{MaxSkew: sp.MaxSkew, WhenUnsatisfiable: sp.WhenUnsatisfiable}
		if t.Spread.MaxSkew == 0 {
			t.Spread.MaxSkew = 1
		}
		if t.Spread.MaxSkew < 1 || t.Spread.MaxSkew > MaxReplicas {
			errs = append(errs, field.Invalid(p.Child("spread", "maxSkew"), sp.MaxSkew, fmt.Sprintf("must be between 1 and %d", MaxReplicas)))
		}
		if t.Spread.WhenUnsatisfiable == "" {
			t.Spread.WhenUnsatisfiable = "DoNotSchedule"
		}
		if !slices.Contains([]string{"DoNotSchedule", "ScheduleAnyway"}, t.Spread.WhenUnsatisfiable) {
			errs = append(errs, field.NotSupported(p.Child("spread", "whenUnsatisfiable"), sp.WhenUnsatisfiable, []string{"DoNotSchedule", "ScheduleAnyway"}))
		}
	}
	if tf.AntiAffinity != "" && !slices.Contains([]string{"preferred", "required"}, tf.AntiAffinity) {
		errs = append(errs, field.NotSupported(p.Child("antiAffinity"), tf.AntiAffinity, []string{"preferred", "required"}))
	}
	if tf.PriorityClass != "" && !classes[tf.PriorityClass] {
		errs = append(errs, field.Invalid(p.Child("priorityClass"), tf.PriorityClass, "names none of the system's priorityClasses"))
	}
	called := map[string]bool{}
	for j, cf := range tf.Calls {
		cp := p.Child("calls").Index(j)
		c := Call{Tier: cf.Tier, Timeout: DefaultCallTimeout, Degrade: cf.Degrade}
		if cf.Tier == "" {
			errs = append(errs, field.Required(cp.Child("tier"), "the tier called"))
		} else if called[cf.Tier] {
			errs = append(errs, field.Duplicate(cp.Child("tier"), cf.Tier))
		}
		called[cf.Tier] = true
		if cf.Timeout != nil {
			c.Timeout = *cf.Timeout
			if c.Timeout <= 0 || c.Timeout > time.Minute {
				errs = append(errs, field.Invalid(cp.Child("timeout"), c.Timeout.String(), "must be positive and at most 1m"))
			}
		}
		if cf.Degrade && tf.App != "" && tf.App != AppFrontend {
			errs = append(errs, field.Forbidden(cp.Child("degrade"), "only the mock frontend degrades"))
		}
		t.Calls = append(t.Calls, c)
	}
	return t, errs
}

// built is a kustomize directory's build, or why it did not build.
type built struct {
	b   *kustomize.Build
	err error
}

// fromBuild makes t the tier of its kustomize directory: its Deployment
// there, with the replicas and port the manifests give it. What the
// manifests say (replicas, probes, resources...) is theirs to say: the same
// fields in the System file are refused.
func (t *Tier) fromBuild(tf tierFile, p *field.Path, dir string, builds map[string]*built, classes map[string]bool, errs field.ErrorList) field.ErrorList {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"imageArchive", tf.ImageArchive != ""}, {"args", len(tf.Args) > 0}, {"env", len(tf.Env) > 0},
		{"replicas", tf.Replicas != nil}, {"port", tf.Port != nil}, {"readiness", tf.Readiness != nil},
		{"liveness", tf.Liveness != nil}, {"resources", tf.Resources != nil}, {"stop", tf.Stop != nil},
		{"disruptionBudget", tf.DisruptionBudget != nil}, {"spread", tf.Spread != nil},
		{"antiAffinity", tf.AntiAffinity != ""}, {"priorityClass", tf.PriorityClass != ""},
	} {
		if f.set {
			errs = append(errs, field.Forbidden(p.Child(f.name), "the tier's manifests (kustomize) say this: set it there"))
		}
	}
	kp := p.Child("kustomize")
	t.Kustomize = tf.Kustomize
	if !filepath.IsAbs(t.Kustomize) {
		t.Kustomize = filepath.Join(dir, t.Kustomize)
	}
	if abs, err := filepath.Abs(t.Kustomize); err == nil { // one key per directory, however named
		t.Kustomize = abs
	}
	bd, ok := builds[t.Kustomize]
	if !ok {
		bd = &built{}
		bd.b, bd.err = kustomize.Load(t.Kustomize)
		builds[t.Kustomize] = bd
	}
	if bd.err != nil {
		return append(errs, field.Invalid(kp, tf.Kustomize, bd.err.Error()))
	}
	t.Build = bd.b
	d := bd.b.Deployments[t.Name]
	if d == nil {
		return append(errs, field.Invalid(kp, tf.Kustomize, fmt.Sprintf("builds no Deployment labelled %s=%s (it labels %s)", kustomize.TierLabel, t.Name, strings.Join(sortedKeys(bd.b.Deployments), ", "))))
	}
	t.Deployment = d
	if err := kustomize.Runnable(d); err != nil {
		errs = append(errs, field.Invalid(kp, tf.Kustomize, err.Error()))
	}
	if pc := d.Spec.Template.Spec.PriorityClassName; pc != "" && !classes[pc] && !strings.HasPrefix(pc, "system-") {
		errs = append(errs, field.Invalid(kp, tf.Kustomize, fmt.Sprintf("Deployment %s names priority class %s, none of the system's priorityClasses", d.Name, pc)))
	}
	t.Replicas = 1 // Kubernetes' default
	if d.Spec.Replicas != nil {
		t.Replicas = *d.Spec.Replicas
	}
	if t.Replicas < 1 || t.Replicas > MaxReplicas {
		errs = append(errs, field.Invalid(kp, tf.Kustomize, fmt.Sprintf("Deployment %s has %d replicas: must be between 1 and %d", d.Name, t.Replicas, MaxReplicas)))
	}
	ports := d.Spec.Template.Spec.Containers[0].Ports
	if len(ports) == 0 {
		return append(errs, field.Invalid(kp, tf.Kustomize, fmt.Sprintf("Deployment %s's first container declares no port: gameday's services reach the tier on it", d.Name)))
	}
	t.Port = ports[0].ContainerPort
	for _, img := range t.OwnImages() {
		if _, err := name.ParseReference(img, name.WeakValidation); err != nil {
			errs = append(errs, field.Invalid(kp, tf.Kustomize, fmt.Sprintf("Deployment %s: image %q: %v", d.Name, img, err)))
		}
	}
	return errs
}

func probe(pf *probeFile, p *field.Path, errs field.ErrorList) (*Probe, field.ErrorList) {
	if pf == nil {
		return nil, errs
	}
	pr := &Probe{Path: pf.Path, Period: DefaultProbePeriod, Timeout: DefaultProbeTimeout, FailureThreshold: DefaultProbeThreshold}
	errs = append(errs, urlPath(p.Child("path"), pf.Path)...)
	for _, d := range []struct {
		name string
		in   *time.Duration
		out  *time.Duration
	}{{"period", pf.Period, &pr.Period}, {"timeout", pf.Timeout, &pr.Timeout}} {
		if d.in == nil {
			continue
		}
		*d.out = *d.in
		if *d.in < time.Second || *d.in%time.Second != 0 || *d.in > 5*time.Minute {
			errs = append(errs, field.Invalid(p.Child(d.name), d.in.String(), "must be whole seconds, from 1s to 5m (the kubelet counts in seconds)"))
		}
	}
	if pf.FailureThreshold != nil {
		pr.FailureThreshold = *pf.FailureThreshold
		if pr.FailureThreshold < 1 || pr.FailureThreshold > 100 {
			errs = append(errs, field.Invalid(p.Child("failureThreshold"), pr.FailureThreshold, "must be between 1 and 100"))
		}
	}
	return pr, errs
}

func quantities(in map[string]string, p *field.Path, errs field.ErrorList) (map[string]resource.Quantity, field.ErrorList) {
	if len(in) == 0 {
		return nil, errs
	}
	out := map[string]resource.Quantity{}
	for _, k := range sortedKeys(in) {
		if !slices.Contains(resourceNames, k) {
			errs = append(errs, field.NotSupported(p.Key(k), k, resourceNames))
			continue
		}
		q, err := resource.ParseQuantity(in[k])
		if err != nil {
			errs = append(errs, field.Invalid(p.Child(k), in[k], "not a quantity such as 100m, 64Mi or 1"))
			continue
		}
		if q.Sign() <= 0 {
			errs = append(errs, field.Invalid(p.Child(k), in[k], "must be positive"))
			continue
		}
		out[k] = q
	}
	return out, errs
}

var percent = regexp.MustCompile(`^([0-9]|[1-9][0-9]|100)%$`)

func intOrPercent(s string, p *field.Path, errs field.ErrorList) (*intstr.IntOrString, field.ErrorList) {
	v := intstr.Parse(s)
	switch {
	case v.Type == intstr.Int && v.IntVal >= 0 && v.IntVal <= MaxReplicas:
	case v.Type == intstr.String && percent.MatchString(s):
	default:
		errs = append(errs, field.Invalid(p, s, fmt.Sprintf("must be a number from 0 to %d or a percentage such as 50%%", MaxReplicas)))
	}
	return &v, errs
}

func (s *System) services(fs []serviceFile, doc *yamlfile.Document) field.ErrorList {
	var errs field.ErrorList
	if len(fs) == 0 {
		// Its journeys are what gameday probes and scores: with none it
		// would measure nothing.
		errs = append(errs, field.Required(field.NewPath("services"), "at least one service with journeys to probe: gameday measures a system from its users' side"))
	}
	names, ports := map[string]bool{}, map[int32]bool{}
	for i, sf := range fs {
		p := field.NewPath("services").Index(i)
		sv := Service{Name: sf.Name, Tier: sf.Tier, NodePort: sf.NodePort, UserFacing: sf.UserFacing, Line: doc.Line(p.String())}
		if sf.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), "a service needs a name"))
		} else {
			for _, msg := range validation.IsDNS1035Label(sf.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), sf.Name, msg))
			}
			if names[sf.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), sf.Name))
			}
		}
		names[sf.Name] = true
		if t, ok := s.Tier(sf.Name); ok && t.Name != sf.Tier {
			errs = append(errs, field.Invalid(p.Child("name"), sf.Name, fmt.Sprintf("the name of tier %s, which a call to %s would reach instead: name the service after its tier %s, or otherwise", t.Name, t.Name, sf.Tier)))
		}
		if t, ok := s.Tier(sf.Tier); !ok {
			errs = append(errs, field.NotFound(p.Child("tier"), sf.Tier))
		} else if t.App == AppWorker {
			errs = append(errs, field.Invalid(p.Child("tier"), sf.Tier, "the mock worker serves no traffic"))
		}
		if sf.NodePort < 30000 || sf.NodePort > 32767 {
			errs = append(errs, field.Invalid(p.Child("nodePort"), sf.NodePort, "must be between 30000 and 32767 (Kubernetes' NodePort range)"))
		} else if ports[sf.NodePort] {
			errs = append(errs, field.Duplicate(p.Child("nodePort"), sf.NodePort))
		}
		ports[sf.NodePort] = true
		if len(sf.Journeys) == 0 {
			errs = append(errs, field.Required(p.Child("journeys"), "at least one path to probe"))
		}
		paths := map[string]bool{}
		for j, jf := range sf.Journeys {
			jp := p.Child("journeys").Index(j).Child("path")
			errs = append(errs, urlPath(jp, jf.Path)...)
			if paths[jf.Path] {
				errs = append(errs, field.Duplicate(jp, jf.Path))
			}
			paths[jf.Path] = true
			sv.Journeys = append(sv.Journeys, Journey{Path: jf.Path, Critical: jf.Critical})
		}
		s.Services = append(s.Services, sv)
	}
	return errs
}

var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func (s *System) releases(fs []releaseFile) field.ErrorList {
	var errs field.ErrorList
	rp := field.NewPath("releases")
	if len(fs) == 0 {
		errs = append(errs, field.Required(rp, "a system needs at least one release: the first is what every tier runs"))
	}
	var mock, image []string
	for _, t := range s.Tiers {
		if t.App != "" {
			mock = append(mock, t.Name)
		} else {
			image = append(image, t.Name)
		}
	}
	names, bad := map[string]bool{}, ""
	for i, f := range fs {
		p := rp.Index(i)
		if f.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), "a release needs a name"))
		} else {
			for _, msg := range validation.IsDNS1123Subdomain(f.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), f.Name, msg))
			}
			if names[f.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), f.Name))
			}
		}
		names[f.Name] = true
		if f.Bad {
			if i == 0 {
				errs = append(errs, field.Invalid(p.Child("bad"), true, "the first release is what every tier runs before a scenario: it cannot be the bad one"))
			}
			if bad != "" {
				errs = append(errs, field.Invalid(p.Child("bad"), true, fmt.Sprintf("%s is the bad release already", bad)))
			}
			bad = f.Name
		}
		if f.Tag != "" && !tagPattern.MatchString(f.Tag) {
			errs = append(errs, field.Invalid(p.Child("tag"), f.Tag, "not an image tag"))
		}
		if (f.Tag != "" || len(f.Env) > 0) && len(image) == 0 {
			errs = append(errs, field.Forbidden(p, "tag and env change a tier's own image, and no tier has one: the mock app's releases are "+strings.Join(MockReleases, " and ")))
		}
		errs = append(errs, envNames(p.Child("env"), f.Env)...)
		if i == 0 && len(mock) > 0 && !slices.Contains(MockReleases, f.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), f.Name, fmt.Sprintf("every tier runs the first release, and %s run the mock app, whose releases are %s", strings.Join(mock, ", "), strings.Join(MockReleases, " and "))))
		}
		s.Releases = append(s.Releases, Release{Name: f.Name, Bad: f.Bad, Tag: f.Tag, Env: f.Env})
	}
	return errs
}

// CanRun says whether tier t can run release r, and why not.
func (s *System) CanRun(t Tier, r string) error {
	if _, ok := s.Release(r); !ok {
		return fmt.Errorf("unknown release %q: the system %s has %s", r, s.Name, strings.Join(s.ReleaseNames(), ", "))
	}
	if t.App != "" && !slices.Contains(MockReleases, r) {
		return fmt.Errorf("tier %s runs the mock app, whose releases are %s", t.Name, strings.Join(MockReleases, " and "))
	}
	if t.Deployment != nil && r != s.Baseline() {
		return fmt.Errorf("tier %s runs your manifests as their build has them, the system's release %s: gameday does not roll a kustomize tier between releases yet", t.Name, s.Baseline())
	}
	return nil
}

func urlPath(p *field.Path, s string) field.ErrorList {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return field.ErrorList{field.Required(p, "an absolute path such as /items")}
	case err != nil:
		return field.ErrorList{field.Invalid(p, s, "not a URL path: "+err.Error())}
	case !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || u.Scheme != "" || u.Host != "" || u.Fragment != "":
		return field.ErrorList{field.Invalid(p, s, "must be an absolute path such as /items (no scheme, host or fragment)")}
	case strings.ContainsAny(s, " \t\r\n"):
		return field.ErrorList{field.Invalid(p, s, "must not contain spaces")}
	}
	return nil
}

func envNames(p *field.Path, env map[string]string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(env) {
		for _, msg := range validation.IsEnvVarName(k) {
			errs = append(errs, field.Invalid(p.Key(k), k, msg))
		}
	}
	return errs
}

func dnsLabel(p *field.Path, s string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(s) {
		errs = append(errs, field.Invalid(p, s, msg))
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func ptr[T any](v T) *T { return &v }
