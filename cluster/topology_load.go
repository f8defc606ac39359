package cluster

import (
	"errors"
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"gameday.dev/gameday/internal/yamlfile"
)

// TopologyAPIVersion and TopologyKind identify a topology file.
const (
	TopologyAPIVersion = "gameday.dev/v1alpha1"
	TopologyKind       = "Topology"
)

// topologyFile is the v1alpha1 file format; kept apart from Topology so the
// file can evolve without changing the code that uses topologies.
type topologyFile struct {
	APIVersion  string     `yaml:"apiVersion"`
	Kind        string     `yaml:"kind"`
	Name        string     `yaml:"name"`
	Description string     `yaml:"description"`
	Pools       []poolFile `yaml:"pools"`
}

type poolFile struct {
	Name     string            `yaml:"name"`
	Size     *int              `yaml:"size"` // default 1
	Labels   map[string]string `yaml:"labels"`
	Taints   []taintFile       `yaml:"taints"`
	Spare    bool              `yaml:"spare"`
	Replaces string            `yaml:"replaces"`
	// NodeGroups: on a cluster gameday did not create, the node groups
	// this pool is made of.
	NodeGroups []string `yaml:"nodeGroups"`
}

type taintFile struct {
	Key    string `yaml:"key"`
	Value  string `yaml:"value"`
	Effect string `yaml:"effect"` // default NoSchedule
}

// ErrUnknownTopology is returned for a topology that is neither built in nor a file.
var ErrUnknownTopology = errors.New("unknown topology")

// ResolveTopology returns the built-in topology called arg, or loads arg as a file.
func ResolveTopology(arg string) (Topology, error) {
	if t, ok := Builtin(arg); ok {
		return t, nil
	}
	if _, err := os.Stat(arg); err != nil {
		if strings.ContainsAny(arg, "/.") {
			return Topology{}, fmt.Errorf("%w %q: %v", ErrUnknownTopology, arg, err)
		}
		return Topology{}, fmt.Errorf("%w %q: use one of %s, or the path of a topology file",
			ErrUnknownTopology, arg, strings.Join(BuiltinNames(), ", "))
	}
	return LoadTopology(arg)
}

// LoadTopology reads, strictly decodes, defaults and validates a topology file.
// Every problem is reported as file:line: field: message (a yamlfile.Errors).
func LoadTopology(path string) (Topology, error) {
	data, err := yamlfile.ReadFile(path)
	if err != nil {
		return Topology{}, err
	}
	return ParseTopology(path, data)
}

// ParseTopology is LoadTopology on data already read from file.
func ParseTopology(file string, data []byte) (Topology, error) {
	var f topologyFile
	doc, err := yamlfile.Decode(file, data, &f)
	if err != nil {
		return Topology{}, err
	}
	var errs field.ErrorList
	if f.APIVersion != TopologyAPIVersion {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), f.APIVersion, "must be "+TopologyAPIVersion))
	}
	if f.Kind != TopologyKind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), f.Kind, "must be "+TopologyKind))
	}
	t := f.toTopology()
	errs = yamlfile.WithNumbers(&f, append(errs, t.Validate()...))
	if err := doc.FieldErrors(errs); err != nil {
		return Topology{}, err
	}
	return t, nil
}

func (f topologyFile) toTopology() Topology {
	t := Topology{Name: f.Name, Description: f.Description}
	for _, p := range f.Pools {
		size := 1
		if p.Size != nil {
			size = *p.Size
		}
		pool := Pool{Name: p.Name, Size: size, Labels: p.Labels, Spare: p.Spare, Replaces: p.Replaces, NodeGroups: p.NodeGroups}
		for _, tf := range p.Taints {
			effect := corev1.TaintEffect(tf.Effect)
			if effect == "" {
				effect = corev1.TaintEffectNoSchedule
			}
			pool.Taints = append(pool.Taints, corev1.Taint{Key: tf.Key, Value: tf.Value, Effect: effect})
		}
		t.Pools = append(t.Pools, pool)
	}
	return t
}

var taintEffects = sets.New(corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute)

