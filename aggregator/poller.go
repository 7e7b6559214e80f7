// Package aggregator owns everything from "a source is due" to "items
// handed to the store": the cron schedule, a bounded pool of fetches with
// per-host politeness, conditional GET with body limits, parsing with
// gofeed and the adaptation to wiredesk.Item, and the single writer that
// hands each poll's outcome to the store.
//
// It does not own storage (the store package, reached through the Store
// interface), wire-copy detection (the dedupe package) or publishing.
package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/dedupe"
)

// Store is what the poller needs from storage; *store.DB satisfies it.
type Store interface {
	// SourceState returns the stored state of the named source, or an
	// error wrapping wiredesk.ErrNotFound if it was never polled.
	SourceState(ctx context.Context, name string) (wiredesk.SourceState, error)
	// SaveFetch saves a poll's items and the source's new state in one
	// transaction, asking res.Matcher about items it has not seen.
	SaveFetch(ctx context.Context, res wiredesk.FetchResult) (wiredesk.IngestStats, error)
	// Fingerprints calls fn for every stored item first seen since then
	// that has a fingerprint: the near-duplicate index after a restart.
	Fingerprints(ctx context.Context, since time.Time, fn func(id int64, firstSeen time.Time, fp []byte) error) error
}

// Poller polls sources on their schedules and hands what it fetched to the
// store through a single writer. Set fields after NewPoller and before
// Open or the first poll.
type Poller struct {
	DefaultSchedule string        // cron schedule of sources without one
	Concurrency     int           // fetches in flight
	PerHost         int           // concurrent requests to one host
	Timeout         time.Duration // total deadline of one fetch, body included
	MaxBody         int64         // response body cap, after decompression
	MaxRedirects    int           // redirect hops followed
	// ParseConcurrency bounds the documents parsed at once, one less
	// while the single writer has work (see parseSlots), and with them
	// the fetches whose items wait for the writer or are in it:
	// ParseConcurrency+2 (memory: see acquireSlot). It defaults to the
	// number of CPUs. A parse on every core all the time slowed a busy
	// cycle: on 2 cores, a cold cycle over 2,000 feeds took 38.6-42.7 s
	// with 2 parses and 2 save slots, 36.7-37.6 s with 1 and 3 (three
	// runs each), and, one machine-hour later, 73.4 and 80.1 s with 2
	// less one while writing and 4 save slots, against 98.1 and 85.1 s
	// with 1 and 3 (alternating).
	ParseConcurrency int
	Client           *http.Client // shared by every fetch
	Logger           *slog.Logger
	Now              func() time.Time
	OnResult         func(Result) // optional; called after every poll
	// OnIdle, when set, is called once each time the scheduled polls
	// fall quiet: IdleAfter (default 30s) after the last one finished
	// with none queued or started since. A daemon hands memory a cycle
	// used back to the system there.
	OnIdle    func()
	IdleAfter time.Duration

	// Adaptive moves each source's interval between MinInterval and
	// MaxInterval: shorter after a poll with new items, longer after one
	// without. Off, sources follow their cron schedules.
	Adaptive    bool
	MinInterval time.Duration
	MaxInterval time.Duration
	// Jitter delays each source's scheduled polls by a fixed offset in
	// [0, Jitter), derived from its name, so that sources sharing a
	// schedule do not all fire in the same second.
	Jitter time.Duration
	// Pushed, when set, reports whether a source's content arrives by
	// WebSub; such a source is polled only every PushFallback.
	Pushed       func(source string) bool
	PushFallback time.Duration

	// Dedupe turns on near-duplicate detection: a new item whose running
	// text is a copy of a stored item's joins that item's story.
	Dedupe bool
	// Window bounds how far back (by first-seen time) copies are looked
	// for, and so the index's memory.
	Window time.Duration
	// Threshold is the share of the shorter text two copies must have in
	// common; see dedupe.Decide.
	Threshold float64

	store Store

	// srcMu guards sources and entries. It is apart from runMu, which
	// Close holds while it waits for running ticks that read entries.
	srcMu   sync.Mutex
	sources []wiredesk.Source
	byName  map[string]int   // index of sources by name; built by Source, dropped when sources change
	entries map[string]entry // scheduled sources by name, while open

	// writeMu is the single writer: every SaveFetch runs under it, so a
	// decision that reads the index and then saves (the dedupe step) sees
	// every earlier write. It works with or without Open.
	writeMu sync.Mutex
	near    atomic.Pointer[nearIndex] // set by the writer on its first save

	semMu  sync.Mutex
	global chan struct{}            // Concurrency slots
	hosts  map[string]chan struct{} // PerHost slots by host
	// parse holds ParseConcurrency slots, of documents being parsed;
	// saveSem saveSlots, of parsed items waiting for or in the writer.
	parse   *parseSlots
	saveSem chan struct{}

	runMu  sync.Mutex
	cron   *cron.Cron
	cancel context.CancelFunc // cancels in-flight scheduled polls
	run    *runner            // runs scheduled polls, while open
}

