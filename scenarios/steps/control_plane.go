package steps

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/scenarios"
)

// ControlPlaneVersionAnno is cluster.ControlPlaneVersionAnno: steps that
// join nodes honour the version recorded there.
const ControlPlaneVersionAnno = cluster.ControlPlaneVersionAnno

// ControlPlaneVersion is the recorded version, else the control-plane node's
// kubelet version.
func ControlPlaneVersion(ctx context.Context, client kubernetes.Interface) (string, error) {
	cm, err := client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, cluster.MarkerConfigMap, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("gameday's marker %s/%s: %w", metav1.NamespaceSystem, cluster.MarkerConfigMap, err)
	}
	if v := cm.Annotations[ControlPlaneVersionAnno]; v != "" {
		return v, nil
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: cluster.PoolLabel + "=" + cluster.SystemPool})
	if err != nil {
		return "", err
	}
	if len(nodes.Items) == 0 {
		return "", fmt.Errorf("no control-plane node (label %s=%s)", cluster.PoolLabel, cluster.SystemPool)
	}
	return nodes.Items[0].Status.NodeInfo.KubeletVersion, nil
}

// setControlPlaneVersion records version; "" removes the record.
func setControlPlaneVersion(ctx context.Context, client kubernetes.Interface, version string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, cluster.MarkerConfigMap, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		if version == "" {
			delete(cm.Annotations, ControlPlaneVersionAnno)
		} else {
			cm.Annotations[ControlPlaneVersionAnno] = version
		}
		_, err = client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
}

// controlPlaneUpgradeStep records an upgrade of the control plane.
type controlPlaneUpgradeStep struct{ restoring }

func (controlPlaneUpgradeStep) Apply(ctx context.Context, env *Env, st scenarios.Step) (Outcome, error) {
	before, err := ControlPlaneVersion(ctx, env.Client)
	if err != nil {
		return Outcome{}, err
	}
	cm, err := env.Client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, cluster.MarkerConfigMap, metav1.GetOptions{})
	if err != nil {
		return Outcome{}, err
	}
	if err := env.Journal.Add(Record{Step: st.Name, Action: st.Action, Kind: KindCPVersion, Target: "control-plane", Value: cm.Annotations[ControlPlaneVersionAnno]}); err != nil {
		return Outcome{}, err
	}
	if err := setControlPlaneVersion(ctx, env.Client, st.Version); err != nil {
		return Outcome{}, err
	}
	return Outcome{Targets: []string{"control-plane"}, Message: fmt.Sprintf(
		"control plane %s -> %s (recorded: from now on nodes at another version cannot join)", before, st.Version)}, nil
}

func restoreControlPlaneVersion(ctx context.Context, env *Env, r Record) error {
	return setControlPlaneVersion(ctx, env.Client, r.Value)
}
