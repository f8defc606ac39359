package scenarios

import (
	"gameday.dev/gameday/fixtures/traffic"
	"gameday.dev/gameday/system"
)

// Probe is one user journey the observers request from the host, as a
// user's browser (or a client of the API) would: a path of a service of the
// scenario's system.
type Probe struct {
	Service Service
	Path    string
	// Critical: the system says its failure takes the service down (the
	// storefront's pages that need the API, and the API's own).
	Critical bool
	// UserFacing: people use the service (a site), not only programs.
	UserFacing bool
}

// Name is a probe's endpoint name: "<service> <path>".
func (p Probe) Name() string { return string(p.Service) + " " + p.Path }

// ProbeMixOf is the probe mix of a system: every journey of every service.
func ProbeMixOf(sys *system.System) []Probe {
	var out []Probe
	for _, sv := range sys.Services {
		for _, j := range sv.Journeys {
			out = append(out, Probe{Service: Service(sv.Name), Path: j.Path, Critical: j.Critical, UserFacing: sv.UserFacing})
		}
	}
	return out
}

// ProbeMix is the scenario's probe mix: every journey of its system.
func (s *Scenario) ProbeMix() []Probe { return ProbeMixOf(s.System) }

// DefaultCritical are the journeys the system says are critical.
func DefaultCritical(sys *system.System) []string {
	var out []string
	for _, p := range ProbeMixOf(sys) {
		if p.Critical {
			out = append(out, p.Name())
		}
	}
	return out
}

// ProbeEndpoints are the traffic generator's endpoints for the probe mix on
// a cluster whose services the host reaches at urls (by service name); each
// endpoint is named "<service> <path>".
func ProbeEndpoints(mix []Probe, urls map[string]string, rate float64) []traffic.Endpoint {
	out := make([]traffic.Endpoint, 0, len(mix))
	for _, p := range mix {
		out = append(out, traffic.Endpoint{Name: p.Name(), URL: urls[string(p.Service)] + p.Path, Rate: rate, UserFacing: p.UserFacing})
	}
	return out
}
