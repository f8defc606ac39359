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

// Mirror keeps a copy of a run's journal in the cluster. (Through a
// Target's client, armed with the Lease, it writes nothing once the Lease
// is lost: see fence.)
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
// to stop (gameday stop), Lost when this process may no longer count on
// holding it (another took it, or it could not renew it for long enough
// that another may have): it must then stop changing the cluster at once.
type Hold struct {
	client   kubernetes.Interface
	identity string
	cancel   context.CancelFunc
	done     chan struct{}
	stop     chan struct{}
	once     sync.Once
	lost     chan struct{}
	loseOnce sync.Once
	mu       sync.Mutex
	why      string    // why lost, set before lost is closed
	last     time.Time // the start of the last renewal the API server took
	lastBoot time.Duration
	lastErr  error // the last renewal's error, if it failed
	released bool  // by Release: nothing more is written, and nothing lost
}

// LeaseDuration is how long a Lease nobody renews holds: a run killed with
// -9 is taken over this long after another gameday starts watching it.
const LeaseDuration = 15 * time.Second

// renewEvery is how often a held Lease is renewed (and a stop looked
// for); a failed renewal is tried again within a second.
var renewEvery = LeaseDuration / 5

// giveUp is how long after the start of its last renewal the API server
// took a holder gives the Lease up (10 s): another gameday takes it over
// no sooner than LeaseDuration after the last renewal it saw, which is
// no earlier than that start.
func giveUp() time.Duration { return renewEvery * 10 / 3 }

// Identity names this process in the Lease: host, pid and its command's
// words up to the first flag (never a flag's value, which may be a secret).
func Identity(command string) string {
	host, _ := os.Hostname()
	nonce := make([]byte, 3)
	_, _ = rand.Read(nonce)
	var words []string
	for _, w := range strings.Fields(command) {
		if strings.HasPrefix(w, "-") || len(words) == 3 {
			break
		}
		words = append(words, w)
	}
	return fmt.Sprintf("%s pid %d (%x): %s", host, os.Getpid(), nonce, strings.Join(words, " "))
}

func heldError(h string) error {
	return fmt.Errorf("%w: %s: wait for it to finish, or stop it (`gameday stop` with the same --context, from any machine)", ErrHeld, h)
}

// TakeLease takes the cluster's Lease for identity, or says who holds it
// (ErrHeld). A Lease with a holder is held, however old its renewal time:
// that time was written by another machine's clock, never compared with
// this one's (TakeLeaseAfterDead watches a silent holder instead).
func TakeLease(ctx context.Context, client kubernetes.Interface, identity string) (*Hold, error) {
	start, startBoot := time.Now(), bootClock()
	now := metav1.NewMicroTime(start)
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
			return heldError(h)
		}
		l.Spec = coordinationv1.LeaseSpec{HolderIdentity: &identity, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}
		delete(l.Annotations, StopAnno)
		_, err = client.CoordinationV1().Leases(cluster.ExistingNamespace).Update(ctx, l, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return nil, err
	}
	return newHold(ctx, client, identity, start, startBoot), nil
}

// Silence watches a held Lease for renewals, by this machine's clock only;
// a watch begun by CheckFree or WaitReleased goes on in TakeLeaseAfterDead.
type Silence struct {
	seen  *coordinationv1.Lease // the Lease as first seen held
	since time.Time             // when, by this machine's clock
}

// observe takes the Lease as read now: whether its holder renewed it since
// the watch began (alive), and for how long it has been silent.
func (w *Silence) observe(l *coordinationv1.Lease) (alive bool, quiet time.Duration) {
	if w.seen == nil {
		w.seen, w.since = l, time.Now()
		return false, 0
	}
	if renewed(w.seen, l) {
		return true, 0
	}
	return false, time.Since(w.since)
}

