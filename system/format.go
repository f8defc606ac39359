package system

import "time"

// APIVersion and Kind identify a System file.
const (
	APIVersion = "gameday.dev/v1alpha1"
	Kind       = "System"
)

// The v1alpha1 file format, kept apart from System so that the file can
// evolve without changing the code that deploys systems. The JSON Schema
// for editors is generated from these types (schema.go); their jsonschema
// tags are its descriptions.

type systemFile struct {
	APIVersion      string              `yaml:"apiVersion" jsonschema:"required,enum=gameday.dev/v1alpha1"`
	Kind            string              `yaml:"kind" jsonschema:"required,enum=System"`
	Name            string              `yaml:"name" jsonschema:"required,description=The system's name: lower-case letters, digits and dashes."`
	Description     string              `yaml:"description,omitempty" jsonschema:"description=What the system is; shown by gameday systems show."`
	Tiers           []tierFile          `yaml:"tiers" jsonschema:"required,minItems=1,description=The system's workloads, deployed in this order (a tier others call first)."`
	Services        []serviceFile       `yaml:"services" jsonschema:"required,minItems=1,description=What users reach from outside the cluster: each a tier behind a NodePort, with the journeys gameday probes."`
	Releases        []releaseFile       `yaml:"releases" jsonschema:"required,minItems=1,description=Named versions a tier can run; the first is what every tier runs before a scenario changes it and must not be bad."`
	PriorityClasses []priorityClassFile `yaml:"priorityClasses,omitempty" jsonschema:"description=PriorityClasses the tiers name, created with the system."`
}

type tierFile struct {
	Name             string            `yaml:"name" jsonschema:"required,description=The tier's name (its Deployment's): lower-case letters, digits and dashes."`
	App              string            `yaml:"app,omitempty" jsonschema:"enum=frontend,enum=api,enum=worker,enum=queue,description=Run gameday's mock app in this role (a server-rendered frontend, an API with a job queue, job workers, or the job queue alone as a broker). Set one of app, image and kustomize."`
	Image            string            `yaml:"image,omitempty" jsonschema:"description=Run your own image: a reference in this machine's Docker daemon (loaded into the nodes, never pulled). Set one of app, image and kustomize."`
	Kustomize        string            `yaml:"kustomize,omitempty" jsonschema:"description=Run your own manifests: a directory holding a kustomization (relative to this file), built with kustomize. The tier is the Deployment of the build labelled gameday.dev/tier: NAME; the build's Services and PodDisruptionBudgets come with it. gameday places it on the tier's pools and loads its images into the nodes (never pulled). Set one of app, image and kustomize."`
	ImageArchive     string            `yaml:"imageArchive,omitempty" jsonschema:"description=A tarball of the image (as docker save writes it), relative to this file, loaded into the nodes instead of the Docker daemon's copy."`
	Args             []string          `yaml:"args,omitempty" jsonschema:"description=Arguments of your image's entrypoint (not for app)."`
	Env              map[string]string `yaml:"env,omitempty" jsonschema:"description=Environment variables of the tier's container."`
	Replicas         *int32            `yaml:"replicas,omitempty" jsonschema:"minimum=1,maximum=10,description=Pods of the tier; default 2. A scenario may set another number."`
	Pools            []string          `yaml:"pools,omitempty" jsonschema:"description=Pools the tier prefers, in order: it runs on the first that the topology has in service, else on the topology's first pool in service."`
	Port             *int32            `yaml:"port,omitempty" jsonschema:"minimum=1,maximum=65535,description=The container port the tier serves and answers its probes on; default 8080."`
	Readiness        *probeFile        `yaml:"readiness,omitempty" jsonschema:"description=When a pod gets traffic; none: as soon as it runs."`
	Liveness         *probeFile        `yaml:"liveness,omitempty" jsonschema:"description=When the kubelet restarts a pod's container; none: never for a failed check."`
	Resources        *resourcesFile    `yaml:"resources,omitempty"`
	Stop             *stopFile         `yaml:"stop,omitempty" jsonschema:"description=How a pod stops: keep serving for a moment (preStop), then the grace the kubelet gives it after SIGTERM."`
	DisruptionBudget *budgetFile       `yaml:"disruptionBudget,omitempty" jsonschema:"description=A PodDisruptionBudget for the tier's pods; at most one of minAvailable and maxUnavailable."`
	Spread           *spreadFile       `yaml:"spread,omitempty" jsonschema:"description=Spread the tier's pods over nodes (a topology spread constraint on the hostname)."`
	AntiAffinity     string            `yaml:"antiAffinity,omitempty" jsonschema:"enum=preferred,enum=required,description=Keep the tier's pods off nodes that already run one: preferred, or required."`
	PriorityClass    string            `yaml:"priorityClass,omitempty" jsonschema:"description=The PriorityClass of the tier's pods: one of priorityClasses."`
	Calls            []callFile        `yaml:"calls,omitempty" jsonschema:"description=The tiers this tier calls, with the timeout of each call and whether it degrades (serves what it can) when the call fails."`
}