// NewPoller returns a poller for sources with the default settings.
func NewPoller(store Store, sources []wiredesk.Source) *Poller {
	p := &Poller{
		DefaultSchedule:  "*/15 * * * *",
		Concurrency:      8,
		PerHost:          2,
		Timeout:          30 * time.Second,
		MaxBody:          10 << 20,
		MaxRedirects:     5,
		ParseConcurrency: runtime.NumCPU(),
		Dedupe:           true,
		Window:           72 * time.Hour,
		Threshold:        dedupe.DefaultThreshold,
		MinInterval:      5 * time.Minute,
		MaxInterval:      24 * time.Hour,
		Logger:           slog.Default(),
		Now:              time.Now,
		store:            store,
		sources:          sources,
	}
	p.Client = p.newClient()
	return p
}

// Result is the outcome of one poll of one source.
type Result struct {
	Source     string
	Status     string // one of the wiredesk.Status* constants
	HTTPStatus int    // 0 if no response arrived
	Stats      wiredesk.IngestStats
	Err        error         // the fetch or parse error; nil unless Status is StatusError or StatusGone
	Duration   time.Duration // fetch, parse and save
	NextRun    time.Time     // earliest next poll, UTC
	// FetchDuration is the request alone, from sending it to reading the
	// last byte of the body; Bytes the body read, after decompression.
	FetchDuration time.Duration
	Bytes         int64
	// Hub and Self are the WebSub hub the feed advertises and the URL it
	// names itself by (absolute; "" when none), from a 200 response.
	Hub, Self string
}

// String formats the result on one line, as `wiredesk poll` prints it.
func (r Result) String() string {
	d := r.Duration.Round(time.Millisecond)
	if r.Duration >= time.Second {
		d = r.Duration.Round(100 * time.Millisecond)
	}
	switch r.Status {
	case wiredesk.StatusOK:
		return fmt.Sprintf("%s: ok (%d) %d new, %d updated, %d unchanged in %s",
			r.Source, r.HTTPStatus, r.Stats.New, r.Stats.Updated, r.Stats.Unchanged, d)
	case wiredesk.StatusNotModified:
		return fmt.Sprintf("%s: unchanged (%d) in %s", r.Source, r.HTTPStatus, d)
	case wiredesk.StatusGone:
		return fmt.Sprintf("%s: gone (%d): %v", r.Source, r.HTTPStatus, r.Err)
	}
	s := fmt.Sprintf("%s: error: %v", r.Source, r.Err)
	if !r.NextRun.IsZero() {
		s += "; retry after " + r.NextRun.UTC().Format(time.RFC3339)
	}
	return s
}

// PollOnce fetches, parses and saves one source now, whatever its
// schedule. A fetch or parse failure is not an error: it is Result.Err and
// is recorded in the source's state with a backoff. PollOnce returns an
// error only when the store fails or ctx ends before the outcome could be
// recorded. It does not need Open.
func (p *Poller) PollOnce(ctx context.Context, src wiredesk.Source) (Result, error) {
	return p.pollOnce(ctx, src, p.Now())
}

