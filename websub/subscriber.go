package websub

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wiredesk/wiredesk"
)

// Store keeps subscriptions; *store.DB satisfies it.
type Store interface {
	SaveSubscription(ctx context.Context, s wiredesk.Subscription) error
	Subscription(ctx context.Context, id string) (wiredesk.Subscription, error)
	Subscriptions(ctx context.Context) ([]wiredesk.Subscription, error)
}

// Ingester stores content a hub delivered for a source.
type Ingester interface {
	Ingest(ctx context.Context, source string, body []byte, contentType string) error
}

// Subscriber subscribes to the hubs sources advertise and receives what
// they deliver. Its ServeHTTP answers the callbacks under CallbackPath.
type Subscriber struct {
	PublicURL string        // where hubs reach this server, no trailing slash
	Lease     time.Duration // lease asked of hubs
	MaxBody   int64         // largest delivery accepted
	Client    *http.Client
	Logger    *slog.Logger
	Now       func() time.Time

	store  Store
	ingest Ingester

	mu     sync.Mutex
	asking map[string]bool // source+hub subscriptions being requested

	// changing serialises update's read and save (never a request to a
	// hub, which may verify before it answers), so that Observe, Retire,
	// Renew and the hub's verifications, each in its own goroutine, change
	// a subscription only from the state they saw.
	changing sync.Mutex

	// OnVerified, when set, is called after a hub verified a
	// subscription, so that its renewal can be scheduled by its lease.
	OnVerified func()
}

// errMoved says a subscription was no longer in a state update expected.
var errMoved = errors.New("subscription changed meanwhile")

// update reads the subscription id again and, if its state is still one
// from accepts, applies change and saves it; otherwise it returns errMoved
// and saves nothing.
func (s *Subscriber) update(ctx context.Context, id string, from func(state string) bool, change func(*wiredesk.Subscription)) (wiredesk.Subscription, error) {
	s.changing.Lock()
	defer s.changing.Unlock()
	sub, err := s.store.Subscription(ctx, id)
	if err != nil {
		return sub, err
	}
	if !from(sub.State) {
		return sub, errMoved
	}
	change(&sub)
	return sub, s.store.SaveSubscription(ctx, sub)
}

// The states update moves subscriptions from.

// live: the hub delivers to it, or may once it verifies.
func live(state string) bool {
	return state == wiredesk.SubActive || state == wiredesk.SubPending
}

func unsubscribing(state string) bool { return state == wiredesk.SubUnsubscribing }

// askable: a subscription may be asked for (again) unless it is being
// ended; Retire decides that one first.
func askable(state string) bool { return state != wiredesk.SubUnsubscribing }

// unsubscribeAsked: an unsubscription was asked for, so a hub's
// verification of it, even a second or a late one, is answered.
func unsubscribeAsked(state string) bool {
	return state == wiredesk.SubUnsubscribing || state == wiredesk.SubEnded
}

// end marks a subscription ended now.
func (s *Subscriber) end(sub *wiredesk.Subscription) {
	sub.State, sub.Updated = wiredesk.SubEnded, s.Now().UTC()
}

// CallbackPath is the prefix of callback URLs: CallbackPath + id.
const CallbackPath = "/websub/"

// NewSubscriber returns a subscriber with the default settings.
func NewSubscriber(publicURL string, st Store, in Ingester) *Subscriber {
	return &Subscriber{
		PublicURL: strings.TrimSuffix(publicURL, "/"),
		Lease:     7 * 24 * time.Hour,
		MaxBody:   10 << 20,
		Client:    &http.Client{Timeout: 30 * time.Second},
		Logger:    slog.Default(),
		Now:       time.Now,
		store:     st,
		ingest:    in,
		asking:    map[string]bool{},
	}
}

// Observe is told, after each poll, which hub a source's feed advertises
// and under which topic URL ("" hub: none). It subscribes when there is no
// live or pending subscription to that hub and topic, and unsubscribes the
// source's subscriptions to any other hub or topic: the feed moved, and a
// hub it left would otherwise deliver, and be renewed, for ever.
func (s *Subscriber) Observe(ctx context.Context, source, hub, topic string) error {
	if hub != "" && topic == "" {
		return nil
	}
	key := source + "\x00" + hub + "\x00" + topic
	s.mu.Lock()
	if s.asking[key] {
		s.mu.Unlock()
		return nil
	}
	s.asking[key] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.asking, key)
		s.mu.Unlock()
	}()
	subs, err := s.store.Subscriptions(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, sub := range subs {
		if sub.Source == source && (sub.Hub != hub || sub.Topic != topic) && live(sub.State) {
			errs = append(errs, s.unsubscribe(ctx, sub, live))
		}
	}
	if hub != "" {
		errs = append(errs, s.subscribe(ctx, subs, source, hub, topic))
	}
	return errors.Join(errs...)
}

