package kubeconfig

import (
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"k8s.io/client-go/rest"
)

// The probes' route through the API server: the service proxy's path,
// the context's credentials and CA, a new connection per request where
// asked and kept-alive ones otherwise.
func TestServiceProxyRoute(t *testing.T) {
	var conns atomic.Int32
	var gotPath, gotAuth atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath.Store(r.URL.EscapedPath())
		gotAuth.Store(r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	// A server behind a path prefix, as Rancher's proxy serves clusters.
	tg := &Target{Config: &rest.Config{Host: srv.URL + "/k8s/clusters/c-1", BearerToken: "s3cret", TLSClientConfig: rest.TLSClientConfig{CAData: ca}}}
	u, err := tg.ServiceProxyURL("gameday", "frontend", "http")
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range []bool{false, true} {
		rt, err := tg.Transport(keep)
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Transport: rt}
		before := conns.Load()
		for range 3 {
			resp, err := client.Get(u + "/items/1")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if p := gotPath.Load(); p != "/k8s/clusters/c-1/api/v1/namespaces/gameday/services/http:frontend:http/proxy/items/1" {
			t.Errorf("path %v", p)
		}
		if a := gotAuth.Load(); a != "Bearer s3cret" {
			t.Errorf("authorization %q", a)
		}
		want := int32(3)
		if keep {
			want = 1
		}
		if got := conns.Load() - before; got != want {
			t.Errorf("keepAlive %v: %d connections for 3 requests, want %d", keep, got, want)
		}
	}
}
