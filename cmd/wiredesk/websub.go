package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/aggregator"
	"github.com/wiredesk/wiredesk/publish"
	"github.com/wiredesk/wiredesk/websub"
)

// pingDebounce lets the polls of one cron tick land before the topic
// feeds are compared, so a hub hears of a burst of changes once.
const pingDebounce = 500 * time.Millisecond

// A failed ping is tried again after pingRetry, doubling up to
// maxPingRetry while the hub keeps failing: subscribers should not wait
// for the topic's next change to hear of this one.
const (
	pingRetry    = time.Minute
	maxPingRetry = time.Hour
)

// hubPinger pings the configured WebSub hub when a topic feed's content
// changes, and only then: after polls that stored something it compares
// each topic's fingerprint with the last one the hub was told about.
type hubPinger struct {
	hub    string
	pub    *publish.Server
	client *http.Client
	logger *slog.Logger

	kick  chan struct{}
	last  map[string]string // topic -> fingerprint the hub last heard of; used by run only
	retry time.Duration     // first wait after a failed ping; pingRetry when 0
}

func newHubPinger(hub string, pub *publish.Server, logger *slog.Logger) *hubPinger {
	return &hubPinger{
		hub: hub, pub: pub, logger: logger,
		client: &http.Client{Timeout: 30 * time.Second},
		kick:   make(chan struct{}, 1),
	}
}

// seed records the feeds as they are at start-up: nothing to ping yet.
func (h *hubPinger) seed(ctx context.Context) error {
	fp, err := h.pub.Fingerprints(ctx)
	if err != nil {
		return err
	}
	h.last = fp
	return nil
}

// notify says that something was stored; it never blocks a poll.
func (h *hubPinger) notify() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

func (h *hubPinger) run(ctx context.Context) {
	first := h.retry
	if first <= 0 {
		first = pingRetry
	}
	wait := first
	var again <-chan time.Time // armed after a failed ping
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
		case <-again:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pingDebounce):
		}
		again = nil
		if h.check(ctx) {
			wait = first
			continue
		}
		h.logger.Warn("websub: the hub was not told of every change; trying again", "in", wait)
		again = time.After(wait)
		wait = min(2*wait, maxPingRetry)
	}
}

// check pings the hub for every topic whose content moved and reports
// whether every ping went through. A failed ping keeps the old
// fingerprint, so the next check tries that topic again.
func (h *hubPinger) check(ctx context.Context) bool {
	fp, err := h.pub.Fingerprints(ctx)
	if err != nil {
		if ctx.Err() == nil {
			h.logger.Error("websub: compare topic feeds", "error", err)
		}
		return ctx.Err() != nil
	}
	ok := true
	for topic, digest := range fp {
		if h.last[topic] == digest {
			continue
		}
		if err := websub.Ping(ctx, h.client, h.hub, h.pub.FeedURLs(topic)); err != nil {
			if ctx.Err() == nil {
				h.logger.Warn("websub: ping failed", "topic", topic, "error", err)
			}
			ok = false
			continue
		}
		h.last[topic] = digest
		h.logger.Info("websub: pinged hub", "topic", topic, "hub", h.hub)
	}
	return ok || ctx.Err() != nil
}

// pushIngester stores what a hub delivers through the poller's parse and
// save steps, as the source it was subscribed for.
type pushIngester struct{ d *Daemon }

func (p pushIngester) Ingest(ctx context.Context, source string, body []byte, contentType string) error {
	src, ok := p.d.poller.Source(source)
	if !ok {
		return fmt.Errorf("push for %s: no such source in the config", source)
	}
	stats, err := p.d.poller.Ingest(ctx, src, body, contentType)
	if err != nil {
		return err
	}
	p.d.metrics.ObservePush(source, stats, len(body))
	if stats.New+stats.Updated > 0 {
		p.d.contentChanged()
	}
	return nil
}

// observeHub subscribes, in the background, to the hub a polled feed
// advertises (and unsubscribes from one it no longer does); the feed's own
// URL stands in for a missing rel="self".
func (d *Daemon) observeHub(r aggregator.Result) {
	src, ok := d.poller.Source(r.Source)
	if !ok {
		return
	}
	topic := r.Self
	if topic == "" {
		topic = src.FeedURL
	}
	d.wg.Go(func() {
		if err := d.sub.Observe(d.bg, src.Name, r.Hub, topic); err != nil && d.bg.Err() == nil {
			d.Logger.Warn("websub: subscribe failed; polling goes on", "source", src.Name, "hub", r.Hub, "error", err)
		}
	})
}

// subscriptions renews leases before they run out, ends those of sources
// gone from the config, and keeps the set of pushed sources, which the
// poller polls only as a safety net, current. It checks every
// SubscribeEvery, or sooner when a short lease must be renewed first.
func (d *Daemon) subscriptions(ctx context.Context) {
	every := d.SubscribeEvery
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.subKick: // a verification or a reload: look now
		}
		// Retire first: a source that left the config (a reload, or a
		// restart with a new config) must not be renewed.
		configured := func(source string) bool { _, ok := d.poller.Source(source); return ok }
		if err := d.sub.Retire(ctx, configured); err != nil && ctx.Err() == nil {
			d.Logger.Warn("websub: unsubscribe failed; retried within the hour", "error", err)
		}
		if err := d.sub.Renew(ctx); err != nil && ctx.Err() == nil {
			d.Logger.Warn("websub: renewal failed; retried next check", "error", err)
		}
		if err := d.refreshPushed(ctx); err != nil && ctx.Err() == nil {
			d.Logger.Warn("websub: list subscriptions", "error", err)
		}
		// A hub may grant a lease of seconds; a renewal is never checked
		// more than once a second, though.
		wait := every
		if next, err := d.sub.NextRenewal(ctx); err == nil && !next.IsZero() {
			wait = min(every, max(next.Sub(d.Now()), time.Second))
		}
		t.Reset(wait)
	}
}

// kickSubscriptions makes the subscription loop look at once: after a
// hub's verification (a short lease's renewal must be scheduled by it, and
// the source is now pushed) or a reload (removed sources are unsubscribed).
func (d *Daemon) kickSubscriptions() {
	select {
	case d.subKick <- struct{}{}:
	default:
	}
}

func (d *Daemon) refreshPushed(ctx context.Context) error {
	active, err := d.sub.Active(ctx)
	if err != nil {
		return err
	}
	d.pushed.Store(&active)
	return nil
}

func (d *Daemon) isPushed(source string) bool {
	m := d.pushed.Load()
	return m != nil && (*m)[source]
}

// pushedStates lists source states for the status page with the pushed
// sources' next polls where the safety net puts them (see
// aggregator.Poller.SafetyNetView).
type pushedStates struct {
	states publish.StateLister
	poller *aggregator.Poller
}

func (p pushedStates) SourceStates(ctx context.Context) ([]wiredesk.SourceState, error) {
	list, err := p.states.SourceStates(ctx)
	for i, st := range list {
		list[i] = p.poller.SafetyNetView(st)
	}
	return list, err
}
