// Package system is the system under test as data: its tiers (the mock
// app in a role, or a team's own image), how each runs (replicas, pools,
// probes, resources, graceful stop, disruption budget, spread, priority, the
// tiers it calls), the services and user journeys gameday probes, and the
// releases a tier can run. Systems are read from strict YAML files (kind
// System); the seed incident's storefront ships with gameday.
package system

import (
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	"gameday.dev/gameday/system/kustomize"
)

// The mock app's roles (fixtures/mockapp).
const (
	AppFrontend = "frontend"
	AppAPI      = "api"
	AppWorker   = "worker"
	// AppQueue is the mock API's job queue alone, as a broker tier of its
	// own that mock workers claim jobs from.
	AppQueue = "queue"
)

// Apps lists the mock app's roles.
var Apps = []string{AppFrontend, AppAPI, AppWorker, AppQueue}

// MockCallees are the roles each mock role may call: the frontend renders
// the API's items; a worker claims jobs from the API or from a queue.
var MockCallees = map[string][]string{
	AppFrontend: {AppAPI},
	AppWorker:   {AppAPI, AppQueue},
}

// MaxReplicas bounds a tier's replicas: every pod shares this machine's cores.
const MaxReplicas = 10

// DefaultReplicas, DefaultPort and DefaultCallTimeout apply where a tier says nothing.
const (
	DefaultReplicas    = 2
	DefaultPort        = 8080
	DefaultCallTimeout = time.Second
)

// System is a validated, defaulted System file.
type System struct {
	Name        string
	Description string
	// File is where it was read from; Digest identifies its bytes.
	File, Digest    string
	Tiers           []Tier
	Services        []Service
	Releases        []Release
	PriorityClasses []PriorityClass
}

// Tier is one workload of the system: a Deployment.
type Tier struct {
	Name string
	// App is the mock app's role; empty when the tier runs Image.
	App string
	// Image is the user's image reference; ImageArchive, when set, the
	// tarball it is loaded from (an absolute or working-directory path).
	Image, ImageArchive string
	// Kustomize is the directory of the tier's own manifests (absolute or
	// working-directory path); Deployment its Deployment in Build, what
	// kustomize built of it.
	Kustomize           string
	Deployment          *appsv1.Deployment
	Build               *kustomize.Build
	Args                []string
	Env                 map[string]string
	Replicas            int32
	Pools               []string
	Port                int32
	Readiness, Liveness *Probe
	Requests, Limits    map[string]resource.Quantity
	// PreStop is how long a pod keeps serving once told to stop (0: none);
	// Grace its termination grace period (nil: the Kubernetes default).
	PreStop      time.Duration
	Grace        *time.Duration
	Budget       *Budget
	Spread       *Spread
	AntiAffinity string
	Priority     string
	Calls        []Call
	Line         int
}

// OwnImages are the images of the team's own the tier runs (its image, or
// its manifests' containers' images); none for the mock app.
func (t Tier) OwnImages() []string {
	switch {
	case t.Image != "":
		return []string{t.Image}
	case t.Deployment != nil:
		return kustomize.Images(t.Deployment)
	}
	return nil
}

// Probe is an HTTP check of a tier's port.
type Probe struct {
	Path             string
	Period, Timeout  time.Duration
	FailureThreshold int32
}

// Budget is a tier's PodDisruptionBudget: exactly one field is set.
type Budget struct {
	MinAvailable, MaxUnavailable *intstr.IntOrString
}

// Spread spreads a tier's pods over nodes.
type Spread struct {
	MaxSkew           int32
	WhenUnsatisfiable string
}

// Call is a tier calling another.
type Call struct {
	Tier    string
	Timeout time.Duration
	Degrade bool
}

// Service is what users reach: a tier behind a NodePort, and its journeys.
type Service struct {
	Name       string
	Tier       string
	NodePort   int32
	UserFacing bool
	Journeys   []Journey
	Line       int
}

// Journey is one probed path of a service.
type Journey struct {
	Path     string
	Critical bool
}

// Release is a named version a tier can run.
type Release struct {
	Name string
	Bad  bool
	Tag  string
	Env  map[string]string
}

// PriorityClass is created with the system.
type PriorityClass struct {
	Name        string
	Value       int32
	Description string
}

// Tier returns the tier called name.
func (s *System) Tier(name string) (Tier, bool) {
	for _, t := range s.Tiers {
		if t.Name == name {
			return t, true
		}
	}
	return Tier{}, false
}

// TierNames lists the tiers in deployment order.
func (s *System) TierNames() []string {
	out := make([]string, len(s.Tiers))
	for i, t := range s.Tiers {
		out[i] = t.Name
	}
	return out
}

// Service returns the service called name.
func (s *System) Service(name string) (Service, bool) {
	for _, sv := range s.Services {
		if sv.Name == name {
			return sv, true
		}
	}
	return Service{}, false
}

// ServiceNames lists the services in the file's order.
func (s *System) ServiceNames() []string {
	out := make([]string, len(s.Services))
	for i, sv := range s.Services {
		out[i] = sv.Name
	}
	return out
}

// Release returns the release called name.
func (s *System) Release(name string) (Release, bool) {
	for _, r := range s.Releases {
		if r.Name == name {
			return r, true
		}
	}
	return Release{}, false
}

// ReleaseNames lists the releases in the file's order.
func (s *System) ReleaseNames() []string {
	out := make([]string, len(s.Releases))
	for i, r := range s.Releases {
		out[i] = r.Name
	}
	return out
}

// Baseline is the release every tier runs before a scenario changes it: the first.
func (s *System) Baseline() string { return s.Releases[0].Name }

// Bad is the bad release's name ("" when the system has none).
func (s *System) Bad() string {
	for _, r := range s.Releases {
		if r.Bad {
			return r.Name
		}
	}
	return ""
}

// Has says whether a tier of the system runs the mock app in role app.
func (s *System) Has(app string) bool {
	for _, t := range s.Tiers {
		if t.App == app {
			return true
		}
	}
	return false
}

// ClaimsFrom is the tier mock worker tier t claims its jobs from (the mock
// API or a mock queue it calls), "" for any other tier.
func (t Tier) ClaimsFrom() string {
	if t.App == AppWorker && len(t.Calls) == 1 {
		return t.Calls[0].Tier
	}
	return ""
}

// ClaimedFrom says whether a mock worker tier claims its jobs from tier.
func (s *System) ClaimedFrom(tier string) bool {
	return slices.ContainsFunc(s.Tiers, func(t Tier) bool { return t.ClaimsFrom() == tier })
}

// MockAPI is the tier running the mock app's API ("" when none does).
func (s *System) MockAPI() string {
	for _, t := range s.Tiers {
		if t.App == AppAPI {
			return t.Name
		}
	}
	return ""
}