// subscribe asks for source's subscription to hub and topic, unless one
// is live or was asked for (or refused) recently.
func (s *Subscriber) subscribe(ctx context.Context, subs []wiredesk.Subscription, source, hub, topic string) error {
	now := s.Now()
	for _, sub := range subs {
		if sub.Source != source || sub.Hub != hub || sub.Topic != topic {
			continue
		}
		switch sub.State {
		case wiredesk.SubActive:
			if sub.LeaseExpires.After(now) {
				return nil
			}
		case wiredesk.SubPending:
			// A hub verifies within seconds or minutes; ask again
			// only if it has not answered for an hour.
			if now.Sub(sub.Updated) < time.Hour {
				return nil
			}
		case wiredesk.SubDenied:
			// Asked and refused: not again until a day has passed.
			if now.Sub(sub.Updated) < 24*time.Hour {
				return nil
			}
		}
		// Pending for an hour, denied a day ago, or ended (the source
		// came back): ask again, with the same callback and secret. One
		// still being unsubscribed is left alone (see request).
		return s.request(ctx, sub)
	}
	id, err := randomHex(16)
	if err != nil {
		return err
	}
	secret, err := randomHex(32)
	if err != nil {
		return err
	}
	return s.request(ctx, wiredesk.Subscription{ID: id, Source: source, Hub: hub, Topic: topic, Secret: secret})
}

