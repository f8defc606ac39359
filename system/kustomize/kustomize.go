// Package kustomize builds a tier's directory of manifests with kustomize
// (sigs.k8s.io/kustomize/api) and picks out what gameday deploys of it: the
// tier's Deployment, named by a label, and the Services and
// PodDisruptionBudgets that come with it.
package kustomize

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// TierLabel names the tier a workload of the build is: the Deployment
// labelled gameday.dev/tier=NAME is tier NAME's.
const TierLabel = "gameday.dev/tier"

// Build is what gameday deploys of a kustomize directory: the tiers'
// Deployments, each labelled with its tier's name, and the Services and
// PodDisruptionBudgets that come with them. One directory may hold one
// tier or several (each tier of the System file names it).
type Build struct {
	// Dir is the directory built.
	Dir string
	// Deployments by the tier their label names.
	Deployments map[string]*appsv1.Deployment
	Services    []*corev1.Service
	PDBs        []*policyv1.PodDisruptionBudget
	// YAML is the build's output, as kustomize build prints it.
	YAML []byte
}

// Images are the images of a Deployment's containers, init containers
// included, each once.
func Images(d *appsv1.Deployment) []string {
	var out []string
	spec := d.Spec.Template.Spec
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		if !slices.Contains(out, c.Image) {
			out = append(out, c.Image)
		}
	}
	return out
}

// Budgeted says whether a PodDisruptionBudget of the build selects the pods
// of tier's Deployment.
func (b *Build) Budgeted(tier string) bool {
	d := b.Deployments[tier]
	if d == nil {
		return false
	}
	for _, p := range b.PDBs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			return true
		}
	}
	return false
}

// Runnable says why the pods of d could not run where gameday deploys them
// (nil when they can): every object they need must come with the build, and
// gameday deploys Deployments, Services and budgets only; kind's nodes carry
// the hostname and gameday's pool label, no zone.
func Runnable(d *appsv1.Deployment) error {
	spec := d.Spec.Template.Spec
	if sa := spec.ServiceAccountName; sa != "" && sa != "default" {
		return fmt.Errorf("Deployment %s runs as service account %s, which gameday does not create", d.Name, sa)
	}
	for _, v := range spec.Volumes {
		switch {
		case v.ConfigMap != nil, v.Secret != nil, v.PersistentVolumeClaim != nil, v.Projected != nil, v.CSI != nil:
			return fmt.Errorf("Deployment %s mounts volume %s from a ConfigMap, Secret, claim or driver, which gameday does not deploy (emptyDir and the downward API only)", d.Name, v.Name)
		}
	}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		if len(c.EnvFrom) > 0 {
			return fmt.Errorf("Deployment %s: container %s takes its environment from a ConfigMap or Secret, which gameday does not deploy", d.Name, c.Name)
		}
		for _, e := range c.Env {
			if f := e.ValueFrom; f != nil && (f.ConfigMapKeyRef != nil || f.SecretKeyRef != nil) {
				return fmt.Errorf("Deployment %s: container %s's %s comes from a ConfigMap or Secret, which gameday does not deploy", d.Name, c.Name, e.Name)
			}
		}
	}
	keys := []string{}
	for _, c := range spec.TopologySpreadConstraints {
		keys = append(keys, c.TopologyKey)
	}
	if a := spec.Affinity; a != nil {
		for _, terms := range [][]corev1.PodAffinityTerm{podTerms(a.PodAffinity), podTerms(a.PodAntiAffinity)} {
			for _, t := range terms {
				keys = append(keys, t.TopologyKey)
			}
		}
	}
	for _, k := range keys {
		if k != corev1.LabelHostname {
			return fmt.Errorf("Deployment %s spreads or places its pods by %s, a label kind's nodes lack (%s only)", d.Name, k, corev1.LabelHostname)
		}
	}
	return nil
}

