package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	return NodeImageVersion(ctx, client)
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

// controlPlaneUpgradeStep upgrades the control plane: the API server
// restarts into the new version's image (where the node holds one), as an
// in-place upgrade does, then the version is recorded, from which on nodes
// at another version cannot join.
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
	node, err := env.Nodes.ControlPlaneNode(ctx)
	if err != nil {
		return Outcome{}, err
	}
	image, err := env.Nodes.APIServerImage(ctx, node)
	if err != nil {
		return Outcome{}, err
	}
	if err := env.Journal.Add(Record{Step: st.Name, Action: st.Action, Kind: KindAPIServer, Target: node, Value: image}); err != nil {
		return Outcome{}, err
	}
	how := "the API server restarted into " + st.Version
	err = env.Nodes.RunAPIServer(ctx, node, cluster.WithTag(image, st.Version), env.apiServerTimeout(st))
	if errors.Is(err, cluster.ErrNoAPIServerImage) {
		// Nothing changed on the node; the record alone tells the story.
		how = fmt.Sprintf("recorded only: the node image has no API server at %s, so the API server still reports %s", st.Version, before)
	} else if err != nil {
		return Outcome{}, err
	}
	if err := setControlPlaneVersion(ctx, env.Client, st.Version); err != nil {
		return Outcome{}, err
	}
	return Outcome{Targets: []string{"control-plane"}, Message: fmt.Sprintf(
		"control plane %s -> %s (%s; from now on nodes at another version cannot join)", before, st.Version, how)}, nil
}

func (e *Env) apiServerTimeout(st scenarios.Step) time.Duration {
	if st.Timeout > 0 {
		return st.Timeout
	}
	return 3 * time.Minute
}

// restoreAPIServer runs the API server's image from before the run again.
func restoreAPIServer(ctx context.Context, env *Env, r Record) error {
	return env.Nodes.RunAPIServer(ctx, r.Target, r.Value, env.apiServerTimeout(scenarios.Step{}))
}

func restoreControlPlaneVersion(ctx context.Context, env *Env, r Record) error {
	return setControlPlaneVersion(ctx, env.Client, r.Value)
}
