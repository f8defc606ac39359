package play

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"os"
	"slices"
	"time"
)

// An Act is one request a player made, as the API server's audit log has
// it: who, what, on what, when, and how the server answered.
type Act struct {
	At          time.Time `json:"at"`
	Player      string    `json:"player"`
	Verb        string    `json:"verb"` // get, list, watch, create, update, patch, delete, ...
	Resource    string    `json:"resource"`
	Subresource string    `json:"subresource,omitempty"`
	Namespace   string    `json:"namespace,omitempty"`
	Name        string    `json:"name,omitempty"`
	Code        int       `json:"code"` // the HTTP status the server answered
	// Request is the body of a change, as sent (a patch, an object).
	Request json.RawMessage `json:"request,omitempty"`
	// DryRun: the server checked the request and stored nothing.
	DryRun bool `json:"dryRun,omitempty"`
}

// Write reports whether the act asked for a change (a dry run asks none).
func (a Act) Write() bool {
	return !a.DryRun && slices.Contains([]string{"create", "update", "patch", "delete", "deletecollection"}, a.Verb)
}

// auditEvent is the part of an audit.k8s.io/v1 Event gameday reads.
type auditEvent struct {
	Kind  string `json:"kind"`
	Stage string `json:"stage"`
	User  struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	} `json:"user"`
	Verb      string `json:"verb"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestObject  json.RawMessage `json:"requestObject"`
	StageTimestamp time.Time       `json:"stageTimestamp"`
	RequestURI     string          `json:"requestURI"`
}

// ParseAct reads one audit log line: a player's finished request, or false
// for anything else (another user's, a stage before the response, a line
// that is not an event).
func ParseAct(line []byte) (Act, bool) {
	var e auditEvent
	if err := json.Unmarshal(line, &e); err != nil || e.Kind != "Event" {
		return Act{}, false
	}
	if e.Stage != "ResponseComplete" && e.Stage != "Panic" || !slices.Contains(e.User.Groups, PlayersGroup) {
		return Act{}, false
	}
	a := Act{At: e.StageTimestamp, Player: e.User.Username, Verb: e.Verb, Request: e.RequestObject, DryRun: isDryRun(e.RequestURI)}
	if e.ObjectRef != nil {
		a.Resource, a.Subresource, a.Namespace, a.Name = e.ObjectRef.Resource, e.ObjectRef.Subresource, e.ObjectRef.Namespace, e.ObjectRef.Name
	}
	if e.ResponseStatus != nil {
		a.Code = e.ResponseStatus.Code
	}
	return a, true
}

// isDryRun reports whether a request's URI asks for a dry run (dryRun=All).
func isDryRun(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && u.Query().Get("dryRun") != ""
}

// AuditTail reads an audit log as it grows: each Next returns the players'
// acts written since the last, whole lines only (a line being written is
// read next time). A log rotated away (smaller than what was read) is read
// again from its start.
type AuditTail struct {
	Path   string
	offset int64
	// Lines is how many lines were read, players' or not: the cost of
	// reading the log.
	Lines int
}

// TailFromEnd reads path from its current end: a cluster used before (a
// game on a kept cluster) has earlier games' acts in its log, which are not
// this game's.
func TailFromEnd(path string) (*AuditTail, error) {
	t := &AuditTail{Path: path}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return t, nil
	case err != nil:
		return nil, err
	}
	t.offset = fi.Size()
	return t, nil
}

// Next returns the new acts; a log not there yet has none.
func (t *AuditTail) Next() ([]Act, error) {
	f, err := os.Open(t.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() < t.offset {
		t.offset = 0
	}
	if _, err := f.Seek(t.offset, io.SeekStart); err != nil {
		return nil, err
	}
	var acts []Act
	r := bufio.NewReaderSize(f, 1<<16)
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			return acts, nil // a partial line is left for next time
		}
		if err != nil {
			return acts, err
		}
		t.offset += int64(len(line))
		t.Lines++
		if a, ok := ParseAct(bytes.TrimSpace(line)); ok {
			acts = append(acts, a)
		}
	}
}
