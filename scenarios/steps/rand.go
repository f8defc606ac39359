package steps

import (
	"math/rand/v2"
	"sync"
)

// Rand is a seeded random source that the timeline's steps and the
// automation's goroutines can share: a *rand.Rand is not safe for
// concurrent use.
type Rand struct {
	mu sync.Mutex
	r  *rand.Rand
}

// NewRand returns a PCG source seeded with seed1 and seed2: the same seeds
// pick the same targets in the same order.
func NewRand(seed1, seed2 uint64) *Rand {
	return &Rand{r: rand.New(rand.NewPCG(seed1, seed2))}
}

// Shuffle is rand.Rand's Shuffle, one caller at a time.
func (r *Rand) Shuffle(n int, swap func(i, j int)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.r.Shuffle(n, swap)
}
