// Package targetarg reads the existing cluster a command is pointed at
// (--kubeconfig, --context, --pool-label) and maps what can go wrong to exit
// codes: a missing or unknown context, an unusable kubeconfig and a cluster
// with nothing opted in are bad input (2); a server that does not answer is
// a failure (1).
package targetarg

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"gameday.dev/gameday/cluster/kubeconfig"
	"gameday.dev/gameday/internal/cli"
)

// Flags are the flags that point a command at an existing cluster.
type Flags struct {
	Kubeconfig string
	Context    string
	PoolLabel  string
	fs         *pflag.FlagSet
}

// Add adds --kubeconfig, --context and --pool-label.
func (f *Flags) Add(fs *pflag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.Kubeconfig, "kubeconfig", "", "an existing cluster's kubeconfig file (default: $KUBECONFIG, else ~/.kube/config); needs --context")
	fs.StringVar(&f.Context, "context", "", "the kubeconfig context of an existing cluster; required for one (gameday never uses the current context)")
	fs.StringVar(&f.PoolLabel, "pool-label", "", "the node label naming a node's pool on an existing cluster (default: the first an opted-in node has of "+
		strings.Join(kubeconfig.PoolKeys, ", ")+")")
}

// Set reports whether the command is pointed at an existing cluster: any
// of the flags given, even empty (--context "$UNSET" is a context not
// named, never the way back to gameday's own clusters).
func (f *Flags) Set() bool {
	if f.fs == nil {
		return f.Kubeconfig != "" || f.Context != "" || f.PoolLabel != ""
	}
	return f.fs.Changed("kubeconfig") || f.fs.Changed("context") || f.fs.Changed("pool-label")
}

// reachTimeout bounds the first question to the API server.
const reachTimeout = 15 * time.Second

// Target is an existing cluster reached: its API server's version and
// what gameday may touch there.
type Target struct {
	*kubeconfig.Target
	Version   string
	Inventory *kubeconfig.Inventory
}

// Open resolves the context, says which cluster it is before anything
// else (say), reaches it and reads what gameday may touch there. The
// inventory's Usable is left to the caller.
func (f *Flags) Open(ctx context.Context, say func(string)) (*Target, error) {
	t, err := kubeconfig.Open(f.Kubeconfig, f.Context)
	if err != nil {
		return nil, cli.Usage(err)
	}
	say("Target: " + t.String())
	v, err := t.Reach(ctx, reachTimeout)
	if err != nil {
		if errors.Is(err, kubeconfig.ErrKubeconfig) || errors.Is(err, kubeconfig.ErrRefused) {
			return nil, cli.Usage(err)
		}
		return nil, err
	}
	inv, err := kubeconfig.Discover(ctx, t.Client, f.PoolLabel)
	if errors.Is(err, kubeconfig.ErrOwnLabel) {
		return nil, cli.Usage(err)
	}
	if apierrors.IsForbidden(err) {
		return nil, cli.Usagef("%v: gameday needs to list the cluster's nodes and namespaces with context %q", err, t.Context)
	}
	if err != nil {
		return nil, err
	}
	return &Target{Target: t, Version: v, Inventory: inv}, nil
}

// Usable is the inventory's Usable, as bad input (exit 2).
func (t *Target) Usable() error { return cli.Usage(t.Inventory.Usable()) }