// Retire unsubscribes every live subscription whose source is no longer
// configured, so that its hub stops delivering and it is not renewed. An
// unsubscription the hub has not confirmed within an hour is asked again
// while its lease runs, and ended once the lease has run out (or, for one
// never verified and so without a lease, after that hour).
func (s *Subscriber) Retire(ctx context.Context, configured func(source string) bool) error {
	subs, err := s.store.Subscriptions(ctx)
	if err != nil {
		return err
	}
	now := s.Now()
	var errs []error
	for _, sub := range subs {
		from := live
		switch {
		case live(sub.State) && !configured(sub.Source):
		case sub.State != wiredesk.SubUnsubscribing || now.Sub(sub.Updated) < time.Hour:
			continue
		case !sub.LeaseExpires.After(now):
			_, err := s.update(ctx, sub.ID, unsubscribing, s.end)
			if err != nil && !errors.Is(err, errMoved) {
				errs = append(errs, err)
			}
			continue
		default:
			from = unsubscribing // asked an hour ago: ask again
		}
		if err := s.unsubscribe(ctx, sub, from); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// unsubscribe records sub as unsubscribing, then asks the hub to stop
// (WebSub §5.1, hub.mode=unsubscribe); from then on its deliveries are
// dropped. The record comes first, as in request: the hub may verify
// before it answers.
//
// from accepts the state the caller saw it in: if it has moved on since
// (the hub verified it, or an Observe asked for it again because its
// source came back), nothing is done.
func (s *Subscriber) unsubscribe(ctx context.Context, sub wiredesk.Subscription, from func(string) bool) error {
	sub, err := s.update(ctx, sub.ID, from, func(sub *wiredesk.Subscription) {
		sub.State, sub.Updated = wiredesk.SubUnsubscribing, s.Now().UTC()
	})
	if errors.Is(err, errMoved) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.ask(ctx, sub, "unsubscribe")
}

// request records sub as pending, then asks the hub (WebSub §5.1). The
// record comes first: the hub may verify before its answer arrives. A
// renewal keeps an active subscription active: deliveries go on while the
// hub verifies again.
func (s *Subscriber) request(ctx context.Context, sub wiredesk.Subscription) error {
	if sub.State == "" { // new: nothing stored to have moved
		sub.State, sub.Updated = wiredesk.SubPending, s.Now().UTC()
		if err := s.store.SaveSubscription(ctx, sub); err != nil {
			return err
		}
	} else {
		var err error
		sub, err = s.update(ctx, sub.ID, askable, func(sub *wiredesk.Subscription) {
			if sub.State != wiredesk.SubActive {
				sub.State = wiredesk.SubPending
			}
			sub.Updated = s.Now().UTC()
		})
		if errors.Is(err, errMoved) {
			return nil // being unsubscribed meanwhile: Retire decides
		}
		if err != nil {
			return err
		}
	}
	return s.ask(ctx, sub, "subscribe")
}

// ask sends the hub a subscription request in mode "subscribe" or
// "unsubscribe" for sub's callback and topic, and logs it once accepted.
func (s *Subscriber) ask(ctx context.Context, sub wiredesk.Subscription, mode string) error {
	form := url.Values{
		"hub.mode":     {mode},
		"hub.topic":    {sub.Topic},
		"hub.callback": {s.PublicURL + CallbackPath + sub.ID},
	}
	if mode == "subscribe" {
		form.Set("hub.secret", sub.Secret)
		form.Set("hub.lease_seconds", strconv.Itoa(int(s.Lease.Seconds())))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Hub, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%s %s at %s: %w", mode, sub.Source, sub.Hub, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s at %s: %w", mode, sub.Source, sub.Hub, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxHubAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s %s at %s: %s: %s", mode, sub.Source, sub.Hub, resp.Status,
			strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	what := "subscription"
	if mode == "unsubscribe" {
		what = "unsubscription"
	}
	s.Logger.Info("websub: "+what+" requested", "source", sub.Source, "hub", sub.Hub, "topic", sub.Topic)
	return nil
}

// Renew asks again for every active subscription whose lease is in its
// last fifth (at most its last day), so that it never lapses; a renewal
// not yet verified is asked again after half that margin.
func (s *Subscriber) Renew(ctx context.Context) error {
	subs, err := s.store.Subscriptions(ctx)
	if err != nil {
		return err
	}
	now := s.Now()
	var errs []error
	for _, sub := range subs {
		if sub.State != wiredesk.SubActive || renewAt(sub).After(now) {
			continue
		}
		if err := s.request(ctx, sub); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// renewAt is when Renew asks again for an active subscription: in the
// last fifth of its lease (at most the last day), and no sooner than half
// that margin after it was last verified or asked for (Updated).
func renewAt(sub wiredesk.Subscription) time.Time {
	if !sub.LeaseExpires.After(sub.Updated) {
		// The lease ran out before the last request (the hub is gone, or
		// answers without verifying): ask once a minute, not back to back.
		return sub.Updated.Add(time.Minute)
	}
	margin := min(sub.LeaseExpires.Sub(sub.Updated)/5, 24*time.Hour)
	at := sub.LeaseExpires.Add(-margin)
	if soonest := sub.Updated.Add(margin / 2); soonest.After(at) {
		at = soonest
	}
	return at
}

// NextRenewal is when Renew next has an active subscription to renew; the
// zero time if none. A hub may grant a lease of seconds, which a renewal
// check once a minute would let lapse.
func (s *Subscriber) NextRenewal(ctx context.Context) (time.Time, error) {
	subs, err := s.store.Subscriptions(ctx)
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	for _, sub := range subs {
		if sub.State != wiredesk.SubActive {
			continue
		}
		if at := renewAt(sub); next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next, nil
}

// Active reports whether source has a verified subscription whose lease
// still runs: its content arrives by push.
func (s *Subscriber) Active(ctx context.Context) (map[string]bool, error) {
	subs, err := s.store.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out := map[string]bool{}
	for _, sub := range subs {
		if sub.Delivering(now) {
			out[sub.Source] = true
		}
	}
	return out, nil
}

// ServeHTTP answers a hub at CallbackPath + id: GET verifies a
// subscription intent (§5.3), POST delivers content (§7).
func (s *Subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, CallbackPath)
	sub, err := s.store.Subscription(r.Context(), id)
	if errors.Is(err, wiredesk.ErrNotFound) || id == "" {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.Logger.Error("websub: read subscription", "error", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.verify(w, r, sub)
	case http.MethodPost:
		s.deliver(w, r, sub)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (s *Subscriber) verify(w http.ResponseWriter, r *http.Request, sub wiredesk.Subscription) {
	q := r.URL.Query()
	mode, topic := q.Get("hub.mode"), q.Get("hub.topic")
	if topic != sub.Topic {
		http.NotFound(w, r)
		return
	}
	switch mode {
	case "denied":
		_, err := s.update(r.Context(), sub.ID, live, func(sub *wiredesk.Subscription) {
			sub.State, sub.Updated = wiredesk.SubDenied, s.Now().UTC()
		})
		if err != nil && !errors.Is(err, errMoved) {
			s.Logger.Error("websub: save subscription", "error", err)
		}
		s.Logger.Warn("websub: hub denied the subscription", "source", sub.Source, "hub", sub.Hub,
			"reason", q.Get("hub.reason"))
		w.WriteHeader(http.StatusOK)
		return
	case "subscribe", "unsubscribe":
	default:
		http.NotFound(w, r)
		return
	}
	// §5.3.1: confirm only what was asked for. A subscription is pending
	// or being renewed (active); an unsubscription was requested, and a
	// hub may verify it twice (it was asked again) or late. Anything else,
	// such as a hub re-verifying a denied or ended subscription, is
	// refused: anything but an echo refuses.
	if want := (mode == "subscribe" && live(sub.State)) || (mode == "unsubscribe" && unsubscribeAsked(sub.State)); !want {
		s.Logger.Warn("websub: refused a verification not asked for", "source", sub.Source, "hub", sub.Hub,
			"mode", mode, "state", sub.State)
		http.NotFound(w, r)
		return
	}
	challenge := q.Get("hub.challenge")
	if challenge == "" {
		http.Error(w, "missing hub.challenge", http.StatusBadRequest)
		return
	}
	if mode == "unsubscribe" {
		_, err := s.update(r.Context(), sub.ID, unsubscribeAsked, s.end)
		if errors.Is(err, errMoved) {
			http.NotFound(w, r) // asked for again meanwhile
			return
		}
		if err != nil {
			s.Logger.Error("websub: save subscription", "error", err)
			http.Error(w, "internal server error", http.StatusInternalServerError)
			return
		}
		s.Logger.Info("websub: unsubscription verified", "source", sub.Source, "hub", sub.Hub)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, challenge)
		return
	}
	lease := s.Lease
	if n, err := strconv.Atoi(q.Get("hub.lease_seconds")); err == nil && n > 0 {
		lease = time.Duration(n) * time.Second
	}
	now := s.Now().UTC()
	_, err := s.update(r.Context(), sub.ID, live, func(sub *wiredesk.Subscription) {
		sub.State, sub.LeaseExpires, sub.Updated = wiredesk.SubActive, now.Add(lease), now
	})
	if errors.Is(err, errMoved) {
		http.NotFound(w, r) // being unsubscribed meanwhile
		return
	}
	if err != nil {
		s.Logger.Error("websub: save subscription", "error", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	s.Logger.Info("websub: subscription verified", "source", sub.Source, "hub", sub.Hub, "lease", lease)
	if s.OnVerified != nil {
		s.OnVerified()
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, challenge)
}

// deliver ingests a signed delivery. WebSub §7.1: a delivery whose
// signature does not match is still acknowledged with a 2xx (so a forger
// learns nothing) but its content is dropped.
func (s *Subscriber) deliver(w http.ResponseWriter, r *http.Request, sub wiredesk.Subscription) {
	body, err := io.ReadAll(io.LimitReader(r.Body, s.MaxBody+1))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if int64(len(body)) > s.MaxBody {
		http.Error(w, "delivery too large", http.StatusRequestEntityTooLarge)
		return
	}
	if sub.State == wiredesk.SubEnded {
		// §7: 410 Gone tells a hub that lost the unsubscription (or
		// ignored it) that this subscription is deleted.
		s.Logger.Warn("websub: delivery for an ended subscription refused", "source", sub.Source, "hub", sub.Hub)
		http.Error(w, "subscription ended", http.StatusGone)
		return
	}
	if sub.State != wiredesk.SubActive {
		s.Logger.Warn("websub: delivery for an unverified subscription dropped", "source", sub.Source)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if err := CheckSignature(r.Header.Get("X-Hub-Signature"), sub.Secret, body); err != nil {
		s.Logger.Warn("websub: delivery dropped", "source", sub.Source, "error", err)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if err := s.ingest.Ingest(r.Context(), sub.Source, body, r.Header.Get("Content-Type")); err != nil {
		// The content was authentic but unusable: the safety-net poll
		// will fetch the feed anyway.
		s.Logger.Warn("websub: delivery not stored", "source", sub.Source, "error", err)
	}
	w.WriteHeader(http.StatusAccepted)
}

// CheckSignature verifies X-Hub-Signature: "method=hex", the HMAC of body
// keyed with secret, with sha1, sha256, sha384 or sha512 (WebSub §7.1).
func CheckSignature(header, secret string, body []byte) error {
	method, sig, ok := strings.Cut(header, "=")
	if !ok {
		return errors.New("missing or malformed X-Hub-Signature")
	}
	var h func() hash.Hash
	switch strings.ToLower(method) {
	case "sha1":
		h = sha1.New
	case "sha256":
		h = sha256.New
	case "sha384":
		h = sha512.New384
	case "sha512":
		h = sha512.New
	default:
		return fmt.Errorf("unsupported signature method %q", method)
	}
	want, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return errors.New("signature is not hex")
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), want) {
		return errors.New("signature does not match")
	}
	return nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}
