package websub_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/store"
	"github.com/wiredesk/wiredesk/websub"
)

// hub records the subscription requests it gets, in order.
type hub struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []url.Values
}

func newHub(t *testing.T) *hub {
	h := &hub{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.reqs = append(h.reqs, r.PostForm)
		h.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.Close)
	return h
}

// take returns the requests received since the last take.
func (h *hub) take() []url.Values {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.reqs
	h.reqs = nil
	return out
}

type ingested struct {
	mu     sync.Mutex
	bodies []string
}

func (in *ingested) Ingest(_ context.Context, source string, body []byte, _ string) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.bodies = append(in.bodies, source+": "+string(body))
	return nil
}

func (in *ingested) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.bodies)
}

// lifecycle is a subscriber on a real store whose callbacks are served
// on loopback, with a clock the test moves.
type lifecycle struct {
	t    *testing.T
	sub  *websub.Subscriber
	db   *store.DB
	in   *ingested
	now  time.Time
	base string
}

func newLifecycle(t *testing.T) *lifecycle {
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "wiredesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l := &lifecycle{t: t, db: db, in: &ingested{}, now: time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	l.base = srv.URL
	l.sub = websub.NewSubscriber(srv.URL, db, l.in)
	l.sub.Now = func() time.Time { return l.now }
	l.sub.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	mux.Handle(websub.CallbackPath, l.sub)
	return l
}

// verify answers a verification of intent the way a hub sends it and
// reports whether the subscriber echoed the challenge.
func (l *lifecycle) verify(req url.Values, mode string) bool {
	l.t.Helper()
	q := url.Values{"hub.mode": {mode}, "hub.topic": {req.Get("hub.topic")}, "hub.challenge": {"c-" + mode}}
	if mode == "subscribe" {
		q.Set("hub.lease_seconds", "86400")
	}
	resp, err := http.Get(req.Get("hub.callback") + "?" + q.Encode())
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && string(body) == "c-"+mode
}

