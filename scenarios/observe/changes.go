package observe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/cluster/kubeconfig"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios/timeline"
)

// A watched field of an object: its value summed up in a string, and where
// the API server's managed fields record who set it (nil: nobody does, as
// for what a node's status shows).
type watched struct {
	value string
	path  []string
}

// fieldsOf sums up the fields of obj that a change is made of. Objects of
// other types have none. key keys the digest of data that must not be
// written down.
func fieldsOf(obj any, key []byte) (object string, fields map[string]watched) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		replicas := int32(1)
		if o.Spec.Replicas != nil {
			replicas = *o.Spec.Replicas
		}
		return "deployment/" + o.Name, map[string]watched{
			"replicas": {strconv.Itoa(int(replicas)), []string{"f:spec", "f:replicas"}},
			"release":  {o.Annotations[fixtures.ReleaseAnno], []string{"f:metadata", "f:annotations", "f:" + fixtures.ReleaseAnno}},
			"template": {templateOf(o.Spec.Template), []string{"f:spec", "f:template"}},
		}
	case *corev1.Node:
		return "node/" + o.Name, map[string]watched{
			"unschedulable": {strconv.FormatBool(o.Spec.Unschedulable), []string{"f:spec", "f:unschedulable"}},
			"taints":        {taintsOf(o.Spec.Taints), []string{"f:spec", "f:taints"}},
			"labels":        {setOf(o.Labels), []string{"f:metadata", "f:labels"}},
			"ready":         {readiness(o), nil},
		}
	case *corev1.Service:
		return "service/" + o.Name, map[string]watched{
			"selector": {setOf(o.Spec.Selector), []string{"f:spec", "f:selector"}},
			"ports":    {portsOf(o.Spec.Ports), []string{"f:spec", "f:ports"}},
			"type":     {string(o.Spec.Type), []string{"f:spec", "f:type"}},
		}
	case *policyv1.PodDisruptionBudget:
		return "pdb/" + o.Name, map[string]watched{
			"budget": {budgetOf(o.Spec), []string{"f:spec"}},
		}
	case *corev1.ConfigMap:
		if o.Name == kubeconfig.JournalConfigMap {
			return "", nil // gameday's own journal, kept in the cluster: not a change to the system
		}
		if o.Namespace == metav1.NamespaceSystem || o.Name == cluster.MarkerConfigMap {
			// gameday's marker: the recorded control-plane version.
			return "control-plane", map[string]watched{
				"version": {o.Annotations[cluster.ControlPlaneVersionAnno], []string{"f:metadata", "f:annotations", "f:" + cluster.ControlPlaneVersionAnno}},
			}
		}
		return "configmap/" + o.Name, map[string]watched{
			"data": {digest(key, o.Data, o.BinaryData), []string{"f:data"}},
		}
	case *corev1.Secret:
		// Never a value: only that the data changed.
		return "secret/" + o.Name, map[string]watched{
			"data": {digest(key, nil, o.Data), []string{"f:data"}},
		}
	}
	return "", nil
}

// readiness is a node's Ready, "n/a" while it is out of service (a spare
// whose kubelet gameday stopped): a spare going NotReady out of service is
// nobody's change; brought into service, it becomes Ready.
func readiness(n *corev1.Node) string {
	if !cluster.InService(n) {
		return "n/a"
	}
	return strconv.FormatBool(cluster.IsReady(n))
}

// templateOf sums up what a pod template runs: per container its image,
// arguments, environment and resources.
//
// Its annotations come first, before " | ": `kubectl rollout restart`
// changes nothing else.
func templateOf(t corev1.PodTemplateSpec) string {
	var parts []string
	for _, c := range t.Spec.Containers {
		var env []string
		for _, e := range c.Env {
			env = append(env, e.Name+"="+e.Value)
		}
		parts = append(parts, fmt.Sprintf("%s image=%s args=%s env=%s resources=%s", c.Name, c.Image,
			strings.Join(c.Args, " "), strings.Join(env, ","), resourcesOf(c.Resources)))
	}
	return "annotations=" + setOf(t.Annotations) + " | " + strings.Join(parts, "; ")
}

func resourcesOf(r corev1.ResourceRequirements) string {
	var out []string
	for _, l := range []struct {
		name string
		list corev1.ResourceList
	}{{"requests", r.Requests}, {"limits", r.Limits}} {
		for _, k := range slices.Sorted(maps.Keys(l.list)) {
			q := l.list[k]
			out = append(out, fmt.Sprintf("%s.%s=%s", l.name, k, q.String()))
		}
	}
	return strings.Join(out, ",")
}