// pollOnce is PollOnce of a poll due at tick: the next run and the
// feed's own bounds on it (max-age, ttl) count from tick, not from when
// a queue of polls got to this one, so that a poll that waited is not
// pushed past its next tick.
func (p *Poller) pollOnce(ctx context.Context, src wiredesk.Source, tick time.Time) (Result, error) {
	start := p.Now()
	state, err := p.store.SourceState(ctx, src.Name)
	if errors.Is(err, wiredesk.ErrNotFound) {
		state, err = wiredesk.SourceState{Source: src.Name}, nil
	}
	if err != nil {
		return Result{Source: src.Name}, fmt.Errorf("poll %s: %w", src.Name, err)
	}
	res, fetchErr := p.fetchAndParse(ctx, src, state)
	defer res.release()
	if fetchErr != nil && ctx.Err() != nil {
		// Shutting down: the failure is ours, not the source's.
		return Result{Source: src.Name, Err: fetchErr}, fmt.Errorf("poll %s: %w", src.Name, ctx.Err())
	}
	if se := (*StatusError)(nil); errors.As(fetchErr, &se) && se.Gone() {
		fetchErr = fmt.Errorf("%w; %s", fetchErr, goneNote)
	}
	res.State = p.nextState(src, state, res, fetchErr, tick, p.Now())
	if settle := p.settle(src, state, res, fetchErr, tick); settle != nil {
		res.Settle = func(stats wiredesk.IngestStats, st wiredesk.SourceState) wiredesk.SourceState {
			res.State = settle(stats, st)
			return res.State
		}
	}
	stats, err := p.save(ctx, res.FetchResult, res.docs)
	r := Result{
		Source:     src.Name,
		Status:     res.State.Status,
		HTTPStatus: res.State.HTTPStatus,
		Stats:      stats,
		Err:        fetchErr,
		Duration:   p.Now().Sub(start),
		NextRun:    res.State.NextRun,

		FetchDuration: res.resp.elapsed,
		Bytes:         res.resp.bytes,
	}
	if res.hints != nil && fetchErr == nil {
		r.Hub, r.Self = webSubLinks(res.resp, *res.hints)
	}
	if err != nil {
		return r, fmt.Errorf("poll %s: save: %w", src.Name, err)
	}
	p.report(src, r, res.State.ConsecutiveFailures)
	return r, nil
}

// goneNote ends the error of a source answered 410 Gone.
const goneNote = "it will not be polled again until its feed_url changes or it is polled by name"

// polled is a FetchResult still missing its state, plus the validators
// the response carried.
type polled struct {
	wiredesk.FetchResult
	resp    response
	hints   *feedHints             // what the document says of its polling; nil unless a body was read
	docs    map[string]*dedupe.Doc // cleaned texts of the items, by GUID
	release func()                 // frees the save slot; call after saving
}

// fetchAndParse runs the network and parse steps of one poll. On success
// with a body it returns holding a save slot (res.release), which the
// caller frees after saving: memory holds at most Concurrency bodies
// being fetched, ParseConcurrency documents being parsed and saveSlots
// fetches' items waiting for the writer or in it.
func (p *Poller) fetchAndParse(ctx context.Context, src wiredesk.Source, state wiredesk.SourceState) (polled, error) {
	res := polled{FetchResult: wiredesk.FetchResult{Source: src.Name, FeedURL: src.FeedURL}, release: func() {}}
	resp, releaseFetch, err := p.fetch(ctx, src.FeedURL, state)
	res.resp = resp
	if err != nil || resp.status == http.StatusNotModified {
		releaseFetch()
		return res, err
	}
	// Take the parse slot before giving up the fetch slot, so that a
	// fetched body waits here instead of another fetch starting.
	releaseParse, err := p.acquireParse(ctx)
	releaseFetch()
	if err != nil {
		return res, fmt.Errorf("parse %s: %w", resp.finalURL, err)
	}
	hints := scanHints(resp.body)
	res.hints = &hints
	items, err := parseItems(src.Name, resp.finalURL, resp.body, resp.charset, p.Now())
	// The body is garbage once parsed; the items may wait a while for the
	// single writer, and should not keep megabytes alive meanwhile.
	res.resp.bytes = int64(len(resp.body))
	res.resp.body = nil
	if err != nil {
		releaseParse()
		return res, err
	}
	// Items stored before with the same digest are only marked seen: no
	// cleaning, no comparing, no rewriting. One query per fetch finds them.
	items, res.Unchanged = p.skipUnchanged(ctx, src.Name, items)
	// Cleaning the texts is the costliest step; it runs here, in
	// parallel, not under the single writer.
	res.docs = fingerprint(items, p.Dedupe)
	// Parsed and cleaned, the items wait for the writer in a save slot,
	// taken before the parse slot is given up (as the parse slot is
	// before the fetch slot), so that the next documents are parsed
	// meanwhile: a parse slot held until saved left one core idle while
	// the writer worked.
	release, err := p.awaitWriter(ctx, releaseParse, len(items))
	if err != nil {
		return res, fmt.Errorf("save %s: %w", resp.finalURL, err)
	}
	res.Items, res.release = items, release
	return res, nil
}

