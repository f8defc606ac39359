package live

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// Role is what a link lets its holder do.
type Role string

// The roles of a game day's room.
const (
	// Facilitator runs the game: releases a hint, injects a curveball, ends
	// it, stops everything (emergency stop); writes notes too.
	Facilitator Role = "facilitator"
	// Reporter writes timestamped notes and observations into the timeline.
	Reporter Role = "reporter"
	// Observer watches.
	Observer Role = "observer"
)

// Roles lists the roles, most rights first.
var Roles = []Role{Facilitator, Reporter, Observer}

// may reports whether role r may do action a.
func (r Role) may(a action) bool {
	switch a {
	case actWatch:
		return r == Facilitator || r == Reporter || r == Observer
	case actNote:
		return r == Facilitator || r == Reporter
	default:
		return r == Facilitator
	}
}

// action is what a request asks.
type action string

const (
	actWatch  action = "watch"
	actNote   action = "note"
	actHint   action = "hint"
	actInject action = "inject"
	actEnd    action = "end"
	actStop   action = "stop"
)

// Tokens holds one secret per role.
type Tokens map[Role]string

// NewTokens makes a fresh random token for each role.
func NewTokens() (Tokens, error) {
	t := Tokens{}
	for _, r := range Roles {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		t[r] = hex.EncodeToString(b)
	}
	return t, nil
}

// roleOf is the role whose token the request carries in its Authorization
// header (Bearer), compared in constant time; "" when none matches. A token
// is only ever read from the header, never from the URL.
func (t Tokens) roleOf(r *http.Request) Role {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return ""
	}
	var found Role
	for _, role := range Roles {
		if subtle.ConstantTimeCompare([]byte(got), []byte(t[role])) == 1 {
			found = role
		}
	}
	return found
}
