package kubeconfig

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"gameday.dev/gameday/cluster"
)

// What gameday keeps in the cluster it did not create, in its namespace
// (cluster.ExistingNamespace): the journal of a run's changes, so that
// `gameday recover --context` works from any machine, and a Lease, the
// lock that keeps two runs (from two machines) off the same cluster.
const (
	JournalConfigMap = "gameday-journal"
	journalKey       = "journal.jsonl"
	recordKey        = "cluster.json"
	LeaseName        = "gameday"
	// StopAnno on the Lease asks its holder to stop (gameday stop).
	StopAnno = "gameday.dev/stop-requested"
)

var managed = map[string]string{"app.kubernetes.io/managed-by": "gameday"}

// Mirror keeps a copy of a run's journal in the cluster.
type Mirror struct {
	Client kubernetes.Interface
}

// PutRecord keeps what gameday knows of the cluster for the run (its
// record: the topology it set up) beside the journal's copy.
func (m Mirror) PutRecord(ctx context.Context, data []byte) error {
	return m.set(ctx, recordKey, string(data))
}

// Record is the record PutRecord kept ("" where there is none).
func (m Mirror) Record(ctx context.Context) (string, error) {
	cm, err := m.Client.CoreV1().ConfigMaps(cluster.ExistingNamespace).Get(ctx, JournalConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return cm.Data[recordKey], nil
}

// Append adds a record's line (JSON, no newline) to the journal's copy.
func (m Mirror) Append(ctx context.Context, line []byte) error {
	return m.update(ctx, func(data map[string]string) { data[journalKey] += string(line) + "\n" })
}

func (m Mirror) set(ctx context.Context, key, value string) error {
	return m.update(ctx, func(data map[string]string) { data[key] = value })
}

// update changes the journal ConfigMap's data, making it where there is none.
func (m Mirror) update(ctx context.Context, change func(map[string]string)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := m.Client.CoreV1().ConfigMaps(cluster.ExistingNamespace).Get(ctx, JournalConfigMap, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: JournalConfigMap, Namespace: cluster.ExistingNamespace, Labels: managed},
				Data: map[string]string{}}
			change(cm.Data)
			_, err = m.Client.CoreV1().ConfigMaps(cluster.ExistingNamespace).Create(ctx, cm, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				return apierrors.NewConflict(corev1.Resource("configmaps"), JournalConfigMap, err) // retried
			}
			return err
		}
		if err != nil {
			return err
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		change(cm.Data)
		_, err = m.Client.CoreV1().ConfigMaps(cluster.ExistingNamespace).Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
}

// Read returns the journal's copy ("" and no error where there is none).
func (m Mirror) Read(ctx context.Context) (string, error) {
	cm, err := m.Client.CoreV1().ConfigMaps(cluster.ExistingNamespace).Get(ctx, JournalConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("the journal kept in the cluster (%s/%s): %w", cluster.ExistingNamespace, JournalConfigMap, err)
	}
	return cm.Data[journalKey], nil
}