// digestStore is the optional part of Store that lets a poll skip
// unchanged items before any work on them; *store.DB has it.
type digestStore interface {
	KnownDigests(ctx context.Context, source string, guids []string) (map[string]int64, error)
}

// skipUnchanged splits items into those to save and the GUIDs of those
// stored with the same digest. Without the store's help, or if asking
// fails, every item is saved and compared as before: slower, not wrong.
func (p *Poller) skipUnchanged(ctx context.Context, source string, items []wiredesk.Item) ([]wiredesk.Item, []string) {
	ds, ok := p.store.(digestStore)
	if !ok || len(items) == 0 {
		return items, nil
	}
	guids := make([]string, len(items))
	for i, it := range items {
		guids[i] = it.GUID
	}
	known, err := ds.KnownDigests(ctx, source, guids)
	if err != nil {
		p.Logger.Warn("look up stored items; comparing all", "source", source, "error", err)
		return items, nil
	}
	keep := items[:0]
	var same []string
	for _, it := range items {
		if d, ok := known[it.GUID]; ok && d == it.RawDigest {
			same = append(same, it.GUID)
			continue
		}
		keep = append(keep, it)
	}
	return keep, same
}

// awaitWriter takes a save slot for n parsed items, then gives up the
// parse slot, which the next documents need while these wait for the
// writer. Items bound for the writer mark it busy (see parseSlots) before
// the parse slot is given up, so that a busy writer gets that core back.
// The release it returns frees the save slot; call it after saving.
func (p *Poller) awaitWriter(ctx context.Context, releaseParse func(), n int) (release func(), err error) {
	releaseSave, err := p.acquireSlot(ctx, &p.saveSem, p.saveSlots())
	if err != nil {
		releaseParse()
		return nil, err
	}
	release = releaseSave
	if n > 0 {
		written := p.parseSlots().write()
		release = func() { releaseSave(); written() }
	}
	releaseParse()
	return release, nil
}

// acquireParse takes one of ParseConcurrency slots. A parse tree costs
// several times its document, and Concurrency documents of MaxBody
// parsed at once would take the process past its memory budget.
func (p *Poller) acquireParse(ctx context.Context) (func(), error) {
	return p.parseSlots().acquire(ctx)
}

// parseSlots returns the parse slots, made on first use so that a
// ParseConcurrency set after NewPoller takes effect.
func (p *Poller) parseSlots() *parseSlots {
	p.semMu.Lock()
	defer p.semMu.Unlock()
	if p.parse == nil {
		p.parse = newParseSlots(p.ParseConcurrency)
	}
	return p.parse
}

// saveSlots is how many fetches' parsed items may wait for the writer or
// be in it: one being saved, one ready next, and one for each parser to
// finish into without waiting, so that the writer never waits for a
// parse and parsers rarely wait for the writer.
func (p *Poller) saveSlots() int { return max(p.ParseConcurrency, 1) + 2 }