// TakeLeaseAfterDead is TakeLease that, when the Lease is held, watches
// its holder: one that renews it meanwhile is alive (ErrHeld, at most
// a renewal's time later); one that does not renew it for the Lease's
// whole duration, by this machine's clock (a process killed with -9, a
// machine gone), is dead, and the Lease is taken over, saying so. Only
// this machine's clock is read, never compared with the one that wrote
// the renewal time, so skewed clocks neither steal a live holder's Lease
// nor wait on a dead one's forever.
//
// from, when not nil, is a watch of the Lease begun earlier (CheckFree,
// WaitReleased): it goes on from there.
func TakeLeaseAfterDead(ctx context.Context, client kubernetes.Interface, identity string, say func(string), from *Silence) (*Hold, error) {
	var w Silence
	if from != nil {
		w = *from
	}
	said := false
	for {
		h, err := TakeLease(ctx, client, identity)
		if !errors.Is(err, ErrHeld) {
			return h, err
		}
		l, gerr := client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(gerr) {
			continue // released and deleted meanwhile
		}
		if gerr != nil {
			return nil, gerr
		}
		alive, quiet := w.observe(l)
		if alive {
			return nil, err
		}
		if quiet >= leaseDuration(l) {
			h, err := takeOver(ctx, client, identity, l)
			if apierrors.IsConflict(err) {
				continue // changed meanwhile: renewed (alive), or only annotated (still silent)
			}
			if err == nil {
				say(fmt.Sprintf("The cluster's Lease, held by %s, which had not renewed it for %s, is taken over", Holder(l), quiet.Round(time.Second)))
			}
			return h, err
		}
		if quiet >= 2*renewEvery+time.Second && !said {
			say(fmt.Sprintf("The cluster's Lease is held by %s, which has not renewed it for %s: waiting until it has not for %s, then taking it over",
				Holder(l), quiet.Round(time.Second), leaseDuration(l)))
			said = true
		}
		if err := sleep(ctx, min(time.Second, renewEvery)); err != nil {
			return nil, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
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
	start, startBoot := time.Now(), bootClock()
	now := metav1.NewMicroTime(start)
	secs := int32(LeaseDuration.Seconds())
	l = l.DeepCopy()
	l.Spec = coordinationv1.LeaseSpec{HolderIdentity: &identity, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}
	delete(l.Annotations, StopAnno)
	if _, err := client.CoordinationV1().Leases(cluster.ExistingNamespace).Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		return nil, err
	}
	return newHold(ctx, client, identity, start, startBoot), nil
}

// newHold holds the Lease taken by a write begun at start.
func newHold(ctx context.Context, client kubernetes.Interface, identity string, start time.Time, startBoot time.Duration) *Hold {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h := &Hold{client: client, identity: identity, cancel: cancel, done: make(chan struct{}), stop: make(chan struct{}), lost: make(chan struct{}),
		last: start, lastBoot: startBoot}
	go h.renew(rctx)
	return h
}

// CheckFree says whether the cluster's Lease is free, without taking it:
// ErrHeld, naming the holder, when a holder renews it; a silent holder is
// watched for the Lease's duration first (then it is dead, and the Lease
// free to take over).
func CheckFree(ctx context.Context, client kubernetes.Interface, say func(string)) (*Silence, error) {
	var w Silence
	said := false
	for {
		l, err := client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		h := Holder(l)
		if h == "" {
			return nil, nil
		}
		alive, quiet := w.observe(l)
		if alive {
			return nil, heldError(h)
		}
		if quiet >= 2*renewEvery+time.Second && !said {
			say(fmt.Sprintf("The cluster's Lease is held by %s, which has not renewed it for %s: watching it for %s",
				h, quiet.Round(time.Second), leaseDuration(l)))
			said = true
		}
		if quiet >= leaseDuration(l) {
			return &w, nil
		}
		if err := sleep(ctx, min(time.Second, renewEvery)); err != nil {
			return nil, err
		}
	}
}

// Holder is who holds a Lease ("": nobody).
func Holder(l *coordinationv1.Lease) string {
	return ptr.Deref(l.Spec.HolderIdentity, "")
}

func (h *Hold) renew(ctx context.Context) {
	defer close(h.done)
	next := time.NewTimer(renewEvery)
	defer next.Stop()
	// Given up giveUp after the start of the last renewal taken, whatever
	// request is in flight (checked every second, and by every write the
	// fence lets through): before another gameday could take it over.
	watchdog := time.NewTicker(min(time.Second, renewEvery))
	defer watchdog.Stop()
	type result struct {
		start     time.Time
		startBoot time.Duration
		taken     bool
		err       error
	}
	results := make(chan result, 1)
	cancelRenewal := func() {}
	defer func() { cancelRenewal() }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.lost: // given up by a Check
			return
		case <-watchdog.C:
			if h.Check() != nil {
				return
			}
		case r := <-results:
			switch {
			case r.taken:
				h.lose("another gameday holds the cluster's Lease now (it found this one silent for the Lease's duration, or the Lease was deleted)")
				return
			case r.err != nil:
				h.mu.Lock()
				h.lastErr = r.err
				h.mu.Unlock()
				next.Reset(min(time.Second, renewEvery))
			default:
				h.mu.Lock()
				h.last, h.lastBoot, h.lastErr = r.start, r.startBoot, nil
				h.mu.Unlock()
				next.Reset(renewEvery)
			}
		case <-next.C:
			// One renewal at a time: the next is set when its result comes.
			start, startBoot := time.Now(), bootClock()
			rctx, cancel := context.WithDeadline(ctx, h.deadline())
			cancelRenewal = cancel
			go func() {
				taken, err := h.renewOnce(rctx)
				results <- result{start: start, startBoot: startBoot, taken: taken, err: err}
			}()
		}
	}
}

