package kubeconfig

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"gameday.dev/gameday/cluster"
)

func TestLeaseHeldStoppedReleased(t *testing.T) {
	renewEvery = 20 * time.Millisecond
	defer func() { renewEvery = LeaseDuration / 5 }()
	ctx := context.Background()
	client := fake.NewClientset()
	h, err := TakeLease(ctx, client, "laptop pid 1: gameday run")
	if err != nil {
		t.Fatal(err)
	}
	// A second gameday, anywhere, is refused, naming the holder.
	if _, err := TakeLease(ctx, client, "ci pid 2: gameday recover"); !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "laptop pid 1: gameday run") {
		t.Fatalf("second holder: %v", err)
	}
	holder, err := RequestStop(ctx, client)
	if err != nil || holder != "laptop pid 1: gameday run" {
		t.Fatalf("stop: %q, %v", holder, err)
	}
	select {
	case <-h.Stop():
	case <-time.After(5 * time.Second):
		t.Fatal("the holder never heard the stop")
	}
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := WaitReleased(ctx, client, time.Second); err != nil {
		t.Fatal(err)
	}
	// Free again, and the stop request gone with the holder.
	h2, err := TakeLease(ctx, client, "ci pid 2: gameday recover")
	if err != nil {
		t.Fatal(err)
	}
	l, _ := client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
	if l.Annotations[StopAnno] != "" {
		t.Error("a stop asked of the earlier holder is still there")
	}
	_ = h2.Release(ctx)
}

// A holder killed with -9 renews no more. Its Lease is held all the same,
// whatever its renewal time says (another machine's clock wrote it), until
// this machine has watched it silent for the Lease's duration.
func TestSilentHolder(t *testing.T) {
	renewEvery = 100 * time.Millisecond
	defer func() { renewEvery = LeaseDuration / 5 }()
	ctx := context.Background()
	who := "dead pid 9"
	secs := int32(1)
	long := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	client := fake.NewClientset(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: LeaseName, Namespace: cluster.ExistingNamespace},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &who, LeaseDurationSeconds: &secs, RenewTime: &long}})
	if _, err := TakeLease(ctx, client, "me"); !errors.Is(err, ErrHeld) {
		t.Fatalf("an old renewal time freed the Lease: %v", err)
	}
	start := time.Now()
	silent, err := CheckFree(ctx, client, func(string) {})
	if err != nil || silent == nil || time.Since(start) < time.Second {
		t.Errorf("CheckFree: %v after %s (want free after 1s of silence)", err, time.Since(start))
	}
	start = time.Now()
	if _, err := WaitReleased(ctx, client, time.Minute); !errors.Is(err, ErrHolderDead) || time.Since(start) < time.Second {
		t.Errorf("WaitReleased: %v after %s", err, time.Since(start))
	}
	if holder, err := RequestStop(ctx, client); err != nil || holder != who {
		t.Errorf("stop: %q, %v", holder, err)
	}
	// The watch CheckFree began goes on: the Lease, only annotated since
	// (a stop asked), is taken over at once.
	start = time.Now()
	taken, err := TakeLeaseAfterDead(ctx, client, "me", func(string) {}, silent)
	if err != nil || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("take over after CheckFree: %v after %s", err, time.Since(start))
	}
	if err := taken.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// A live holder is no silent one.
	_ = client.CoordinationV1().Leases(cluster.ExistingNamespace).Delete(ctx, LeaseName, metav1.DeleteOptions{})
	h, err := TakeLease(ctx, client, "alive")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckFree(ctx, client, func(string) {}); !errors.Is(err, ErrHeld) {
		t.Errorf("CheckFree of a live holder: %v", err)
	}
	// Released: the Lease is gone.
	if err := h.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{}); err == nil {
		t.Error("the Lease is left after Release")
	}
}

// A holder that cannot renew its Lease (the API server gone, a laptop
// asleep) gives it up before another could take it over.
func TestHoldLostWhenRenewalsFail(t *testing.T) {
	renewEvery = 50 * time.Millisecond
	defer func() { renewEvery = LeaseDuration / 5 }()
	ctx := context.Background()
	client := fake.NewClientset()
	var down atomic.Bool // the API server gone, from now on
	client.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if !down.Load() {
			return false, nil, nil
		}
		return true, nil, errors.New("connection refused")
	})
	h, err := TakeLease(ctx, client, "me")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release(ctx)
	down.Store(true)
	start := time.Now()
	select {
	case <-h.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("never lost")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("lost after %s, want within 2 renewals", took)
	}
	if !strings.Contains(h.Why(), "could not be renewed") || !strings.Contains(h.Why(), "connection refused") {
		t.Errorf("why %q", h.Why())
	}
	// And lets no write through from then on.
	f := &fence{next: &countingRT{}}
	f.hold.Store(h)
	req, _ := http.NewRequest(http.MethodPut, "https://api.example/api/v1/namespaces/gameday/configmaps/gameday-journal", nil)
	if _, err := f.RoundTrip(req); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("a journal record written with the Lease lost: %v", err)
	}
}

