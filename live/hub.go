// Package live serves a game day's live page: the game as it happens (the
// clock, each service's and journey's state, the node pools, the timeline,
// the goals and the scores so far) to everyone in the room, over
// server-sent events, with a role per link: the facilitator acts on the
// game, the reporter writes notes into its timeline, observers watch.
package live

import (
	"encoding/json"
	"sync"
	"time"
)

// Event is one server-sent event. IDs start at 1 and have no gaps: a client
// that resumes after the last ID it saw (Last-Event-ID) misses nothing.
type Event struct {
	ID   int64
	Type string
	Data json.RawMessage
	// At is when it was published, for a client's lag.
	At time.Time
}

// Hub keeps every event of a game, in order, and wakes the streams when one
// is published. A game's events are few enough (entries worth showing and
// a state a second) to keep whole: a client that reconnects late still
// gets all it missed.
type Hub struct {
	mu     sync.Mutex
	events []Event
	wake   chan struct{}
	closed bool
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{wake: make(chan struct{})} }

// Publish appends an event of type typ holding v (as JSON) and returns its
// ID; after Close it publishes nothing and returns 0.
func (h *Hub) Publish(typ string, v any) (int64, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, nil
	}
	id := int64(len(h.events) + 1)
	h.events = append(h.events, Event{ID: id, Type: typ, Data: data, At: time.Now()})
	close(h.wake)
	h.wake = make(chan struct{})
	return id, nil
}

// After returns the events after id, a channel closed at the next
// publication, and whether the hub is closed (nothing more will come).
func (h *Hub) After(id int64) ([]Event, <-chan struct{}, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if id < 0 {
		id = 0
	}
	var out []Event
	if id < int64(len(h.events)) {
		out = h.events[id:len(h.events):len(h.events)]
	}
	return out, h.wake, h.closed
}

// Last is the ID of the newest event, 0 if none.
func (h *Hub) Last() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return int64(len(h.events))
}

// Close ends the hub: streams send what is left and end.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.wake)
	}
}
