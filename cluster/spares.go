package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// ExistingNamespace is the namespace gameday works in on a cluster it did
// not create (the team's, opted in; fixtures.Namespace): its marker is
// kept there, never in kube-system.
const ExistingNamespace = "gameday"

// FindMarker returns gameday's marker: in kube-system on a cluster gameday
// made, else in ExistingNamespace on one it did not (where it may not even
// read kube-system).
func FindMarker(ctx context.Context, client kubernetes.Interface) (*corev1.ConfigMap, error) {
	cm, err := client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, MarkerConfigMap, metav1.GetOptions{})
	if err == nil || !(apierrors.IsNotFound(err) || apierrors.IsForbidden(err)) {
		return cm, wrapMarker(metav1.NamespaceSystem, err)
	}
	cm, err = client.CoreV1().ConfigMaps(ExistingNamespace).Get(ctx, MarkerConfigMap, metav1.GetOptions{})
	return cm, wrapMarker(ExistingNamespace, err)
}

func wrapMarker(ns string, err error) error {
	if err != nil {
		return fmt.Errorf("gameday's marker %s/%s: %w", ns, MarkerConfigMap, err)
	}
	return nil
}

// EnsureExistingMarker makes gameday's marker in ExistingNamespace of a
// cluster it did not create, labelled as its fixtures are (so that taking
// them down takes it too).
func EnsureExistingMarker(ctx context.Context, client kubernetes.Interface) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: MarkerConfigMap, Namespace: ExistingNamespace,
		Labels: map[string]string{"app.kubernetes.io/managed-by": "gameday", "app.kubernetes.io/part-of": "gameday"}}}
	_, err := client.CoreV1().ConfigMaps(ExistingNamespace).Create(ctx, cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		cur, gerr := client.CoreV1().ConfigMaps(ExistingNamespace).Get(ctx, MarkerConfigMap, metav1.GetOptions{})
		if gerr != nil {
			return gerr
		}
		if cur.Labels["app.kubernetes.io/managed-by"] != "gameday" {
			return fmt.Errorf("config map %s/%s is there and not gameday's: gameday never takes over the team's objects", ExistingNamespace, MarkerConfigMap)
		}
		return nil
	}
	return err
}

// markerSparesKey, in the marker's data, names each spare pool's nodes: a
// spare's Node object exists only while it serves, as capacity that has not
// joined a managed cluster is no Node.
const markerSparesKey = "spares"

// SpareNodes names the nodes of each spare pool, whether they have joined
// or not: from gameday's marker, else (a cluster made before the marker
// kept them) from the Node objects of spares, which carry ReplacesLabel.
func SpareNodes(ctx context.Context, client kubernetes.Interface) (map[string][]string, error) {
	cm, err := FindMarker(ctx, client)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	var data string
	if err == nil {
		data = cm.Data[markerSparesKey]
	}
	return sparesOf(ctx, client, data)
}

func sparesOf(ctx context.Context, client kubernetes.Interface, data string) (map[string][]string, error) {
	out := map[string][]string{}
	if data != "" {
		if err := json.Unmarshal([]byte(data), &out); err != nil {
			return nil, fmt.Errorf("gameday's marker %s/%s: %s: %w", metav1.NamespaceSystem, MarkerConfigMap, markerSparesKey, err)
		}
		return out, nil
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: ReplacesLabel})
	if err != nil {
		return nil, err
	}
	for _, n := range nodes.Items {
		pool := n.Labels[PoolLabel]
		out[pool] = append(out[pool], n.Name)
	}
	for _, names := range out {
		slices.Sort(names)
	}
	return out, nil
}

// rememberSpare makes sure gameday's marker names node, if it is a spare
// (its Node carries ReplacesLabel), before its Node object goes: from then
// on the marker is all that names it. A node without a Node is known
// already, or no spare.
func rememberSpare(ctx context.Context, client kubernetes.Interface, node string) error {
	n, err := client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, spare := n.Labels[ReplacesLabel]; !spare {
		return nil
	}
	pool := n.Labels[PoolLabel]
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, MarkerConfigMap, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("gameday's marker %s/%s: %w", metav1.NamespaceSystem, MarkerConfigMap, err)
		}
		spares, err := sparesOf(ctx, client, cm.Data[markerSparesKey])
		if err != nil {
			return err
		}
		if slices.Contains(spares[pool], node) && cm.Data[markerSparesKey] != "" {
			return nil
		}
		if !slices.Contains(spares[pool], node) {
			spares[pool] = append(spares[pool], node)
			slices.Sort(spares[pool])
		}
		data, err := json.Marshal(spares)
		if err != nil {
			return err
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[markerSparesKey] = string(data)
		_, err = client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
}
