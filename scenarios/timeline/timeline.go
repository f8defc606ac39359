// Package timeline is the record of a run: one JSON object per line, each
// timestamped, holding what the probes saw, what the informers saw, and what
// the run did (steps, records, automation, phases). Reports read it.
package timeline

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"gameday.dev/gameday/internal/jsonl"
)

// Entry kinds.
const (
	KindRun        = "run"        // a phase of the run: Phase says which
	KindStep       = "step"       // a step started or ended
	KindRecord     = "record"     // a change the run made, as journaled
	KindAutomation = "automation" // a rule fired
	KindProbe      = "probe"      // one host-side HTTP request
	KindNode       = "node"       // a node's state changed
	KindPod        = "pod"        // a fixture pod's state changed
	KindDeployment = "deployment" // a tier's deployment changed
	KindEvent      = "event"      // a Kubernetes event
	// KindChange is a change seen in the cluster, whoever made it: Object
	// and Field say what, From and To how, Manager who the API server
	// recorded (its field manager; empty for what a node's status shows).
	KindChange = "change"

	// A game's (gameday play):
	KindAct  = "act"  // a player's request: kubectl's (the audit log's; reads summarised, Count) or the console's (Via)
	KindGoal = "goal" // a goal the game sets (Phase set) and reaches (Phase reached); Step: the operator step it stands for
	KindHint = "hint" // a hint the game holds (Phase set) and releases (Phase released; Reason: why now)
	KindFact = "fact" // a role card's private fact first reached another player (Name: the fact; Player: who; Message: how)

	// KindNote is what the room wrote on the live page (gameday play --ui):
	// Phase note or observation, Player who wrote it, Message the text.
	KindNote = "note"
)

// Manager is the field manager the API server records for gameday's own
// requests (its clients identify themselves with this user agent).
const Manager = "gameday"

// Entry is one line of a timeline; fields unused by its kind are empty.
type Entry struct {
	Time  time.Time `json:"time"`
	Kind  string    `json:"kind"`
	Phase string    `json:"phase,omitempty"`

	// steps and automation
	Step    string   `json:"step,omitempty"`
	Action  string   `json:"action,omitempty"`
	Rule    string   `json:"rule,omitempty"`
	Targets []string `json:"targets,omitempty"`
	Blocked bool     `json:"blocked,omitempty"`
	Change  bool     `json:"change,omitempty"`
	// Actor is who made a step: scenario, operator or automation.
	Actor   string `json:"actor,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`

	// probes
	Service   string  `json:"service,omitempty"`
	Endpoint  string  `json:"endpoint,omitempty"`
	Status    int     `json:"status,omitempty"`
	LatencyMs float64 `json:"latencyMs,omitempty"`
	OK        *bool   `json:"ok,omitempty"`
	Degraded  bool    `json:"degraded,omitempty"`
	Class     string  `json:"class,omitempty"`

	// nodes, pods, deployments, events, records
	Name        string `json:"name,omitempty"`
	Pool        string `json:"pool,omitempty"`
	Tier        string `json:"tier,omitempty"`
	Node        string `json:"node,omitempty"`
	Ready       *bool  `json:"ready,omitempty"`
	Schedulable *bool  `json:"schedulable,omitempty"`
	InService   *bool  `json:"inService,omitempty"`
	// Lost: a node whose loss gameday emulates (cluster.LostTaint): Ready,
	// but as good as gone.
	Lost       bool   `json:"lost,omitempty"`
	PodPhase   string `json:"podPhase,omitempty"`
	Waiting    string `json:"waiting,omitempty"`
	Restarts   int32  `json:"restarts,omitempty"`
	Deleted    bool   `json:"deleted,omitempty"`
	Replicas   int32  `json:"replicas,omitempty"`
	ReadyCount *int32 `json:"readyReplicas,omitempty"`
	Release    string `json:"release,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Object     string `json:"object,omitempty"`
	EventType  string `json:"eventType,omitempty"`
	RecordKind string `json:"recordKind,omitempty"`
	Value      string `json:"value,omitempty"`

	// changes
	Field   string `json:"field,omitempty"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Manager string `json:"manager,omitempty"`

	// a game's acts: who, through what, on what
	Player      string `json:"player,omitempty"`
	Via         string `json:"via,omitempty"` // kubectl (any API client, from the audit log) or console
	Verb        string `json:"verb,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Code        int    `json:"code,omitempty"`
	// Count is how many reads a summarised entry stands for.
	Count int `json:"count,omitempty"`
}

// Bool is a *bool for Entry's optional flags.
func Bool(b bool) *bool { return &b }

// Writer appends entries to a file; safe for concurrent use.
type Writer struct {
	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	enc   *json.Encoder
	count int
	err   error
	tee   func(Entry)
}

// Tee has every entry written from now on also given to f, in the order
// the file has them; f must not block (a live page's feed).
func (w *Writer) Tee(f func(Entry)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tee = f
}

// Create creates (or truncates) a timeline file.
func Create(path string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	return &Writer{f: f, w: bw, enc: json.NewEncoder(bw)}, nil
}

// Write appends e, stamping it with the current time if it has none.
func (w *Writer) Write(e Entry) {
	if w == nil {
		return // a run without a timeline (recover) writes nothing
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil && w.f != nil {
		w.err = w.enc.Encode(e)
		w.count++
		if w.tee != nil {
			w.tee(e)
		}
	}
}

// Count is how many entries were written.
func (w *Writer) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count
}

// Flush writes buffered entries to the file.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return w.err
}

// Close flushes and closes the file; later writes are dropped.
func (w *Writer) Close() error {
	err := w.Flush()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return err
	}
	cerr := w.f.Close()
	w.f = nil
	return errors.Join(err, cerr)
}

// TornError: the timeline's last line is not a whole entry, as when the run
// was killed while writing it. Read returns the entries before it with this
// error; a reader may carry on with them, saying so.
type TornError struct {
	Line int // 1-based
}

func (e *TornError) Error() string {
	return fmt.Sprintf("line %d, the last, is torn (the run was killed while writing it): it is left out", e.Line)
}

// Read decodes a timeline, one JSON entry per line. A torn last line is a
// *TornError returned with every entry before it; any other line that does
// not decode is an error: the file is damaged, not cut short.
func Read(r io.Reader) ([]Entry, error) {
	var out []Entry
	torn, err := jsonl.Read(r, func(line []byte) error {
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return out, err
	}
	if torn > 0 {
		return out, &TornError{Line: torn}
	}
	return out, nil
}
