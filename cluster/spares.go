package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// markerSparesKey, in the marker's data, names each spare pool's nodes: a
// spare's Node object exists only while it serves, as capacity that has not
// joined a managed cluster is no Node.
const markerSparesKey = "spares"

// SpareNodes names the nodes of each spare pool of t, whether they have
// joined or not: from gameday's marker, else (a cluster made before the
// marker kept them) from the nodes' pool labels.
func SpareNodes(ctx context.Context, client kubernetes.Interface, t Topology) (map[string][]string, error) {
	out := map[string][]string{}
	cm, err := client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, MarkerConfigMap, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("gameday's marker %s/%s: %w", metav1.NamespaceSystem, MarkerConfigMap, err)
	}
	if err == nil && cm.Data[markerSparesKey] != "" {
		if err := json.Unmarshal([]byte(cm.Data[markerSparesKey]), &out); err != nil {
			return nil, fmt.Errorf("gameday's marker %s/%s: %s: %w", metav1.NamespaceSystem, MarkerConfigMap, markerSparesKey, err)
		}
		return out, nil
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, n := range nodes.Items {
		if p, ok := t.Pool(n.Labels[PoolLabel]); ok && p.Spare {
			out[p.Name] = append(out[p.Name], n.Name)
		}
	}
	for _, names := range out {
		slices.Sort(names)
	}
	return out, nil
}

// PoolOfSpare is the spare pool a node belongs to, "" for another node.
func PoolOfSpare(spares map[string][]string, node string) string {
	for pool, names := range spares {
		if slices.Contains(names, node) {
			return pool
		}
	}
	return ""
}

// RecordSpares keeps spares in gameday's marker, for a cluster made before
// the marker kept them (whose spares still have Node objects): once their
// Nodes go, the marker is what names them.
func RecordSpares(ctx context.Context, client kubernetes.Interface, spares map[string][]string) error {
	data, err := json.Marshal(spares)
	if err != nil {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, MarkerConfigMap, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cm.Data[markerSparesKey] != "" {
			return nil
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[markerSparesKey] = string(data)
		_, err = client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
}
