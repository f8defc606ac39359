package kubeconfig

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/client-go/kubernetes/fake"
)

type countingRT struct{ n int }

func (c *countingRT) RoundTrip(*http.Request) (*http.Response, error) {
	c.n++
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}"))}, nil
}

// Once the Lease is lost, no write but the Lease's own reaches the API
// server; reads do. Before it is armed, everything does.
func TestFenceRefusesWritesOnceTheLeaseIsLost(t *testing.T) {
	next := &countingRT{}
	f := &fence{next: next}
	do := func(method, path string) error {
		req, _ := http.NewRequest(method, "https://api.example"+path, nil)
		resp, err := f.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := do(http.MethodPost, "/api/v1/namespaces/gameday/configmaps"); err != nil {
		t.Fatalf("unarmed: %v", err)
	}
	h := &Hold{lost: make(chan struct{}), last: time.Now(), lastBoot: bootClock()}
	f.hold.Store(h)
	if err := do(http.MethodPatch, "/api/v1/nodes/web-1"); err != nil {
		t.Fatalf("armed, Lease held: %v", err)
	}
	h.lose("taken over")
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if err := do(m, "/api/v1/nodes/web-1"); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("%s after the Lease was lost: %v", m, err)
		}
	}
	before := next.n
	if err := do(http.MethodGet, "/api/v1/nodes"); err != nil {
		t.Errorf("a read: %v", err)
	}
	if err := do(http.MethodPut, "/apis/coordination.k8s.io/v1/namespaces/gameday/leases/gameday"); err != nil {
		t.Errorf("the Lease's own write: %v", err)
	}
	if next.n != before+2 {
		t.Errorf("%d requests through, want 2", next.n-before)
	}
}

// A Lease whose last renewal is older than giveUp is lost at the first
// write, even with no renewal due yet (a laptop that slept).
func TestFenceLosesAnOldLease(t *testing.T) {
	renewEvery = 30 * time.Millisecond
	defer func() { renewEvery = LeaseDuration / 5 }()
	f := &fence{next: &countingRT{}}
	h := &Hold{lost: make(chan struct{}), last: time.Now().Add(-time.Second), lastBoot: bootClock() - time.Second}
	f.hold.Store(h)
	req, _ := http.NewRequest(http.MethodPost, "https://api.example/api/v1/namespaces/gameday/configmaps", nil)
	if _, err := f.RoundTrip(req); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("write with a 1s-old renewal: %v", err)
	}
	select {
	case <-h.Lost():
	default:
		t.Error("the Lease is not given up")
	}
}

// A released Lease writes nothing more, and is not lost for it (no exit
// while a debrief page lingers).
func TestReleasedHoldIsNotLost(t *testing.T) {
	renewEvery = 30 * time.Millisecond
	defer func() { renewEvery = LeaseDuration / 5 }()
	ctx := t.Context()
	client := fake.NewClientset()
	h, err := TakeLease(ctx, client, "me")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Check(); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Check after Release: %v", err)
	}
	select {
	case <-h.Lost():
		t.Error("a released Lease is lost")
	case <-time.After(2 * giveUp()):
	}
	if err := h.Check(); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Check after Release: %v", err)
	}
	select {
	case <-h.Lost():
		t.Error("a released Lease is lost")
	default:
	}
}

// The fence is on the Target's own client: armed with a lost Lease, a
// write through it never reaches the API server; a read does.
func TestTargetClientIsFenced(t *testing.T) {
	var writes, reads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			reads.Add(1)
		} else {
			writes.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"gameday"}}`)
	}))
	defer srv.Close()
	tg, err := Open(writeKubeconfig(t, srv.URL), "staging")
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "gameday"}}
	if _, err := tg.Client.CoreV1().ConfigMaps("gameday").Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("unarmed: %v", err)
	}
	h := &Hold{lost: make(chan struct{}), last: time.Now(), lastBoot: bootClock()}
	tg.Arm(h)
	h.lose("taken over")
	if _, err := tg.Client.CoreV1().ConfigMaps("gameday").Create(t.Context(), cm, metav1.CreateOptions{}); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("armed and lost: %v", err)
	}
	if _, err := tg.Client.CoreV1().ConfigMaps("gameday").Get(t.Context(), "x", metav1.GetOptions{}); err != nil {
		t.Errorf("a read: %v", err)
	}
	if writes.Load() != 1 || reads.Load() != 1 {
		t.Errorf("the server saw %d writes and %d reads, want 1 and 1", writes.Load(), reads.Load())
	}
}
