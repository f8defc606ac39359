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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
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
func Load(dir string) (*Build, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("does not build: %v", err)
	}
	data, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("does not build: %v", err)
	}
	return parse(dir, data)
}

func parse(dir string, data []byte) (*Build, error) {
	b := &Build{Dir: dir, Deployments: map[string]*appsv1.Deployment{}}
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
			if gvk != nil && runtime.IsNotRegisteredError(err) {
				return nil, fmt.Errorf("builds a %s: gameday deploys a %s only", gvk.Kind, strings.Join(Kinds, ", "))
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
