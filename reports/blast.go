package reports

import (
	"math"
	"slices"

	"gameday.dev/gameday/scenarios/timeline"
)

// systemPool is the control plane's pool: never counted as a worker pool.
const systemPool = "system"

// lostTaint is the taint gameday puts on a node whose loss it emulates
// (cluster.LostTaint, on a cluster whose machines it cannot stop).
const lostTaint = "gameday.dev/lost"

// nodeState is a node's state as one of the lane states.
func nodeState(e timeline.Entry) string {
	switch {
	case e.Deleted:
		return NodeGone
	case e.InService != nil && !*e.InService:
		return NodeOutOfService
	case e.Lost, e.Ready == nil || !*e.Ready: // an emulated loss counts as the loss it stands for
		return NodeNotReady
	case e.Schedulable != nil && !*e.Schedulable:
		return NodeCordoned
	}
	return NodeReady
}

// measureBlast measures what the run disrupted: nodes lost, pools touched,
// pods killed, evicted or restarted, and draws the node lanes.
func measureBlast(r *Report, es []timeline.Entry, c *clock) {
	br := &r.BlastRadius
	br.TiersCrashLooping = []string{}
	// Nodes: their state at the start, then every change in the span.
	type node struct {
		pool    string
		states  []string
		at      []float64
		service bool // in service (and Ready) at the start
	}
	nodes := map[string]*node{}
	var order []string
	poolInfo := map[string]*PoolSummary{}
	var poolOrder []string
	pool := func(name string) *PoolSummary {
		if p, ok := poolInfo[name]; ok {
			return p
		}
		p := &PoolSummary{Name: name, Tiers: []string{}}
		poolInfo[name] = p
		poolOrder = append(poolOrder, name)
		return p
	}
	touched := map[string]bool{}
	for _, e := range es {
		// A node in no pool is not the run's: on a cluster gameday did not
		// create, the nodes not opted in.
		if e.Kind != timeline.KindNode || !e.Time.Before(c.end) || e.Pool == systemPool || e.Pool == "" {
			continue
		}
		n, ok := nodes[e.Name]
		if !ok {
			n = &node{pool: e.Pool}
			nodes[e.Name] = n
			order = append(order, e.Name)
			pool(e.Pool)
		}
		st := nodeState(e)
		if !e.Time.Before(c.from()) { // the state at the start is what came strictly before it
			if len(n.states) == 0 || n.states[len(n.states)-1] != st {
				n.states = append(n.states, st)
				n.at = append(n.at, math.Max(0, c.at(e.Time))) // a lane starts at the span's start
			}
			if n.service && (st == NodeNotReady || st == NodeGone) {
				touched[n.pool] = true
			}
			if n.service && st == NodeCordoned {
				touched[n.pool] = true
			}
			continue
		}
		n.states, n.at = []string{st}, []float64{0}
		n.service = st == NodeReady || st == NodeCordoned
	}
	lost := map[string]bool{}
	inService := map[string]bool{}
	for _, name := range order {
		n := nodes[name]
		lane := NodeLane{Name: name, Pool: n.pool}
		for i, st := range n.states {
			to := r.SpanSeconds
			if i+1 < len(n.at) {
				to = n.at[i+1]
			}
			lane.States = append(lane.States, Span{State: st, From: n.at[i], To: round3(to)})
			if n.service && (st == NodeNotReady || st == NodeGone) {
				lost[name] = true
			}
		}
		r.Nodes = append(r.Nodes, lane)
		if n.service {
			br.NodesAtStart++
			inService[n.pool] = true
		}
		if lost[name] {
			poolInfo[n.pool].Lost++
		}
	}
	br.NodesLost = len(lost)
	for name := range poolInfo {
		poolInfo[name].Spare = !inService[name]
	}

	// Pods: a deletion counts when the pod's release was its tier's current
	// one (killed or evicted, not replaced by a rollout or rollback); every
	// restart counts.
	current := map[string]string{} // tier -> release
	restarts := map[string]int32{}
	nodePool := nodePools(es)
	disrupted := map[string]bool{}
	deleted := map[string]bool{}
	alive := map[string]bool{}
	for _, e := range es {
		if !e.Time.Before(c.end) {
			break
		}
		switch e.Kind {
		case timeline.KindDeployment:
			if e.Release != "" {
				current[e.Tier] = e.Release
			}
		case timeline.KindPod:
			if e.Time.Before(c.from()) {
				restarts[e.Name] = e.Restarts
				if p := podPool(e, nodePool); p != "" && p != systemPool && !slices.Contains(pool(p).Tiers, e.Tier) && !e.Deleted {
					pool(p).Tiers = append(pool(p).Tiers, e.Tier)
				}
				alive[e.Name] = !e.Deleted
				deleted[e.Name] = e.Deleted
				continue
			}
			if e.Waiting == "CrashLoopBackOff" && !slices.Contains(r.BlastRadius.TiersCrashLooping, e.Tier) {
				r.BlastRadius.TiersCrashLooping = append(r.BlastRadius.TiersCrashLooping, e.Tier)
			}
			hit := false
			if e.Restarts > restarts[e.Name] {
				br.PodRestarts += int(e.Restarts - restarts[e.Name])
				restarts[e.Name] = e.Restarts
				hit = true
			}
			if e.Deleted && !deleted[e.Name] {
				deleted[e.Name] = true
				if e.Release == current[e.Tier] {
					br.PodsKilled++
					hit = true
				}
			}
			if hit {
				disrupted[e.Name] = true
				if p := podPool(e, nodePool); p != "" {
					touched[p] = true
				}
			}
		}
	}
	for _, a := range alive {
		if a {
			br.PodsAtStart++
		}
	}
	br.PodsDisrupted = len(disrupted)
	slices.Sort(br.TiersCrashLooping)
	slices.Sort(poolOrder)
	br.PoolsTouched = []string{}
	inServiceTouched := 0
	for _, name := range poolOrder {
		p := poolInfo[name]
		slices.Sort(p.Tiers)
		p.Touched = touched[name]
		if p.Touched {
			br.PoolsTouched = append(br.PoolsTouched, name)
			if inService[name] {
				inServiceTouched++
			}
		}
		r.Pools = append(r.Pools, *p)
	}
	br.PodsShare = share(br.PodsDisrupted, br.PodsAtStart)
	br.NodesShare = share(br.NodesLost, br.NodesAtStart)
	br.PoolsShare = share(inServiceTouched, len(inService))
}

// share is a/b capped at 1 (0 when b is 0).
func share(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return round6(min(1, float64(a)/float64(b)))
}