type probeFile struct {
	Path             string         `yaml:"path" jsonschema:"required,description=The HTTP path probed on the tier's port."`
	Period           *time.Duration `yaml:"period,omitempty" jsonschema:"description=How often; default 10s."`
	Timeout          *time.Duration `yaml:"timeout,omitempty" jsonschema:"description=How long one check may take; default 1s."`
	FailureThreshold *int32         `yaml:"failureThreshold,omitempty" jsonschema:"minimum=1,maximum=100,description=Failed checks in a row before the pod is taken out (readiness) or restarted (liveness); default 3."`
}

type resourcesFile struct {
	Requests map[string]string `yaml:"requests,omitempty" jsonschema:"description=cpu and memory requested per pod, as Kubernetes quantities (10m, 16Mi)."`
	Limits   map[string]string `yaml:"limits,omitempty" jsonschema:"description=cpu and memory limits per pod."`
}

type stopFile struct {
	PreStop *time.Duration `yaml:"preStop,omitempty" jsonschema:"description=How long a pod keeps serving once told to stop, before SIGTERM (a preStop sleep)."`
	Grace   *time.Duration `yaml:"grace,omitempty" jsonschema:"description=The pod's termination grace period, whole seconds (it includes preStop); default 30s."`
}

type budgetFile struct {
	MinAvailable   *string `yaml:"minAvailable,omitempty" jsonschema:"description=Pods that must stay up: a number or a percentage."`
	MaxUnavailable *string `yaml:"maxUnavailable,omitempty" jsonschema:"description=Pods that may be down at once: a number or a percentage."`
}

type spreadFile struct {
	MaxSkew           int32  `yaml:"maxSkew,omitempty" jsonschema:"minimum=1,maximum=10,description=Most pods one node may run beyond another; default 1."`
	WhenUnsatisfiable string `yaml:"whenUnsatisfiable,omitempty" jsonschema:"enum=DoNotSchedule,enum=ScheduleAnyway,description=Default DoNotSchedule."`
}

type callFile struct {
	Tier    string         `yaml:"tier" jsonschema:"required,description=The tier called."`
	Timeout *time.Duration `yaml:"timeout,omitempty" jsonschema:"description=How long the caller waits; default 1s."`
	Degrade bool           `yaml:"degrade,omitempty" jsonschema:"description=When the call fails the caller serves what it can (from its last good data) instead of failing."`
}

type serviceFile struct {
	Name       string        `yaml:"name" jsonschema:"required,description=The service's name (its Kubernetes Service's, and the name objectives and conditions use)."`
	Tier       string        `yaml:"tier" jsonschema:"required,description=The tier behind it."`
	NodePort   int32         `yaml:"nodePort" jsonschema:"required,minimum=30000,maximum=32767,description=The NodePort it is reached at; gameday maps it to a port of this machine."`
	UserFacing bool          `yaml:"userFacing,omitempty" jsonschema:"description=People use it (a site), not only programs (recorded with its probes)."`
	Journeys   []journeyFile `yaml:"journeys" jsonschema:"required,minItems=1,description=The paths gameday probes, as a user's browser or a client would."`
}

type journeyFile struct {
	Path     string `yaml:"path" jsonschema:"required,description=An absolute URL path, such as /items/1."`
	Critical bool   `yaml:"critical,omitempty" jsonschema:"description=Its failure takes the service down, whatever the other journeys do."`
}

type releaseFile struct {
	Name string            `yaml:"name" jsonschema:"required,description=The release's name, as scenarios name it (release steps, fixtures.releases)."`
	Bad  bool              `yaml:"bad,omitempty" jsonschema:"description=The release that breaks the system; scenarios release it."`
	Tag  string            `yaml:"tag,omitempty" jsonschema:"description=For tiers with an image: run the image with this tag."`
	Env  map[string]string `yaml:"env,omitempty" jsonschema:"description=For tiers with an image: environment variables the release sets."`
}

type priorityClassFile struct {
	Name        string `yaml:"name" jsonschema:"required"`
	Value       int32  `yaml:"value" jsonschema:"required,minimum=-1000000,maximum=1000000000"`
	Description string `yaml:"description,omitempty"`
}
