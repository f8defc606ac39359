package kubeconfig

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"gameday.dev/gameday/cluster"
)

// fence stands between a Target's client and the API server: once armed
// with the cluster's Lease (Arm), every write but the Lease's own is let
// through only while the Lease may be counted on (Hold.Check), and bounded
// by when it would be given up, so that a process another gameday has
// taken the cluster over from writes nothing more: not a step's change,
// not a journal record, not a recovery's.
type fence struct {
	hold atomic.Pointer[Hold]
	next http.RoundTripper
}

// Arm fences the Target's writes with hold from now on.
func (t *Target) Arm(hold *Hold) {
	if t.fence != nil {
		t.fence.hold.Store(hold)
	}
}

var leasePath = "/apis/coordination.k8s.io/v1/namespaces/" + cluster.ExistingNamespace + "/leases"

func (f *fence) RoundTrip(r *http.Request) (*http.Response, error) {
	h := f.hold.Load()
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return f.next.RoundTrip(r)
	}
	if h == nil || strings.Contains(r.URL.Path, leasePath) {
		return f.next.RoundTrip(r)
	}
	if err := h.Check(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithDeadline(r.Context(), h.deadline())
	resp, err := f.next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