// A renewal that hangs (the API server stalls) does not hold the loss
// back: the Lease is given up 2 renewals after the last one taken.
func TestHoldLostWhileARenewalHangs(t *testing.T) {
	renewEvery = 50 * time.Millisecond
	defer func() { renewEvery = LeaseDuration / 5 }()
	ctx := context.Background()
	client := fake.NewClientset()
	var stall atomic.Bool
	release := make(chan struct{})
	defer close(release)
	client.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if stall.Load() {
			<-release
			return true, nil, errors.New("too late")
		}
		return false, nil, nil
	})
	h, err := TakeLease(ctx, client, "me")
	if err != nil {
		t.Fatal(err)
	}
	defer h.cancel()
	if err := h.Check(); err != nil {
		t.Fatalf("the Lease just taken: %v", err)
	}
	stall.Store(true)
	start := time.Now()
	select {
	case <-h.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("never lost while a renewal hung")
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("lost after %s, want within 2 renewals (100ms)", took)
	}
}

func TestMirror(t *testing.T) {
	ctx := context.Background()
	m := Mirror{Client: fake.NewClientset()}
	if got, err := m.Read(ctx); err != nil || got != "" {
		t.Fatalf("empty: %q, %v", got, err)
	}
	for _, line := range []string{`{"a":1}`, `{"b":2}`} {
		if err := m.Append(ctx, []byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.PutRecord(ctx, []byte(`{"name":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Read(ctx); got != "{\"a\":1}\n{\"b\":2}\n" {
		t.Errorf("journal %q", got)
	}
	if got, _ := m.Record(ctx); got != `{"name":"x"}` {
		t.Errorf("record %q", got)
	}
	if err := m.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Read(ctx); got != "" {
		t.Errorf("after Remove: %q", got)
	}
}

// A holder that stops renewing (killed) is waited out, by this machine's
// clock alone: renewed a moment ago, or "in an hour" by a skewed clock,
// it is taken over once it has not renewed for the Lease's duration. One
// that renews is refused.
func TestTakeLeaseAfterDead(t *testing.T) {
	renewEvery = 100 * time.Millisecond
	defer func() { renewEvery = LeaseDuration / 5 }()
	for _, c := range []struct {
		name    string
		renewed time.Time
	}{{"killed a moment ago", time.Now()}, {"a clock an hour ahead", time.Now().Add(time.Hour)}, {"long dead", time.Now().Add(-time.Hour)}} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			who := "dead pid 9"
			secs := int32(2)
			at := metav1.NewMicroTime(c.renewed)
			client := fake.NewClientset(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: LeaseName, Namespace: cluster.ExistingNamespace},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: &who, LeaseDurationSeconds: &secs, RenewTime: &at}})
			var said []string
			start := time.Now()
			h, err := TakeLeaseAfterDead(ctx, client, "me", func(s string) { said = append(said, s) }, nil)
			took := time.Since(start)
			if err != nil || took > 5*time.Second {
				t.Fatalf("%v after %s, said %q", err, took, said)
			}
			if took < 2*time.Second || len(said) != 2 || !strings.Contains(said[1], "is taken over") {
				t.Errorf("taken after %s (want the Lease's 2s without a renewal), said %q", took, said)
			}
			l, _ := client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
			if Holder(l) != "me" {
				t.Errorf("holder %q", Holder(l))
			}
			// Now alive and renewing: refused, within two renewals.
			start = time.Now()
			if _, err := TakeLeaseAfterDead(ctx, client, "other", func(string) {}, nil); !errors.Is(err, ErrHeld) || time.Since(start) > time.Second {
				t.Errorf("a live holder: %v after %s", err, time.Since(start))
			}
			_ = h.Release(ctx)
		})
	}
}

// One failed renewal (an API server's blip) is tried again at once, and
// the Lease kept.
func TestHoldSurvivesOneFailedRenewal(t *testing.T) {
	renewEvery = 60 * time.Millisecond
	defer func() { renewEvery = LeaseDuration / 5 }()
	ctx := context.Background()
	client := fake.NewClientset()
	var fail atomic.Int32
	client.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if fail.Add(-1) >= 0 {
			return true, nil, errors.New("503 service unavailable")
		}
		return false, nil, nil
	})
	h, err := TakeLease(ctx, client, "me")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release(ctx)
	fail.Store(1)
	select {
	case <-h.Lost():
		t.Fatalf("lost after one failed renewal: %s", h.Why())
	case <-time.After(5 * giveUp()):
	}
	if err := h.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}