// podTerms are the affinity terms of a, required and preferred.
func podTerms(a any) []corev1.PodAffinityTerm {
	var out []corev1.PodAffinityTerm
	switch a := a.(type) {
	case *corev1.PodAffinity:
		if a != nil {
			out = append(out, a.RequiredDuringSchedulingIgnoredDuringExecution...)
			for _, w := range a.PreferredDuringSchedulingIgnoredDuringExecution {
				out = append(out, w.PodAffinityTerm)
			}
		}
	case *corev1.PodAntiAffinity:
		if a != nil {
			out = append(out, a.RequiredDuringSchedulingIgnoredDuringExecution...)
			for _, w := range a.PreferredDuringSchedulingIgnoredDuringExecution {
				out = append(out, w.PodAffinityTerm)
			}
		}
	}
	return out
}

// Kinds gameday deploys from a build; anything else is refused, so that a
// build never deploys less than its author expects without saying so.
var Kinds = []string{"Deployment", "Service", "PodDisruptionBudget"}

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{appsv1.AddToScheme, corev1.AddToScheme, policyv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// Load builds dir (a directory holding a kustomization): every object must
// be a Deployment, a Service or a PodDisruptionBudget, and every Deployment
// must carry the label gameday.dev/tier naming its tier, one per tier.
//
// The build runs kustomize's built-in transformers only (no exec or Go
// plugins, no KRM functions, no helm). A remote base (a URL, a git
// repository) is fetched by kustomize without a deadline of gameday's: a
// build that takes longer than BuildTimeout is abandoned as an error.
func Load(dir string) (*Build, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
		m, err := k.Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			done <- result{err: err}
			return
		}
		data, err := m.AsYaml()
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("does not build: %v", r.err)
		}
		return parse(dir, r.data)
	case <-time.After(BuildTimeout):
		return nil, fmt.Errorf("did not build within %s (a remote base this machine cannot reach?)", BuildTimeout)
	}
}

// BuildTimeout bounds a build: a local one takes milliseconds.
var BuildTimeout = 30 * time.Second

func parse(dir string, data []byte) (*Build, error) {
	b := &Build{Dir: dir, Deployments: map[string]*appsv1.Deployment{}, YAML: data}
	decoder := serializer.NewCodecFactory(scheme).UniversalDeserializer()
	docs := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("its build is not YAML: %v", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, gvk, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			var tm metav1.TypeMeta
			if runtime.IsNotRegisteredError(err) && yaml.Unmarshal(doc, &tm) == nil && tm.Kind != "" {
				return nil, fmt.Errorf("builds a %s (%s): gameday deploys a %s only", tm.Kind, tm.APIVersion, strings.Join(Kinds, ", "))
			}
			return nil, fmt.Errorf("builds an object gameday cannot read: %v", err)
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			tier := o.Labels[TierLabel]
			switch {
			case tier == "":
				return nil, fmt.Errorf("builds Deployment %s without the label %s naming its tier", o.Name, TierLabel)
			case b.Deployments[tier] != nil:
				return nil, fmt.Errorf("builds two Deployments labelled %s=%s (%s and %s): one per tier", TierLabel, tier, b.Deployments[tier].Name, o.Name)
			case len(o.Spec.Template.Spec.Containers) == 0:
				return nil, fmt.Errorf("builds Deployment %s with no container", o.Name)
			}
			b.Deployments[tier] = o
		case *corev1.Service:
			if o.Spec.Type == corev1.ServiceTypeExternalName {
				return nil, fmt.Errorf("builds Service %s of type ExternalName: a name outside the cluster, which gameday's kind cluster cannot reach", o.Name)
			}
			b.Services = append(b.Services, o)
		case *policyv1.PodDisruptionBudget:
			b.PDBs = append(b.PDBs, o)
		default:
			return nil, fmt.Errorf("builds a %s: gameday deploys a %s only", gvk.Kind, strings.Join(Kinds, ", "))
		}
	}
	if len(b.Deployments) == 0 {
		return nil, fmt.Errorf("builds no Deployment labelled %s=TIER", TierLabel)
	}
	return b, nil
}