// deadline is when this process gives the Lease up unless renewed before.
func (h *Hold) deadline() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last.Add(giveUp())
}

// renewOnce renews the Lease once: taken when another holds it, or it is gone.
func (h *Hold) renewOnce(ctx context.Context) (taken bool, err error) {
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		l, err := h.client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			taken = true // deleted: whoever made it again holds it
			return nil
		}
		if err != nil {
			return err
		}
		if Holder(l) != h.identity {
			taken = true
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
	return taken, err
}

// renewed notes a renewal the API server took, begun at start.
func (h *Hold) renewed(start time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = start
}

func (h *Hold) lose(why string) {
	h.loseOnce.Do(func() {
		h.mu.Lock()
		h.why = why
		h.mu.Unlock()
		close(h.lost)
	})
}

// ErrLeaseLost: this process may no longer count on the cluster's Lease.
var ErrLeaseLost = errors.New("the cluster's Lease is lost")

// Check says whether this process may still change the cluster: not once
// its Lease is lost, nor once the start of its last renewal taken is
// giveUp old, by the monotonic clock and by one that runs on while the
// machine sleeps (a laptop's lid closed); the latter loses the Lease.
func (h *Hold) Check() error {
	select {
	case <-h.lost:
		return fmt.Errorf("%w: %s", ErrLeaseLost, h.Why())
	default:
	}
	h.mu.Lock()
	since := max(time.Since(h.last), bootClock()-h.lastBoot)
	lastErr, released := h.lastErr, h.released
	h.mu.Unlock()
	if released {
		return fmt.Errorf("%w: released", ErrLeaseLost)
	}
	if since >= giveUp() {
		why := fmt.Sprintf("the cluster's Lease was last renewed %s ago", since.Round(100*time.Millisecond))
		if lastErr != nil {
			why = fmt.Sprintf("the cluster's Lease could not be renewed for %s (%v)", since.Round(100*time.Millisecond), lastErr)
		}
		h.lose(why + ": another gameday may take it over")
		return fmt.Errorf("%w: %s", ErrLeaseLost, h.Why())
	}
	return nil
}

// Lost is closed when this process may no longer count on the Lease
// (Why says why): it must stop changing the cluster at once, and leave
// putting it back to whoever holds it now (`gameday recover`).
func (h *Hold) Lost() <-chan struct{} { return h.lost }

// Why says why the Lease was lost, once Lost is closed.
func (h *Hold) Why() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.why
}

// Stop is closed when someone asks the holder to stop.
func (h *Hold) Stop() <-chan struct{} { return h.stop }

// Release stops renewing and deletes the Lease if this process still holds
// it (the UID and resourceVersion read as preconditions, so that a Lease
// another took meanwhile is never deleted).
func (h *Hold) Release(ctx context.Context) error {
	h.cancel()
	<-h.done
	h.mu.Lock()
	h.released = true
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 2*renewEvery)
	defer cancel()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		l, err := h.client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if Holder(l) != h.identity {
			return nil
		}
		err = h.client.CoordinationV1().Leases(cluster.ExistingNamespace).Delete(ctx, LeaseName,
			metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &l.UID, ResourceVersion: &l.ResourceVersion}})
		if apierrors.IsNotFound(err) {
			return nil
		}
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

// WaitReleased waits until nobody holds the Lease, or its holder has been
// silent for the Lease's duration (dead: ErrHolderDead, for the caller to
// take it over and recover).
func WaitReleased(ctx context.Context, client kubernetes.Interface, timeout time.Duration) (*Silence, error) {
	deadline := time.Now().Add(timeout)
	var w Silence
	for {
		l, err := client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && Holder(l) == "") {
			return nil, nil
		}
		if err == nil {
			if alive, quiet := w.observe(l); alive {
				w = Silence{}
			} else if quiet >= leaseDuration(l) {
				return &w, fmt.Errorf("%w: %s", ErrHolderDead, Holder(l))
			}
		}
		if time.Now().After(deadline) {
			h := ""
			if l != nil {
				h = Holder(l)
			}
			return nil, fmt.Errorf("the run (%s) did not stop within %s", strings.TrimSpace(h), timeout)
		}
		if err := sleep(ctx, time.Second); err != nil {
			return nil, err
		}
	}
}

// ErrHolderDead: the Lease's holder stopped renewing it without releasing it.
var ErrHolderDead = errors.New("the run holding the cluster's Lease stopped renewing it (killed?)")

var processStart = time.Now()

// fallbackClock is Go's monotonic clock since the process started.
func fallbackClock() time.Duration { return time.Since(processStart) }
