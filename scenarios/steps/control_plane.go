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
	cm, err := cluster.FindMarker(ctx, client)
	if err != nil {
		return "", err
	}
	if v := cm.Annotations[ControlPlaneVersionAnno]; v != "" {
		return v, nil
	}
	if cm.Namespace != metav1.NamespaceSystem {
		// A cluster gameday did not create: its API server's own version.
		v, err := client.Discovery().ServerVersion()
		if err != nil {
			return "", err
		}
		return v.GitVersion, nil
	}
	return NodeImageVersion(ctx, client)
}

// setControlPlaneVersion records version; "" removes the record.
func setControlPlaneVersion(ctx context.Context, client kubernetes.Interface, version string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := cluster.FindMarker(ctx, client)
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
		_, err = client.CoreV1().ConfigMaps(cm.Namespace).Update(ctx, cm, metav1.UpdateOptions{})
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
	cm, err := cluster.FindMarker(ctx, env.Client)
	if err != nil {
		return Outcome{}, err
	}
	if err := env.Journal.Add(Record{Step: st.Name, Action: st.Action, Kind: KindCPVersion, Target: "control-plane", Value: cm.Annotations[ControlPlaneVersionAnno]}); err != nil {
		return Outcome{}, err
	}
	if env.Nodes.Emulated() {
		// The provider's stand-in records the upgrade; the API server, out
		// of gameday's reach, stays as it is.
		if err := setControlPlaneVersion(ctx, env.Client, st.Version); err != nil {
			return Outcome{}, err
		}
		return Outcome{Targets: []string{"control-plane"}, Message: fmt.Sprintf(
			"control plane %s -> %s (emulated: recorded by the provider's stand-in, the API server not restarted; from now on nodes at another version cannot join)", before, st.Version)}, nil
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
