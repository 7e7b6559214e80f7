package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/wiredesk/wiredesk/publish"
	"github.com/wiredesk/wiredesk/websub"
)

// pingDebounce lets the polls of one cron tick land before the topic
// feeds are compared, so a hub hears of a burst of changes once.
const pingDebounce = 500 * time.Millisecond

// hubPinger pings the configured WebSub hub when a topic feed's content
// changes, and only then: after polls that stored something it compares
// each topic's fingerprint with the last one the hub was told about.
type hubPinger struct {
	hub    string
	pub    *publish.Server
	client *http.Client
	logger *slog.Logger

	kick chan struct{}
	last map[string]string // topic -> fingerprint the hub last heard of; used by run only
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
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pingDebounce):
		}
		h.check(ctx)
	}
}

// check pings the hub for every topic whose content moved. A failed ping
// keeps the old fingerprint, so the next change check tries again.
func (h *hubPinger) check(ctx context.Context) {
	fp, err := h.pub.Fingerprints(ctx)
	if err != nil {
		if ctx.Err() == nil {
			h.logger.Error("websub: compare topic feeds", "error", err)
		}
		return
	}
	for topic, digest := range fp {
		if h.last[topic] == digest {
			continue
		}
		if err := websub.Ping(ctx, h.client, h.hub, h.pub.FeedURLs(topic)); err != nil {
			h.logger.Warn("websub: ping failed; retried at the next change", "topic", topic, "error", err)
			continue
		}
		h.last[topic] = digest
		h.logger.Info("websub: pinged hub", "topic", topic, "hub", h.hub)
	}
}
