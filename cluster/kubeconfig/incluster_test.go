package kubeconfig

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"gameday.dev/gameday/cluster"
)

func TestLeaseHeldStoppedReleased(t *testing.T) {
	renewEvery = 20 * time.Millisecond
	defer func() { renewEvery = LeaseDuration / 3 }()
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
	if err := WaitReleased(ctx, client, time.Second); err != nil {
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

// A holder killed with -9 renews no more: once its Lease has expired the
// cluster is free.
func TestExpiredLeaseIsFree(t *testing.T) {
	ctx := context.Background()
	who := "dead pid 9"
	secs := int32(15)
	long := metav1.NewMicroTime(time.Now().Add(-time.Minute))
	client := fake.NewClientset(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: LeaseName, Namespace: cluster.ExistingNamespace},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &who, LeaseDurationSeconds: &secs, RenewTime: &long}})
	if holder, err := RequestStop(ctx, client); err != nil || holder != "" {
		t.Errorf("stop of an expired holder: %q, %v", holder, err)
	}
	h, err := TakeLease(ctx, client, "me")
	if err != nil {
		t.Fatal(err)
	}
	_ = h.Release(ctx)
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

// A holder that stopped renewing (killed) is waited out; one that renews is not.
func TestTakeLeaseAfterDead(t *testing.T) {
	ctx := context.Background()
	who := "dead pid 9"
	secs := int32(3)
	stale := metav1.NewMicroTime(time.Now().Add(-2 * time.Second))
	client := fake.NewClientset(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: LeaseName, Namespace: cluster.ExistingNamespace},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &who, LeaseDurationSeconds: &secs, RenewTime: &stale}})
	renewEvery = 100 * time.Millisecond
	defer func() { renewEvery = LeaseDuration / 3 }()
	var said []string
	start := time.Now()
	h, err := TakeLeaseAfterDead(ctx, client, "me", func(s string) { said = append(said, s) })
	if err != nil || len(said) != 1 || time.Since(start) > 5*time.Second {
		t.Fatalf("%v after %s, said %q", err, time.Since(start), said)
	}
	// Now alive and renewing: refused at once.
	if _, err := TakeLeaseAfterDead(ctx, client, "other", func(string) {}); !errors.Is(err, ErrHeld) {
		t.Errorf("a live holder: %v", err)
	}
	_ = h.Release(ctx)
}