// Validate checks a topology; field paths match the file format's.
func (t Topology) Validate() field.ErrorList {
	var errs field.ErrorList
	if t.Name == "" {
		errs = append(errs, field.Required(field.NewPath("name"), "a topology needs a name"))
	} else {
		for _, msg := range validation.IsDNS1123Label(t.Name) {
			errs = append(errs, field.Invalid(field.NewPath("name"), t.Name, msg))
		}
	}
	pools := field.NewPath("pools")
	if len(t.Pools) == 0 {
		return append(errs, field.Required(pools, "a topology needs at least one pool"))
	}
	seen := map[string]bool{}
	groupOf := map[string]string{} // node group -> the pool it makes up
	inService := 0
	for i, p := range t.Pools {
		pp := pools.Index(i)
		// A pool's node groups, listed or (by default) its own name: each
		// makes up one pool only.
		mine := map[string]bool{}
		for j, g := range p.Groups() {
			gp := pp.Child("nodeGroups").Index(j)
			if mine[g] {
				errs = append(errs, field.Duplicate(gp, g))
				continue
			}
			mine[g] = true
			if len(p.NodeGroups) == 0 {
				gp = pp.Child("name")
			}
			for _, msg := range validation.IsValidLabelValue(g) {
				errs = append(errs, field.Invalid(gp, g, msg))
			}
			switch {
			case g == "":
				errs = append(errs, field.Required(gp, "a node group's name"))
			case groupOf[g] != "" && groupOf[g] != p.Name:
				errs = append(errs, field.Invalid(gp, g, "node group "+g+" already makes up pool "+groupOf[g]+": a node is in one pool"))
			}
			if groupOf[g] == "" {
				groupOf[g] = p.Name
			}
		}
		switch {
		case p.Name == "":
			errs = append(errs, field.Required(pp.Child("name"), ""))
		case p.Name == SystemPool:
			errs = append(errs, field.Invalid(pp.Child("name"), p.Name, "reserved for the control-plane node"))
		case seen[p.Name]:
			errs = append(errs, field.Duplicate(pp.Child("name"), p.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(p.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), p.Name, msg))
			}
		}
		seen[p.Name] = true
		if p.Size < 1 || p.Size > MaxWorkers {
			errs = append(errs, field.Invalid(pp.Child("size"), p.Size, fmt.Sprintf("must be between 1 and %d", MaxWorkers)))
		}
		errs = append(errs, validateLabels(p.Labels, pp.Child("labels"))...)
		errs = append(errs, validateTaints(p.Taints, pp.Child("taints"))...)
		if !p.Spare {
			inService++
			if p.Replaces != "" {
				errs = append(errs, field.Invalid(pp.Child("replaces"), p.Replaces, "only a spare pool (spare: true) replaces another"))
			}
		}
	}
	for i, p := range t.Pools {
		if !p.Spare {
			continue
		}
		rp := pools.Index(i).Child("replaces")
		target, ok := t.Pool(p.Replaces)
		switch {
		case p.Replaces == "":
			errs = append(errs, field.Required(rp, "a spare pool names the pool it replaces"))
		case !ok:
			errs = append(errs, field.NotFound(rp, p.Replaces))
		case target.Spare:
			errs = append(errs, field.Invalid(rp, p.Replaces, "must name a pool that is not itself a spare"))
		}
	}
	if inService == 0 {
		errs = append(errs, field.Invalid(pools, len(t.Pools), "at least one pool must not be a spare"))
	}
	if n := t.Workers(); n > MaxWorkers {
		errs = append(errs, field.TooMany(pools, n, MaxWorkers))
	}
	return errs
}

func validateLabels(labels map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for k, v := range labels {
		kp := path.Key(k)
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(kp, k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, field.Invalid(kp, v, msg))
		}
		switch {
		case k == PoolLabel || k == ReplacesLabel:
			errs = append(errs, field.Forbidden(kp, "set by gameday from the pool itself"))
		case isKubernetesNamespace(k):
			errs = append(errs, field.Forbidden(kp, "kubelet may not set labels in the kubernetes.io and k8s.io namespaces"))
		}
	}
	return errs
}

func isKubernetesNamespace(key string) bool {
	prefix, _, found := strings.Cut(key, "/")
	if !found {
		return false
	}
	for _, ns := range []string{"kubernetes.io", "k8s.io"} {
		if prefix == ns || strings.HasSuffix(prefix, "."+ns) {
			return true
		}
	}
	return false
}

func validateTaints(taints []corev1.Taint, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, tn := range taints {
		tp := path.Index(i)
		if tn.Key == "" {
			errs = append(errs, field.Required(tp.Child("key"), ""))
		}
		for _, msg := range validation.IsQualifiedName(tn.Key) {
			if tn.Key != "" {
				errs = append(errs, field.Invalid(tp.Child("key"), tn.Key, msg))
			}
		}
		if tn.Key == OutOfServiceTaint {
			errs = append(errs, field.Forbidden(tp.Child("key"), "set by gameday on spare nodes"))
		}
		for _, msg := range validation.IsValidLabelValue(tn.Value) {
			errs = append(errs, field.Invalid(tp.Child("value"), tn.Value, msg))
		}
		if !taintEffects.Has(tn.Effect) {
			errs = append(errs, field.NotSupported(tp.Child("effect"), tn.Effect, sets.List(taintEffects)))
		}
		id := tn.Key + ":" + string(tn.Effect)
		if seen[id] {
			errs = append(errs, field.Duplicate(tp, id))
		}
		seen[id] = true
	}
	return errs
}
