package scenarios

import (
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/fixtures/traffic"
)

// Probe is one URL path the observers request from the host, as a user's
// browser (or a client of the API) would.
type Probe struct {
	Service Service
	Path    string
	// NeedsAPI: the page renders data from the API, so it fails or degrades
	// when the API is down; the others do not need it.
	NeedsAPI bool
}

// ProbeMix is the probe mix: pages that need the API and pages that do not,
// as real users request them.
var ProbeMix = []Probe{
	{Service: ServiceFrontend, Path: "/"},
	{Service: ServiceFrontend, Path: "/app"},
	{Service: ServiceFrontend, Path: "/static/app.js"},
	{Service: ServiceFrontend, Path: "/items", NeedsAPI: true},
	{Service: ServiceFrontend, Path: "/items/1", NeedsAPI: true},
	{Service: ServiceAPI, Path: "/api/items", NeedsAPI: true},
}

// Name is a probe's endpoint name: "<service> <path>".
func (p Probe) Name() string { return string(p.Service) + " " + p.Path }

// DefaultCritical are the journeys critical by default: the pages that
// need the API, and the API's own.
func DefaultCritical() []string {
	var out []string
	for _, p := range ProbeMix {
		if p.NeedsAPI {
			out = append(out, p.Name())
		}
	}
	return out
}

// ProbeEndpoints are the traffic generator's endpoints for the probe mix on
// a cluster reached at urls; each endpoint is named "<service> <path>".
func ProbeEndpoints(urls fixtures.HostURLs, rate float64) []traffic.Endpoint {
	out := make([]traffic.Endpoint, 0, len(ProbeMix))
	for _, p := range ProbeMix {
		base := urls.Frontend
		if p.Service == ServiceAPI {
			base = urls.API
		}
		out = append(out, traffic.Endpoint{Name: string(p.Service) + " " + p.Path, URL: base + p.Path, Rate: rate, UserFacing: p.Service == ServiceFrontend})
	}
	return out
}