// deliver posts a correctly signed delivery to the callback and returns
// the status it was answered with.
func (l *lifecycle) deliver(req url.Values, body string) int {
	l.t.Helper()
	mac := hmac.New(sha256.New, []byte(req.Get("hub.secret")))
	mac.Write([]byte(body))
	r, _ := http.NewRequest(http.MethodPost, req.Get("hub.callback"), strings.NewReader(body))
	r.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		l.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (l *lifecycle) states() map[string]string {
	l.t.Helper()
	subs, err := l.db.Subscriptions(l.t.Context())
	if err != nil {
		l.t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range subs {
		out[s.Source+" "+s.Hub] = s.State
	}
	return out
}

// one asserts that exactly one request reached the hub, in mode.
func one(t *testing.T, reqs []url.Values, mode string) url.Values {
	t.Helper()
	if len(reqs) != 1 || reqs[0].Get("hub.mode") != mode {
		t.Fatalf("hub got %v, want one %s request", reqs, mode)
	}
	return reqs[0]
}

// TestSubscriptionLifecycle: a subscription ends when its source leaves
// the config, when its feed moves to another hub, and when its feed stops
// advertising one; the hub is asked to unsubscribe (with the callback it
// knows), its confirmation is echoed, and from then on deliveries are
// dropped and nothing is renewed. Verifications nobody asked for are
// refused.
func TestSubscriptionLifecycle(t *testing.T) {
	ctx := t.Context()
	l := newLifecycle(t)
	h1, h2 := newHub(t), newHub(t)
	configured := map[string]bool{"a": true, "b": true, "c": true}
	isConfigured := func(s string) bool { return configured[s] }

	subscribe := func(source string, h *hub) url.Values {
		t.Helper()
		if err := l.sub.Observe(ctx, source, h.URL, "https://pub.example/"+source); err != nil {
			t.Fatal(err)
		}
		req := one(t, h.take(), "subscribe")
		if !l.verify(req, "subscribe") {
			t.Fatalf("%s: subscription not confirmed", source)
		}
		return req
	}
	a, b := subscribe("a", h1), subscribe("b", h1)
	subscribe("c", h1)

	// a leaves the config.
	delete(configured, "a")
	if err := l.sub.Retire(ctx, isConfigured); err != nil {
		t.Fatal(err)
	}
	unsubA := one(t, h1.take(), "unsubscribe")
	if unsubA.Get("hub.callback") != a.Get("hub.callback") || unsubA.Get("hub.topic") != a.Get("hub.topic") {
		t.Errorf("unsubscribe %v, want a's callback and topic", unsubA)
	}
	if l.verify(a, "subscribe") {
		t.Error("a re-subscription nobody asked for was confirmed")
	}
	if code := l.deliver(a, "late for a"); code != http.StatusAccepted {
		t.Errorf("delivery while unsubscribing answered %d, want 202 (dropped)", code)
	}
	if !l.verify(a, "unsubscribe") || !l.verify(a, "unsubscribe") {
		t.Error("a's unsubscription was not confirmed, or not twice (a hub asked again may verify again)")
	}
	if l.verify(b, "unsubscribe") {
		t.Error("an unsubscription nobody asked for (b) was confirmed")
	}

	// b's feed moves to another hub: the old subscription ends, a new
	// one starts.
	if err := l.sub.Observe(ctx, "b", h2.URL, "https://pub.example/b"); err != nil {
		t.Fatal(err)
	}
	one(t, h1.take(), "unsubscribe")
	b2 := one(t, h2.take(), "subscribe")
	if b2.Get("hub.callback") == b.Get("hub.callback") {
		t.Error("the new hub got the old hub's callback")
	}
	if !l.verify(b, "unsubscribe") || !l.verify(b2, "subscribe") {
		t.Error("b's move was not confirmed")
	}

	// c's feed no longer advertises a hub.
	if err := l.sub.Observe(ctx, "c", "", "https://pub.example/c"); err != nil {
		t.Fatal(err)
	}
	one(t, h1.take(), "unsubscribe")

	// §7: 410 Gone tells the old hub the subscription is deleted.
	if code := l.deliver(b, "old hub, b"); code != http.StatusGone {
		t.Errorf("delivery to an ended subscription answered %d, want 410", code)
	}
	if code := l.deliver(b2, "new hub, b"); code != http.StatusAccepted {
		t.Errorf("delivery to the live subscription answered %d, want 202", code)
	}
	if got := l.in.count(); got != 1 {
		t.Errorf("%d deliveries ingested, want only the one through b's live subscription: %v", got, l.in.bodies)
	}
	want := map[string]string{
		"a " + h1.URL: wiredesk.SubEnded, "b " + h1.URL: wiredesk.SubEnded, "b " + h2.URL: wiredesk.SubActive,
		"c " + h1.URL: wiredesk.SubUnsubscribing,
	}
	for k, v := range want {
		if got := l.states()[k]; got != v {
			t.Errorf("subscription %s is %q, want %q", k, got, v)
		}
	}

	// Near the end of the leases only the live subscription is renewed;
	// c's unconfirmed unsubscription is asked again, and once its lease
	// has run out it is ended without asking.
	l.now = l.now.Add(23 * time.Hour)
	if err := l.sub.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	one(t, h2.take(), "subscribe")
	if reqs := h1.take(); len(reqs) != 0 {
		t.Errorf("renewal asked the old hub: %v", reqs)
	}
	if err := l.sub.Retire(ctx, isConfigured); err != nil {
		t.Fatal(err)
	}
	one(t, h1.take(), "unsubscribe")
	l.now = l.now.Add(2 * time.Hour)
	if err := l.sub.Retire(ctx, isConfigured); err != nil {
		t.Fatal(err)
	}
	if reqs := h1.take(); len(reqs) != 0 {
		t.Errorf("an unsubscription whose lease ran out was asked again: %v", reqs)
	}
	if got := l.states()["c "+h1.URL]; got != wiredesk.SubEnded {
		t.Errorf("c after its lease: %q, want ended", got)
	}

	// a comes back to the config with the same hub: subscribed again.
	configured["a"] = true
	if err := l.sub.Observe(ctx, "a", h1.URL, "https://pub.example/a"); err != nil {
		t.Fatal(err)
	}
	if again := one(t, h1.take(), "subscribe"); !l.verify(again, "subscribe") {
		t.Error("a's new subscription was not confirmed")
	}
}

// TestNextRenewal: the daemon wakes for a renewal when NextRenewal says,
// so it must name the moment Renew starts asking, for the soonest lease.
func TestNextRenewal(t *testing.T) {
	ctx := t.Context()
	l := newLifecycle(t)
	h := newHub(t)
	if next, err := l.sub.NextRenewal(ctx); err != nil || !next.IsZero() {
		t.Fatalf("no subscriptions: next renewal %v, %v; want none", next, err)
	}
	start := l.now
	for _, src := range []string{"a", "b"} {
		if err := l.sub.Observe(ctx, src, h.URL, "https://pub.example/"+src); err != nil {
			t.Fatal(err)
		}
	}
	reqs := h.take()
	l.verify(reqs[0], "subscribe") // a: a day's lease (see verify)
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {reqs[1].Get("hub.topic")}, "hub.challenge": {"x"}, "hub.lease_seconds": {"10"}}
	resp, err := http.Get(reqs[1].Get("hub.callback") + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	next, err := l.sub.NextRenewal(ctx)
	if want := start.Add(8 * time.Second); err != nil || !next.Equal(want) {
		t.Fatalf("next renewal %v, %v; want b's, in the last fifth of its 10 s lease: %v", next, err, want)
	}
	l.now = next.Add(-time.Millisecond)
	if err := l.sub.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.take(); len(got) != 0 {
		t.Errorf("renewed before the next renewal: %v", got)
	}
	l.now = next
	if err := l.sub.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if got := one(t, h.take(), "subscribe"); got.Get("hub.topic") != "https://pub.example/b" {
		t.Errorf("renewed %v, want b", got)
	}

	// The hub never verifies the renewal and b's lease runs out: it is
	// asked again once a minute, not in a loop.
	l.now = start.Add(time.Hour)
	for range 3 {
		if err := l.sub.Renew(ctx); err != nil {
			t.Fatal(err)
		}
	}
	one(t, h.take(), "subscribe")
	if next, err := l.sub.NextRenewal(ctx); err != nil || next.Before(l.now.Add(time.Minute)) {
		t.Errorf("after asking for a lapsed lease, next renewal %v, %v; want a minute on, %v", next, err, l.now.Add(time.Minute))
	}
}

// TestRetireUnverified: a subscription the hub never verified has no
// lease; unsubscribed, it stays unsubscribing for an hour, so a hub that
// verifies the unsubscription then is answered, and only then ends.
func TestRetireUnverified(t *testing.T) {
	ctx := t.Context()
	l := newLifecycle(t)
	h := newHub(t)
	if err := l.sub.Observe(ctx, "p", h.URL, "https://pub.example/p"); err != nil {
		t.Fatal(err)
	}
	req := one(t, h.take(), "subscribe")
	gone := func(string) bool { return false }
	if err := l.sub.Retire(ctx, gone); err != nil {
		t.Fatal(err)
	}
	one(t, h.take(), "unsubscribe")
	l.now = l.now.Add(time.Minute)
	if err := l.sub.Retire(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if got := l.states()["p "+h.URL]; got != wiredesk.SubUnsubscribing {
		t.Errorf("a minute after unsubscribing: %q, want unsubscribing", got)
	}
	l.now = l.now.Add(time.Hour)
	if err := l.sub.Retire(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if got := l.states()["p "+h.URL]; got != wiredesk.SubEnded {
		t.Errorf("an hour later: %q, want ended", got)
	}
	if !l.verify(req, "unsubscribe") {
		t.Error("a late verification of the unsubscription was refused")
	}
	if l.verify(req, "subscribe") {
		t.Error("a verification of the ended subscription was confirmed")
	}
}
