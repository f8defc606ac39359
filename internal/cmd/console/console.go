// Package console implements `gameday console`: a player's client of the
// cloud console a game serves (the managed-Kubernetes provider's stand-in).
package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/play"
	"gameday.dev/gameday/scenarios/engine"
)

type flagpole struct {
	Kit    string
	Output cli.Output
}

// NewCommand returns `gameday console`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "console",
		Short: "The cloud console of a game: the cluster, its node groups, the deploy history",
		Long: `The cloud console stands in for the managed-Kubernetes provider during a
game (gameday play): describe the cluster (its control-plane version and
upgrade history), list, describe, create and delete node groups, and read
the deploy history. Every call is made with the player's token from their
kit (--kit, or $GAMEDAY_KIT) and goes into the game's timeline under their
name.`,
		Example: `  export GAMEDAY_KIT=$PWD/gameday-play-cascading-outage-20261202-101500/shared/kits/ana
  gameday console cluster
  gameday console nodegroups
  gameday console nodegroup describe app
  gameday console nodegroup create app-v138 --version 1.38
  gameday console deploys`,
		Args: cli.NoArgs,
		RunE: cli.Group,
	}
	cmd.PersistentFlags().StringVar(&f.Kit, "kit", "", "the player's kit folder (default $GAMEDAY_KIT, else the current folder)")
	cli.AddOutputFlag(cmd.PersistentFlags(), &f.Output)

	clusterCmd := &cobra.Command{
		Use:   "cluster",
		Short: "Describe the cluster: its control-plane version and upgrade history",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var v play.ClusterView
			if err := call(cmd.Context(), f, http.MethodGet, "/v1/cluster", nil, &v); err != nil {
				return err
			}
			if f.Output == cli.OutputJSON {
				return cli.PrintJSON(g.Streams.Out, v)
			}
			t := cli.NewTable(g.Streams.Out, "NAME", "VERSION", "STATUS")
			t.Row(v.Name, v.Version, "ACTIVE")
			if err := t.Flush(); err != nil {
				return err
			}
			if len(v.Upgrades) == 0 {
				return nil
			}
			fmt.Fprintln(g.Streams.Out, "\nUPGRADES")
			t = cli.NewTable(g.Streams.Out, "WHEN", "FROM", "TO", "BY")
			for _, u := range v.Upgrades {
				t.Row(u.At.Local().Format(time.TimeOnly), u.From, u.To, u.By)
			}
			return t.Flush()
		},
	}
	groupsCmd := &cobra.Command{
		Use:   "nodegroups",
		Short: "List the node groups: version, size, status and health",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var gs []play.NodeGroup
			if err := call(cmd.Context(), f, http.MethodGet, "/v1/nodegroups", nil, &gs); err != nil {
				return err
			}
			return printGroups(g.Streams.Out, f.Output, gs)
		},
	}
	groupCmd := &cobra.Command{Use: "nodegroup", Short: "Describe, create or delete a node group", Args: cli.NoArgs, RunE: cli.Group}
	var version string
	create := &cobra.Command{
		Use:     "create NAME --version VERSION",
		Short:   "Create a node group at a Kubernetes version (its nodes join only at the control plane's)",
		Example: "  gameday console nodegroup create app-v138 --version 1.38",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version == "" {
				return cli.Usagef("a node group needs --version")
			}
			var ng play.NodeGroup
			if err := call(cmd.Context(), f, http.MethodPost, "/v1/nodegroups", map[string]string{"name": args[0], "version": version}, &ng); err != nil {
				return err
			}
			if f.Output == cli.OutputJSON {
				return cli.PrintJSON(g.Streams.Out, ng)
			}
			fmt.Fprintf(g.Streams.Out, "node group %s: %s (follow it with `gameday console nodegroup describe %s`)\n", ng.Name, ng.Status, ng.Name)
			return nil
		},
	}
	create.Flags().StringVar(&version, "version", "", "the Kubernetes version of its nodes, such as 1.38")
	describe := &cobra.Command{
		Use:   "describe NAME",
		Short: "Describe a node group",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ng play.NodeGroup
			if err := call(cmd.Context(), f, http.MethodGet, "/v1/nodegroups/"+url.PathEscape(args[0]), nil, &ng); err != nil {
				return err
			}
			return printGroups(g.Streams.Out, f.Output, []play.NodeGroup{ng})
		},
	}
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a node group made in the console",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := call(cmd.Context(), f, http.MethodDelete, "/v1/nodegroups/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(g.Streams.Out, "node group %s deleted\n", args[0])
			return nil
		},
	}
	groupCmd.AddCommand(describe, create, del)
	deploys := &cobra.Command{
		Use:   "deploys",
		Short: "The deploy history: who released what, when",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ds []play.Deploy
			if err := call(cmd.Context(), f, http.MethodGet, "/v1/deploys", nil, &ds); err != nil {
				return err
			}
			if f.Output == cli.OutputJSON {
				return cli.PrintJSON(g.Streams.Out, ds)
			}
			t := cli.NewTable(g.Streams.Out, "WHEN", "SERVICE", "RELEASE", "BY")
			for _, d := range ds {
				t.Row(d.At.Local().Format(time.TimeOnly), d.Tier, d.Release, d.By)
			}
			return t.Flush()
		},
	}
	cmd.AddCommand(clusterCmd, groupsCmd, groupCmd, deploys)
	return cmd
}

func printGroups(w io.Writer, o cli.Output, gs []play.NodeGroup) error {
	if o == cli.OutputJSON {
		return cli.PrintJSON(w, gs)
	}
	t := cli.NewTable(w, "NAME", "VERSION", "DESIRED", "READY", "STATUS", "HEALTH")
	for _, ng := range gs {
		health := strings.Join(ng.Health, "; ")
		if health == "" {
			health = "-"
		}
		version := ng.Version
		if version == "" {
			version = "-"
		}
		t.Row(ng.Name, version, fmt.Sprint(ng.Desired), fmt.Sprint(ng.Size), ng.Status, health)
	}
	return t.Flush()
}

// kit reads the player's console.json.
func kit(f *flagpole) (engine.ConsoleKit, error) {
	dir := f.Kit
	if dir == "" {
		dir = os.Getenv("GAMEDAY_KIT")
	}
	if dir == "" {
		dir = "."
	}
	path := filepath.Join(dir, "console.json")
	var k engine.ConsoleKit
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return k, cli.Usagef("no console kit at %s: give your kit folder with --kit or $GAMEDAY_KIT", path)
	}
	if err != nil {
		return k, err
	}
	if err := json.Unmarshal(data, &k); err != nil || k.URL == "" || k.Token == "" {
		return k, cli.Usagef("%s is not a console kit (it needs url and token)", path)
	}
	return k, nil
}

// call makes one console request and decodes its answer into out; the
// provider's errors come back as they are, an unknown token as bad input.
func call(ctx context.Context, f *flagpole, method, path string, body, out any) error {
	k, err := kit(f)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, k.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+k.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("the console at %s does not answer (is the game still on?): %w", k.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct{ Code, Message string }
		if json.Unmarshal(data, &e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		err := fmt.Errorf("%s (%s): %s", e.Code, resp.Status, e.Message)
		if resp.StatusCode < 500 {
			return cli.Usage(err)
		}
		return err
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}
