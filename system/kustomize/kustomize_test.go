package kustomize

import (
	"slices"
	"strings"
	"testing"
)

const web = `apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-web, labels: {gameday.dev/tier: web}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers: [{name: migrate, image: shop.example/web:1.0}]
      containers:
        - {name: web, image: shop.example/web:1.0}
        - {name: proxy, image: envoy.example/envoy:1.30}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
`

func TestParse(t *testing.T) {
	b, err := parse("dir", []byte(web))
	if err != nil {
		t.Fatal(err)
	}
	d := b.Deployments["web"]
	if d == nil || d.Name != "shop-web" {
		t.Fatalf("deployments %v", b.Deployments)
	}
	if got := Images(d); !slices.Equal(got, []string{"shop.example/web:1.0", "envoy.example/envoy:1.30"}) {
		t.Errorf("images %v: each once, init containers first", got)
	}
	if !b.Budgeted("web") || b.Budgeted("catalog") {
		t.Errorf("budgeted: web %v, catalog %v", b.Budgeted("web"), b.Budgeted("catalog"))
	}
	if err := Runnable(d); err != nil {
		t.Errorf("runnable: %v", err)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"no label", strings.Replace(web, "labels: {gameday.dev/tier: web}", "labels: {}", 1), "without the label gameday.dev/tier"},
		{"two for a tier", web + "---\n" + strings.Replace(web, "name: shop-web", "name: web-2", 1), "two Deployments labelled gameday.dev/tier=web"},
		{"a ConfigMap", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "builds a ConfigMap"},
		{"a CRD's object", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x}\n", "builds a Widget"},
		{"ExternalName", "apiVersion: v1\nkind: Service\nmetadata: {name: pay}\nspec: {type: ExternalName, externalName: pay.example.com}\n", "ExternalName"},
		{"no Deployment", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n", "builds no Deployment"},
	} {
		if _, err := parse("dir", []byte(c.yaml)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestRunnableRefuses(t *testing.T) {
	for _, c := range []struct{ name, old, new, want string }{
		{"service account", "      containers:", "      serviceAccountName: reader\n      containers:", "service account reader"},
		{"a Secret's env", "- {name: web, image: shop.example/web:1.0}", "- {name: web, image: shop.example/web:1.0, env: [{name: K, valueFrom: {secretKeyRef: {name: s, key: k}}}]}", "comes from a ConfigMap or Secret"},
		{"envFrom", "- {name: web, image: shop.example/web:1.0}", "- {name: web, image: shop.example/web:1.0, envFrom: [{configMapRef: {name: c}}]}", "takes its environment"},
		{"a ConfigMap volume", "      containers:", "      volumes: [{name: cfg, configMap: {name: c}}]\n      containers:", "mounts volume cfg"},
		{"zone anti-affinity", "      containers:", "      affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, podAffinityTerm: {topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: web}}}}]}}\n      containers:", "by topology.kubernetes.io/zone"},
	} {
		b, err := parse("dir", []byte(strings.Replace(web, c.old, c.new, 1)))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := Runnable(b.Deployments["web"]); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