// Remove deletes the journal's copy: everything in it was put back.
func (m Mirror) Remove(ctx context.Context) error {
	err := m.Client.CoreV1().ConfigMaps(cluster.ExistingNamespace).Delete(ctx, JournalConfigMap, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// ErrHeld: another gameday holds the cluster's Lease.
var ErrHeld = errors.New("the cluster is in use by another gameday")

// Hold is the cluster's Lease, held by this process until Release: renewed
// every third of its duration; Stop is closed when someone asks the holder
// to stop (gameday stop).
type Hold struct {
	client   kubernetes.Interface
	identity string
	cancel   context.CancelFunc
	done     chan struct{}
	stop     chan struct{}
	once     sync.Once
	lost     chan struct{}
}

// LeaseDuration is how long a Lease nobody renews holds: a run killed with
// -9 frees the cluster this long after.
const LeaseDuration = 15 * time.Second

// renewEvery is how often a held Lease is renewed (and a stop looked for).
var renewEvery = LeaseDuration / 3

// Identity names this process in the Lease: host, pid and command.
func Identity(command string) string {
	host, _ := os.Hostname()
	nonce := make([]byte, 3)
	_, _ = rand.Read(nonce)
	return fmt.Sprintf("%s pid %d (%x): %s", host, os.Getpid(), nonce, command)
}

// TakeLease takes the cluster's Lease for identity, or says who holds it
// (ErrHeld): a Lease renewed within its duration is held.
func TakeLease(ctx context.Context, client kubernetes.Interface, identity string) (*Hold, error) {
	now := metav1.NewMicroTime(time.Now())
	secs := int32(LeaseDuration.Seconds())
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		l, err := client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: LeaseName, Namespace: cluster.ExistingNamespace, Labels: managed},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: &identity, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}}
			_, err = client.CoordinationV1().Leases(cluster.ExistingNamespace).Create(ctx, l, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				return apierrors.NewConflict(coordinationv1.Resource("leases"), LeaseName, err)
			}
			return err
		}
		if err != nil {
			return err
		}
		if h := Holder(l); h != "" {
			return fmt.Errorf("%w: %s (renewed %s ago): wait for it to finish, or stop it (`gameday stop` with the same --context, from any machine)",
				ErrHeld, h, time.Since(l.Spec.RenewTime.Time).Round(time.Second))
		}
		l.Spec = coordinationv1.LeaseSpec{HolderIdentity: &identity, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}
		delete(l.Annotations, StopAnno)
		_, err = client.CoordinationV1().Leases(cluster.ExistingNamespace).Update(ctx, l, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return nil, err
	}
	return newHold(ctx, client, identity), nil
}

// TakeLeaseAfterDead is TakeLease that, when the Lease is held, watches
// its holder: one that renews it meanwhile is alive (ErrHeld, at most
// 2 renewals' time later); one that does not renew it for the Lease's
// whole duration, by this machine's clock (a process killed with -9, a
// machine gone), is dead, and the Lease is taken over, saying so. Only
// this machine's clock is read, never compared with the one that wrote
// the renewal time, so skewed clocks neither steal a live holder's Lease
// nor wait on a dead one's forever.
func TakeLeaseAfterDead(ctx context.Context, client kubernetes.Interface, identity string, say func(string)) (*Hold, error) {
	var seen *coordinationv1.Lease // the Lease as first seen held
	var since time.Time            // when, by this machine's clock
	said := false
	for {
		h, err := TakeLease(ctx, client, identity)
		if !errors.Is(err, ErrHeld) {
			return h, err
		}
		l, gerr := client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
		if gerr != nil {
			return nil, err
		}
		switch {
		case seen == nil:
			seen, since = l, time.Now()
		case renewed(seen, l):
			return nil, err // renewed while watched: alive
		}
		quiet := time.Since(since)
		if quiet >= 2*renewEvery+time.Second && !said {
			say(fmt.Sprintf("The cluster's Lease is held by %s, which has not renewed it for %s: waiting until it has not for %s, then taking it over",
				Holder(l), quiet.Round(time.Second), leaseDuration(l)))
			said = true
		}
		if quiet >= leaseDuration(l) {
			h, err := takeOver(ctx, client, identity, l)
			if apierrors.IsConflict(err) {
				seen = nil // changed meanwhile: watch again
				continue
			}
			return h, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(time.Second, renewEvery)):
		}
	}
}

// renewed reports whether the Lease was renewed (or changed hands) since seen.
func renewed(seen, now *coordinationv1.Lease) bool {
	if ptr.Deref(seen.Spec.HolderIdentity, "") != ptr.Deref(now.Spec.HolderIdentity, "") {
		return true
	}
	a, b := seen.Spec.RenewTime, now.Spec.RenewTime
	return (a == nil) != (b == nil) || (a != nil && !a.Equal(b))
}

func leaseDuration(l *coordinationv1.Lease) time.Duration {
	if l.Spec.LeaseDurationSeconds != nil && *l.Spec.LeaseDurationSeconds > 0 {
		return time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	return LeaseDuration
}

// takeOver takes the Lease l (as read) for identity: a conflict when it
// changed since it was read.
func takeOver(ctx context.Context, client kubernetes.Interface, identity string, l *coordinationv1.Lease) (*Hold, error) {
	now := metav1.NewMicroTime(time.Now())
	secs := int32(LeaseDuration.Seconds())
	l = l.DeepCopy()
	l.Spec = coordinationv1.LeaseSpec{HolderIdentity: &identity, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}
	delete(l.Annotations, StopAnno)
	if _, err := client.CoordinationV1().Leases(cluster.ExistingNamespace).Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		return nil, err
	}
	return newHold(ctx, client, identity), nil
}