// acquireSlot takes one of n slots of *semp, the save semaphore, made on
// first use so that a ParseConcurrency set after NewPoller takes effect.
// Parsed items wait for the writer in save slots: fewer bytes than a
// parse tree, but as many documents' worth.
func (p *Poller) acquireSlot(ctx context.Context, semp *chan struct{}, n int) (func(), error) {
	p.semMu.Lock()
	if *semp == nil {
		*semp = make(chan struct{}, n)
	}
	sem := *semp
	p.semMu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// save is the single writer. The near-duplicate decision runs inside it
// (the store calls the matcher in its transaction), so two copies of one
// wire story arriving at once from two workers cannot both start a story.
func (p *Poller) save(ctx context.Context, res wiredesk.FetchResult, docs map[string]*dedupe.Doc) (wiredesk.IngestStats, error) {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	if !p.Dedupe || len(res.Items) == 0 {
		return p.store.SaveFetch(ctx, res)
	}
	near, err := p.nearIndex(ctx)
	if err != nil {
		return wiredesk.IngestStats{}, err
	}
	m := near.session(docs)
	res.Matcher = m
	stats, err := p.store.SaveFetch(ctx, res)
	if err == nil {
		m.commit()
	}
	return stats, err
}

// report logs the result and hands it to OnResult.
func (p *Poller) report(src wiredesk.Source, r Result, failures int) {
	log := p.Logger.With("source", src.Name, "feed_url", src.FeedURL, "status", r.Status,
		"http_status", r.HTTPStatus, "duration", r.Duration)
	if r.Err != nil {
		log.Warn("poll failed", "error", r.Err, "failures", failures, "next_run", r.NextRun)
	} else {
		log.Info("polled", "items_new", r.Stats.New, "items_updated", r.Stats.Updated,
			"items_unchanged", r.Stats.Unchanged, "stories", r.Stats.Stories, "copies", r.Stats.Copies,
			"bytes", r.Bytes, "fetch_duration", r.FetchDuration, "next_run", r.NextRun)
	}
	if p.OnResult != nil {
		p.OnResult(r)
	}
}

// PollAll polls sources concurrently, at most Concurrency fetches and
// PerHost per host in flight, and returns their results in input order.
// A failing source does not stop the others; the error joins the store
// failures, if any.
//
// It starts a bounded number of polls at a time (pollWorkers), not a
// goroutine per source: a poll reads its source's state from the store
// before it waits for a fetch slot, and that read grows a goroutine's
// stack to tens of kilobytes; 2,000 sources waiting at once held 31 MB
// of stacks (measured on the feed farm). Polls are started round-robin
// by host, and never more for one host than it can take (hostLimit), so
// that a host that hangs holds a few of them, not all.
func (p *Poller) PollAll(ctx context.Context, sources []wiredesk.Source) ([]Result, error) {
	results := make([]Result, len(sources))
	errs := make([]error, len(sources))
	q := newHostQueue[int](p.hostLimit())
	for i, src := range sources {
		q.push(hostOf(src.FeedURL), i)
	}
	done := make(chan *hostLine[int])
	for running := 0; ; running-- {
		for running < p.pollWorkers() {
			h, i, ok := q.next()
			if !ok {
				break
			}
			running++
			go func() {
				results[i], errs[i] = p.PollOnce(ctx, sources[i])
				done <- h
			}()
		}
		if running == 0 {
			break
		}
		q.done(<-done)
	}
	return results, errors.Join(errs...)
}

// pollWorkers bounds the polls run at once, by PollAll and by the
// schedule: enough for Concurrency fetches, ParseConcurrency parses,
// saveSlots fetches' items waiting for the writer, and Concurrency more
// waiting for a fetch slot.
func (p *Poller) pollWorkers() int {
	return 2*max(p.Concurrency, 1) + max(p.ParseConcurrency, 1) + p.saveSlots()
}

// hostLimit bounds the polls of one host run at once: PerHost fetching,
// the rest parsing or waiting for the writer.
func (p *Poller) hostLimit() int {
	return max(p.PerHost, 1) + max(p.ParseConcurrency, 1) + p.saveSlots()
}
