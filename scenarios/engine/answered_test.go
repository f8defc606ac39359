package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// A call the API server refuses while it warms up (403 to the admin, 503)
// is made again until it is answered; any other failure ends it at once.
func TestUntilAnswered(t *testing.T) {
	gr := schema.GroupResource{Resource: "roles"}
	calls := 0
	err := untilAnswered(context.Background(), func(context.Context) error {
		calls++
		switch calls {
		case 1:
			return apierrors.NewForbidden(gr, "", errors.New("RBAC: not synced"))
		case 2:
			return apierrors.NewServiceUnavailable("starting")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("%v after %d calls, want success on the 3rd", err, calls)
	}
	calls = 0
	bad := apierrors.NewBadRequest("no")
	if err := untilAnswered(context.Background(), func(context.Context) error { calls++; return bad }); !errors.Is(err, bad) || calls != 1 {
		t.Errorf("%v after %d calls, want the bad request at once", err, calls)
	}
	answerWait = 1500 * time.Millisecond
	defer func() { answerWait = 2 * time.Minute }()
	err = untilAnswered(context.Background(), func(context.Context) error { return apierrors.NewForbidden(gr, "", errors.New("forever")) })
	if !apierrors.IsForbidden(err) {
		t.Errorf("a lasting 403: %v, want it returned once answerWait has passed", err)
	}
}
