// Package clusterlock is how commands that change a cluster take its lock.
package clusterlock

import (
	"errors"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/cli"
)

// Take takes cluster name's lock (cluster.Store.Lock) for the rest of the
// command: a cluster another gameday process holds is bad input (exit 2)
// naming that process. Taking a lock the command already holds is a no-op,
// so that a command made of others (up = cluster up + fixtures deploy) holds
// it throughout. The command's end releases it; the kernel does if the
// process dies.
func Take(g *cli.Globals, store *cluster.Store, name string) error {
	key := "cluster/" + name
	if g.Holds(key) {
		return nil
	}
	command := g.Command
	if command == "" {
		command = "gameday"
	}
	l, err := store.Lock(name, command)
	if errors.Is(err, cluster.ErrLocked) {
		return cli.Usage(err)
	}
	if err != nil {
		return err
	}
	g.Hold(key, l)
	return nil
}
