package aggregator

import (
	"context"
	"fmt"
	"mime"
	"net/url"
	"time"

	"github.com/wiredesk/wiredesk"
)

// webSubLinks resolves the hub and self links a response advertised: the
// Link header first (WebSub §4), then the document's own links, made
// absolute against the URL the feed was fetched from.
func webSubLinks(resp response, h feedHints) (hub, self string) {
	hub, self = resp.hub, resp.self
	if hub == "" {
		hub = h.hub
	}
	if self == "" {
		self = h.self
	}
	return absoluteHTTP(resp.finalURL, hub), absoluteHTTP(resp.finalURL, self)
}

func absoluteHTTP(base, ref string) string {
	if ref == "" {
		return ""
	}
	b, err := url.Parse(base)
	if err != nil {
		return ""
	}
	u, err := b.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// Ingest stores a document pushed by a WebSub hub for src through the
// same parse and save steps as a poll: same limits, same dedupe, same
// single writer. The source's polling state is left as it is: a push says
// nothing about the validators or schedule of the feed URL.
func (p *Poller) Ingest(ctx context.Context, src wiredesk.Source, body []byte, contentType string) (wiredesk.IngestStats, error) {
	if int64(len(body)) > p.MaxBody {
		return wiredesk.IngestStats{}, fmt.Errorf("push for %s: %w", src.Name, wiredesk.ErrBodyTooLarge)
	}
	var charset string
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		charset = params["charset"]
	}
	releaseParse, err := p.acquireParse(ctx)
	if err != nil {
		return wiredesk.IngestStats{}, fmt.Errorf("push for %s: %w", src.Name, err)
	}
	items, err := parseItems(src.Name, src.FeedURL, body, charset, p.Now())
	if err != nil {
		releaseParse()
		return wiredesk.IngestStats{}, fmt.Errorf("push for %s: %w", src.Name, err)
	}
	docs := fingerprint(items, p.Dedupe)
	// As a poll does: wait for the writer in a save slot.
	release, err := p.awaitWriter(ctx, releaseParse, len(items))
	if err != nil {
		return wiredesk.IngestStats{}, fmt.Errorf("push for %s: %w", src.Name, err)
	}
	defer release()
	stats, err := p.save(ctx, wiredesk.FetchResult{Source: src.Name, Items: items, KeepState: true}, docs)
	if err != nil {
		return stats, fmt.Errorf("push for %s: save: %w", src.Name, err)
	}
	p.Logger.Info("pushed", "source", src.Name, "items_new", stats.New, "items_updated", stats.Updated,
		"stories", stats.Stories, "copies", stats.Copies, "bytes", len(body))
	return stats, nil
}

// pushed reports whether the source's content arrives by push, so that
// it is polled only as the safety net.
func (p *Poller) pushed(source string) bool {
	return p.Pushed != nil && p.PushFallback > 0 && p.Pushed(source)
}

// pushedDue is the safety net of a source whose content arrives by push:
// it is still polled, every PushFallback, in case the hub goes quiet.
func (p *Poller) pushedDue(state wiredesk.SourceState, now time.Time) bool {
	if !p.pushed(state.Source) {
		return true
	}
	return !state.LastFetch.Add(p.PushFallback).After(now.Add(tickSlack))
}

// SafetyNetView returns st with NextRun where the safety net really puts
// a pushed source's next poll: the first tick of its schedule that
// pushedDue lets through. It is for people (wiredesk sources, the status
// page): the stored NextRun keeps the schedule's tick, so that polling
// resumes at once when the push ends. Other sources are returned as they
// are.
func (p *Poller) SafetyNetView(st wiredesk.SourceState) wiredesk.SourceState {
	if !p.pushed(st.Source) || st.Status == wiredesk.StatusGone || st.LastFetch.IsZero() {
		return st
	}
	src, ok := p.Source(st.Source)
	if !ok {
		return st
	}
	sched, err := p.schedule(src)
	if err != nil {
		return st
	}
	// tick, not Next: the runner is on its grid by then.
	earliest := st.LastFetch.Add(p.PushFallback - tickSlack).Add(-time.Nanosecond)
	if at := sched.tick(earliest).UTC(); at.After(st.NextRun) {
		st.NextRun, st.NextReason = at, "websub safety net "+p.PushFallback.String()
	}
	return st
}