// taintsOf sums up the taints a person or a tool set: those the node
// lifecycle controller adds by itself (node.kubernetes.io/...) are the
// cluster's reaction to a node's state, which the ready field records.
func taintsOf(ts []corev1.Taint) string {
	var out []string
	for _, t := range ts {
		if strings.HasPrefix(t.Key, "node.kubernetes.io/") || strings.HasPrefix(t.Key, "node.cloudprovider.kubernetes.io/") {
			continue
		}
		out = append(out, fmt.Sprintf("%s=%s:%s", t.Key, t.Value, t.Effect))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func setOf(m map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return strings.Join(out, ",")
}

func portsOf(ps []corev1.ServicePort) string {
	var out []string
	for _, p := range ps {
		s := fmt.Sprintf("%d->%s/%s", p.Port, p.TargetPort.String(), p.Protocol)
		if p.NodePort != 0 {
			s += fmt.Sprintf(" node %d", p.NodePort)
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

func budgetOf(s policyv1.PodDisruptionBudgetSpec) string {
	switch {
	case s.MinAvailable != nil:
		return "minAvailable=" + s.MinAvailable.String()
	case s.MaxUnavailable != nil:
		return "maxUnavailable=" + s.MaxUnavailable.String()
	}
	return "none"
}

// digest stands for data that must not be written down: its keys and a
// keyed hash of the values (the key is the run's own, random, never
// written), so that a change shows and nothing of the values can be guessed.
func digest(key []byte, str map[string]string, bin map[string][]byte) string {
	h := hmac.New(sha256.New, key)
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(str)) {
		keys = append(keys, k)
		fmt.Fprintf(h, "%s=%s\x00", k, str[k])
	}
	for _, k := range slices.Sorted(maps.Keys(bin)) {
		keys = append(keys, k)
		fmt.Fprintf(h, "%s=%x\x00", k, bin[k])
	}
	return fmt.Sprintf("keys %s (hash %x)", strings.Join(keys, ","), h.Sum(nil)[:8])
}

// managerOf is the field manager that last set anything under path in an
// object's managed fields: the newest entry owning it (an update moves the
// fields it changes to its manager). "" when no entry owns it.
func managerOf(entries []metav1.ManagedFieldsEntry, path []string) string {
	if len(path) == 0 {
		return ""
	}
	best, bestAt := "", time.Time{}
	for _, e := range entries {
		if e.FieldsV1 == nil {
			continue
		}
		var tree map[string]any
		if json.Unmarshal(e.FieldsV1.Raw, &tree) != nil || !owns(tree, path) {
			continue
		}
		at := time.Time{}
		if e.Time != nil {
			at = e.Time.Time
		}
		if best == "" || !at.Before(bestAt) {
			best, bestAt = e.Manager, at
		}
	}
	return best
}

func owns(tree map[string]any, path []string) bool {
	for i, k := range path {
		v, ok := tree[k]
		if !ok {
			return false
		}
		if i == len(path)-1 {
			return true
		}
		if tree, ok = v.(map[string]any); !ok {
			return false
		}
	}
	return true
}

// changes turns the difference between an object's last seen fields and
// its new ones into timeline entries; deleted and created objects are one
// entry each.
func changes(object string, before, after map[string]watched, meta metav1.Object, deleted bool) []timeline.Entry {
	var mf []metav1.ManagedFieldsEntry
	if meta != nil {
		mf = meta.GetManagedFields()
	}
	switch {
	case deleted:
		return []timeline.Entry{{Kind: timeline.KindChange, Object: object, Field: "deleted"}}
	case before == nil:
		return []timeline.Entry{{Kind: timeline.KindChange, Object: object, Field: "created", Manager: managerOf(mf, []string{"f:metadata"})}}
	}
	var out []timeline.Entry
	for _, f := range slices.Sorted(maps.Keys(after)) {
		b, a := before[f], after[f]
		if b.value == a.value {
			continue
		}
		// A release is a template change: say it once, as the release.
		if f == "template" && before["release"].value != after["release"].value {
			continue
		}
		out = append(out, timeline.Entry{Kind: timeline.KindChange, Object: object, Field: f, From: b.value, To: a.value,
			Manager: managerOf(mf, a.path)})
	}
	return out
}
