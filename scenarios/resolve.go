package scenarios

import (
	"fmt"
	"sort"
	"strings"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/system"
)

// String is the selector as a plan prints it: pool=app, tier=workers, labels{k=v}.
func (s Selector) String() string {
	switch {
	case s.Pool != "":
		return "pool=" + s.Pool
	case s.Tier != "":
		return "tier=" + string(s.Tier)
	case len(s.Labels) > 0:
		kv := make([]string, 0, len(s.Labels))
		for k, v := range s.Labels {
			kv = append(kv, k+"="+v)
		}
		sort.Strings(kv)
		return "labels{" + strings.Join(kv, ",") + "}"
	}
	return "nothing"
}

// String is the target as a plan prints it.
func (t Target) String() string {
	switch t.Mode {
	case ModeOne:
		return "one of " + t.Selector.String()
	case ModeFixed:
		return fmt.Sprintf("%d of %s", t.Value, t.Selector)
	case ModePercent:
		return fmt.Sprintf("%d%% of %s", t.Value, t.Selector)
	}
	return t.Selector.String()
}

// PoolFor is the pool a selector names on topology t: the pool itself, or
// the pool hosting the tier of sys (nil: system.Default). Labels name no
// single pool.
func PoolFor(sys *system.System, t cluster.Topology, sel Selector) (cluster.Pool, error) {
	switch {
	case sel.Pool == cluster.SystemPool:
		return cluster.Pool{Name: cluster.SystemPool, Size: 1}, nil
	case sel.Pool != "":
		p, ok := t.Pool(sel.Pool)
		if !ok {
			return cluster.Pool{}, fmt.Errorf("topology %s has no pool %s", t.Name, sel.Pool)
		}
		return p, nil
	case sel.Tier != "":
		if sys == nil {
			sys = system.MustDefault()
		}
		place, err := fixtures.Place(sys, t)
		if err != nil {
			return cluster.Pool{}, err
		}
		p, ok := place[sel.Tier]
		if !ok {
			return cluster.Pool{}, fmt.Errorf("system %s has no tier %s", sys.Name, sel.Tier)
		}
		return p, nil
	}
	return cluster.Pool{}, fmt.Errorf("%s names no pool", sel)
}

// SparePools are the spare pools provision-pool brings in for a selector on
// topology t: the pool itself when it is a spare, else the spares that
// replace it.
func SparePools(sys *system.System, t cluster.Topology, sel Selector) ([]cluster.Pool, error) {
	p, err := PoolFor(sys, t, sel)
	if err != nil {
		return nil, err
	}
	if p.Spare {
		return []cluster.Pool{p}, nil
	}
	var out []cluster.Pool
	for _, sp := range t.Pools {
		if sp.Spare && sp.Replaces == p.Name {
			out = append(out, sp)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("on topology %s no spare pool replaces pool %s (a spare pool has spare: true and replaces: %s)", t.Name, p.Name, p.Name)
	}
	return out, nil
}
