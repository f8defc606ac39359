package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"testing"
)

func render(t *testing.T, fn func(*bytes.Buffer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := fn(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRenderersGolden(t *testing.T) {
	shared, separate := goldenReports(t)
	c := Compare([]*Report{shared, separate})
	golden(t, "report.txt", render(t, func(b *bytes.Buffer) error { return WriteText(b, shared) }))
	golden(t, "report.md", render(t, func(b *bytes.Buffer) error { return WriteMarkdown(b, shared) }))
	golden(t, "report.json", render(t, func(b *bytes.Buffer) error { return WriteJSON(b, shared) }))
	golden(t, "junit.xml", render(t, func(b *bytes.Buffer) error { return WriteJUnit(b, shared) }))
	golden(t, "compare.txt", render(t, func(b *bytes.Buffer) error { return WriteCompareText(b, c) }))
	golden(t, "compare.md", render(t, func(b *bytes.Buffer) error { return WriteCompareMarkdown(b, c) }))
}

// The JSON holds the fields CI scripts read, by these names.
func TestJSONSchemaFields(t *testing.T) {
	shared, _ := goldenReports(t)
	var m map[string]any
	if err := json.Unmarshal(render(t, func(b *bytes.Buffer) error { return WriteJSON(b, shared) }), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "topology", "score", "downtime_seconds", "time_to_detect_seconds", "time_to_recover_seconds", "blast_radius", "services"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report.json lacks %q", k)
		}
	}
	br := m["blast_radius"].(map[string]any)
	for _, k := range []string{"services_share", "requests_failed_share", "pods_disrupted", "nodes_lost"} {
		if _, ok := br[k]; !ok {
			t.Errorf("blast_radius lacks %q", k)
		}
	}
	svc := m["services"].([]any)[0].(map[string]any)
	for _, k := range []string{"availability", "downtime_seconds", "time_to_detect_seconds", "time_to_recover_seconds"} {
		if _, ok := svc[k]; !ok {
			t.Errorf("services[0] lacks %q", k)
		}
	}
	// And it reads back as the same report.
	var back Report
	if err := json.Unmarshal(render(t, func(b *bytes.Buffer) error { return WriteJSON(b, shared) }), &back); err != nil || back.Score != shared.Score {
		t.Errorf("read back: %v, score %v", err, back.Score)
	}
}

func TestJUnitCounts(t *testing.T) {
	shared, separate := goldenReports(t)
	var s junitSuites
	if err := xml.Unmarshal(render(t, func(b *bytes.Buffer) error { return WriteJUnit(b, shared, separate) }), &s); err != nil {
		t.Fatal(err)
	}
	// shared: frontend failed, api passed; separate: api failed, frontend passed.
	if s.Tests != 4 || s.Failures != 2 || len(s.Suites) != 2 || s.Suites[0].Cases[0].Failure == nil || s.Suites[0].Cases[1].Failure != nil {
		t.Errorf("junit: %d tests, %d failures, %+v", s.Tests, s.Failures, s.Suites)
	}
}

// A run on a cluster gameday did not create says so next to its score:
// the backend, what was emulated, and the probes' route.
func TestRenderExistingCluster(t *testing.T) {
	shared, _ := goldenReports(t)
	r := *shared
	r.Backend, r.Cluster = "kubeconfig", "staging"
	r.Emulated = []string{"lose-api (pool-outage): emulated through the API"}
	r.ProbedVia = "the API server's service proxy"
	txt := string(render(t, func(b *bytes.Buffer) error { return WriteText(b, &r) }))
	md := string(render(t, func(b *bytes.Buffer) error { return WriteMarkdown(b, &r) }))
	for _, want := range []string{"backend kubeconfig, staging", "emulated: lose-api (pool-outage)", "probed through the API server's service proxy"} {
		if !bytes.Contains([]byte(txt), []byte(want)) {
			t.Errorf("text report lacks %q", want)
		}
	}
	for _, want := range []string{"**Emulated:** lose-api", "**Probed through** the API server's service proxy"} {
		if !bytes.Contains([]byte(md), []byte(want)) {
			t.Errorf("markdown report lacks %q", want)
		}
	}
	html := string(render(t, func(b *bytes.Buffer) error { return WriteHTML(b, &r) }))
	for _, want := range []string{"backend kubeconfig, staging", "<strong>Emulated:</strong> lose-api (pool-outage)", "<strong>Probed through</strong> the API server"} {
		if !bytes.Contains([]byte(html), []byte(want)) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
}