func newHold(ctx context.Context, client kubernetes.Interface, identity string) *Hold {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h := &Hold{client: client, identity: identity, cancel: cancel, done: make(chan struct{}), stop: make(chan struct{}), lost: make(chan struct{})}
	go h.renew(rctx)
	return h
}

// CheckFree says whether the cluster's Lease is free, without taking it:
// ErrHeld, naming the holder, when it is not.
func CheckFree(ctx context.Context, client kubernetes.Interface) error {
	l, err := client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if h := Holder(l); h != "" {
		return fmt.Errorf("%w: %s (renewed %s ago): wait for it to finish, or stop it (`gameday stop` with the same --context, from any machine)",
			ErrHeld, h, time.Since(l.Spec.RenewTime.Time).Round(time.Second))
	}
	return nil
}

// Holder is who holds a Lease now, or "" (none, or expired).
func Holder(l *coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" || l.Spec.RenewTime == nil {
		return ""
	}
	d := LeaseDuration
	if l.Spec.LeaseDurationSeconds != nil {
		d = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	if time.Since(l.Spec.RenewTime.Time) > d {
		return ""
	}
	return *l.Spec.HolderIdentity
}

func (h *Hold) renew(ctx context.Context) {
	defer close(h.done)
	t := time.NewTicker(renewEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var taken bool
		_ = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			l, err := h.client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != h.identity {
				taken = true // another gameday took it (this one was cut off longer than its duration)
				return nil
			}
			if l.Annotations[StopAnno] != "" {
				h.once.Do(func() { close(h.stop) })
			}
			now := metav1.NewMicroTime(time.Now())
			l.Spec.RenewTime = &now
			_, err = h.client.CoordinationV1().Leases(cluster.ExistingNamespace).Update(ctx, l, metav1.UpdateOptions{})
			return err
		})
		if taken {
			close(h.lost)
			return
		}
	}
}

// Lost is closed when another gameday took the Lease: this one must stop.
func (h *Hold) Lost() <-chan struct{} { return h.lost }

// Stop is closed when someone asks the holder to stop.
func (h *Hold) Stop() <-chan struct{} { return h.stop }

// Release stops renewing and frees the Lease.
func (h *Hold) Release(ctx context.Context) error {
	h.cancel()
	<-h.done
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		l, err := h.client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != h.identity {
			return nil
		}
		empty := ""
		l.Spec.HolderIdentity = &empty
		delete(l.Annotations, StopAnno)
		_, err = h.client.CoordinationV1().Leases(cluster.ExistingNamespace).Update(ctx, l, metav1.UpdateOptions{})
		return err
	})
}

// RequestStop asks the Lease's holder to stop, and returns who holds it
// ("" when nobody does: there is nothing to stop).
func RequestStop(ctx context.Context, client kubernetes.Interface) (string, error) {
	var holder string
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		l, err := client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			holder = ""
			return nil
		}
		if err != nil {
			return err
		}
		if holder = Holder(l); holder == "" {
			return nil
		}
		if l.Annotations == nil {
			l.Annotations = map[string]string{}
		}
		l.Annotations[StopAnno] = time.Now().UTC().Format(time.RFC3339)
		_, err = client.CoordinationV1().Leases(cluster.ExistingNamespace).Update(ctx, l, metav1.UpdateOptions{})
		return err
	})
	return holder, err
}

// WaitReleased waits until nobody holds the Lease.
func WaitReleased(ctx context.Context, client kubernetes.Interface, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		l, err := client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && Holder(l) == "") {
			return nil
		}
		if time.Now().After(deadline) {
			h := ""
			if l != nil {
				h = Holder(l)
			}
			return fmt.Errorf("the run (%s) did not stop within %s", strings.TrimSpace(h), timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
