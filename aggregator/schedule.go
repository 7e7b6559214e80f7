package aggregator

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/wiredesk/wiredesk"
)

// Backoff bounds: the first retry after a failure waits minBackoff, each
// further failure doubles it, up to maxBackoff.
const (
	minBackoff = time.Minute
	maxBackoff = 6 * time.Hour
)

// tickSlack absorbs the difference between the cron runner's clock and
// the time a NextRun was computed at, so that a tick landing exactly on a
// stored NextRun is not mistaken for one inside a backoff window.
const tickSlack = 2 * time.Second

// Backoff is the wait after the n-th consecutive failure (n >= 1):
// 1m·2^(n-1), capped at 6h.
func Backoff(n int) time.Duration {
	if n < 1 {
		return 0
	}
	if n > 16 { // 2^15 minutes is far past the cap; avoid overflow
		return maxBackoff
	}
	return min(minBackoff<<(n-1), maxBackoff)
}

// NextRun is when a source should be polled next after a poll that began
// at start: its schedule's next tick, or after a failure (failures >= 1)
// that tick or start + Backoff(failures), whichever is later. It counts
// from the start, as the cron runner does from the tick that started the
// poll: counted from the end, an @every schedule's NextRun would trail
// the runner's next tick by the poll's duration and that tick be skipped.
func NextRun(sched cron.Schedule, start time.Time, failures int) time.Time {
	next := sched.Next(start).UTC()
	if failures > 0 {
		if b := start.Add(Backoff(failures)).UTC(); b.After(next) {
			next = b
		}
	}
	return next
}

// FirstRun is when the scheduler first polls a source with schedule sched
// after start-up, at the earliest now. Inside a backoff window it is the
// stored NextRun, so that backoff survives restarts. Otherwise it is the
// earlier of the stored NextRun and the schedule's next tick after the
// last fetch (now if never fetched): the stored NextRun was computed from
// the schedule in force then, and a source moved from @daily to */5 must
// not wait out the day.
//
// A gone source (410) gets its schedule's next tick, which Due then
// skips: it is not polled at start-up, yet a state changed meanwhile (its
// feed URL edited, or a poll by name that found it back) is seen.
//
// A source whose feed URL changed is polled now, however recently the
// old URL was fetched: the store resets its state to StatusNew with no
// NextRun, a state no poll leaves behind.
func FirstRun(state wiredesk.SourceState, sched cron.Schedule, now time.Time) time.Time {
	if state.Status == wiredesk.StatusGone {
		return sched.Next(now)
	}
	if state.Status == wiredesk.StatusNew && state.NextRun.IsZero() {
		return now
	}
	next := state.NextRun
	if !inBackoff(state, now) {
		bySchedule := now
		if !state.LastFetch.IsZero() {
			bySchedule = sched.Next(state.LastFetch)
		}
		if next.IsZero() || bySchedule.Before(next) {
			next = bySchedule
		}
	}
	// What the feed asked for holds across restarts too.
	if state.NotBefore.After(next) {
		next = state.NotBefore
	}
	if !next.After(now) {
		return now
	}
	return next
}

// Due reports whether a scheduled tick at now should poll a source in
// state. The runner fires only on the schedule's ticks (or the FirstRun),
// so every tick is due except one inside a backoff window. A healthy
// source's stored NextRun is not consulted: it may predate a schedule
// change. A gone source (410, RFC 9110 §15.5.11) is never due: only a
// changed feed URL (which resets its state) or an explicit PollOnce
// polls it again.
//
// Nor is a tick before the time the feed itself asked not to be polled
// before (NotBefore: its ttl, skipHours, Cache-Control...).
func Due(state wiredesk.SourceState, now time.Time) bool {
	return state.Status != wiredesk.StatusGone && !inBackoff(state, now) &&
		!state.NotBefore.After(now.Add(tickSlack))
}

// due is Due plus adaptive mode's rule: the runner ticks often (see
// schedule) and the stored NextRun, which adaptation moved, decides.
func (p *Poller) due(state wiredesk.SourceState, now time.Time) bool {
	if !Due(state, now) || !p.pushedDue(state, now) {
		return false
	}
	return !p.Adaptive || !state.NextRun.After(now.Add(tickSlack))
}

// inBackoff reports whether the source failed last and its retry time is
// still ahead of now, give or take tickSlack.
func inBackoff(state wiredesk.SourceState, now time.Time) bool {
	return state.ConsecutiveFailures > 0 && state.NextRun.After(now.Add(tickSlack))
}

// schedule is when the runner ticks for src: its cron schedule (or the
// default one) shifted by its jitter; in adaptive mode a check every few
// minutes instead, the stored NextRun deciding which ticks poll.
func (p *Poller) schedule(src wiredesk.Source) (jittered, error) {
	if p.Adaptive {
		return jittered{cron.Every(adaptiveTick(p.MinInterval)), p.jitterFor(src.Name)}, nil
	}
	s, err := p.cronSchedule(src)
	if err != nil {
		return jittered{}, err
	}
	return jittered{s, p.jitterFor(src.Name)}, nil
}

// cronSchedule parses the source's cron schedule, or the default one.
// Standard 5-field expressions and descriptors (@hourly, @every 10m) work.
func (p *Poller) cronSchedule(src wiredesk.Source) (cron.Schedule, error) {
	spec := src.Schedule
	if spec == "" {
		spec = p.DefaultSchedule
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("source %s: schedule %q: %w", src.Name, spec, err)
	}
	return s, nil
}

// adaptiveTick is how often adaptive mode looks for due sources: often
// enough that a source is polled within a minute or a few of its NextRun.
func adaptiveTick(minInterval time.Duration) time.Duration {
	return max(time.Minute, min(minInterval/2, 5*time.Minute))
}

// jitterFor is the source's fixed delay in [0, Jitter): FNV-1a of its
// name, so it is the same on every start and differs between sources.
func (p *Poller) jitterFor(name string) time.Duration {
	ms := p.Jitter.Milliseconds()
	if ms <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	// Whole milliseconds: the runner's timer needs no finer.
	return time.Duration(h.Sum64()%uint64(ms)) * time.Millisecond
}

// jittered is a schedule whose every tick comes offset later.
type jittered struct {
	cron.Schedule
	offset time.Duration
}

// Next implements cron.Schedule: the tick that, shifted by the offset,
// comes after t.
//
// An @every schedule (and adaptive mode's check) counts from whenever it
// is asked, so shifting it back and forth would cancel out, and every
// source started together would tick together for good. With an offset
// it ticks instead on a fixed grid of its period, shifted by the offset:
// each source keeps its own phase whenever it was started or last polled.
// The tick chosen is at least half a period after t, so a poll off the
// grid (at start-up, or after a feed_url change) is not followed by
// another a few seconds later; on the grid, that is the next grid point.
func (j jittered) Next(t time.Time) time.Time {
	if every, ok := j.grid(); ok {
		return j.tick(t.Add(every / 2))
	}
	return j.Schedule.Next(t.Add(-j.offset)).Add(j.offset)
}

// grid reports whether j ticks on a grid, and its period.
func (j jittered) grid() (time.Duration, bool) {
	every, ok := j.Schedule.(cron.ConstantDelaySchedule)
	return every.Delay, ok && j.offset != 0 && every.Delay > 0
}

// tick is the first tick after t: on a grid, the next grid point, which
// the runner fires at once it is on the grid, without Next's half-period
// rule (that only spaces the tick after an off-grid poll).
func (j jittered) tick(t time.Time) time.Time {
	if every, ok := j.grid(); ok {
		// Truncate counts from the zero time: one grid for every source.
		return t.Add(-j.offset).Truncate(every).Add(every + j.offset)
	}
	return j.Next(t)
}

// adapt is adaptive mode's next interval: halved after a poll that
// brought new items, half as long again after one that did not, within
// [MinInterval, MaxInterval], in whole seconds. A source starts from its
// cron schedule's period: the gap between its next two ticks, not the
// wait for the next one, which depends on when the first poll ran (a
// @daily source first polled at 23:58 would start at two minutes).
func (p *Poller) adapt(src wiredesk.Source, prev time.Duration, start time.Time, fresh bool) time.Duration {
	d := prev
	if d <= 0 {
		d = time.Hour
		if s, err := p.cronSchedule(src); err == nil {
			first := s.Next(start)
			d = s.Next(first).Sub(first)
		}
	} else if fresh {
		d /= 2
	} else {
		d += d / 2
	}
	lo, hi := p.MinInterval, p.MaxInterval
	if lo <= 0 {
		lo = time.Minute
	}
	if hi < lo {
		hi = lo
	}
	return min(max(d.Round(time.Second), lo), hi)
}

// nextState is the source's state after a poll that began at start and
// ended at end.
func (p *Poller) nextState(src wiredesk.Source, prev wiredesk.SourceState, res polled, err error, start, end time.Time) wiredesk.SourceState {
	st := prev
	st.Source = src.Name
	st.LastFetch = end.UTC()
	st.HTTPStatus = res.resp.status
	var se *StatusError
	errors.As(err, &se)
	switch {
	case se != nil && se.Gone():
		// Not polled again (see Due): no next run to show.
		st.Status, st.LastError = wiredesk.StatusGone, err.Error()
		st.ConsecutiveFailures++
		st.NextRun = time.Time{}
		return st
	case err != nil:
		// Validators stay: the stored items they vouch for are unchanged.
		st.Status, st.LastError = wiredesk.StatusError, err.Error()
		st.ConsecutiveFailures++
	case res.resp.status == http.StatusNotModified:
		// RFC 9111 §4.3.4: a 304 may carry updated validators; keep the
		// stored ones otherwise.
		st.Status, st.LastError, st.ConsecutiveFailures = wiredesk.StatusNotModified, "", 0
		st.LastSuccess = st.LastFetch
		if res.resp.etag != "" {
			st.ETag = res.resp.etag
		}
		if res.resp.lastModified != "" {
			st.LastModified = res.resp.lastModified
		}
	default:
		// A new representation: its validators replace the old ones, and
		// absent ones are cleared rather than left describing old content.
		st.Status, st.LastError, st.ConsecutiveFailures = wiredesk.StatusOK, "", 0
		st.LastSuccess = st.LastFetch
		st.ETag, st.LastModified = res.resp.etag, res.resp.lastModified
	}
	sched, serr := p.schedule(src)
	if serr != nil {
		// Config validation rejects bad schedules; fall back to backoff.
		st.NextRun = start.Add(max(Backoff(st.ConsecutiveFailures), minBackoff)).UTC()
		return st
	}
	st.NextRun = NextRun(sched, start, st.ConsecutiveFailures)
	st.NextReason = "schedule"
	if st.ConsecutiveFailures > 0 {
		st.NextReason = "backoff"
	}
	// RFC 9110 §10.2.3: the server said when to come back; never sooner
	// than our own backoff. parseRetryAfter capped it at MaxRetryAfter.
	if se != nil && se.RetryAfter.After(st.NextRun) {
		st.NextRun = se.RetryAfter
		st.NextReason = "retry-after"
	}
	if err != nil {
		st.NotBefore = time.Time{}
		return st
	}
	p.politeness(&st, res, start)
	return st
}

// settle is the state to store once saving the items said whether any
// was new: in adaptive mode the interval moves and sets the next run,
// and the feed's hints still bound it from below. Nil when not adaptive.
func (p *Poller) settle(src wiredesk.Source, prev wiredesk.SourceState, res polled, err error, start time.Time) func(wiredesk.IngestStats, wiredesk.SourceState) wiredesk.SourceState {
	if !p.Adaptive || err != nil {
		return nil
	}
	return func(stats wiredesk.IngestStats, st wiredesk.SourceState) wiredesk.SourceState {
		st.Interval = p.adapt(src, prev.Interval, start, stats.New > 0)
		st.NextRun = start.Add(st.Interval).UTC()
		st.NextReason = "adaptive " + st.Interval.String()
		p.politeness(&st, res, start)
		return st
	}
}

// politeness applies what the feed asks about its polling: an interval
// (RSS ttl or sy:updatePeriod, kept from the last full fetch when this one
// was a 304), HTTP freshness, and skipHours/skipDays. Each can only move
// the next poll later, and NotBefore remembers the bound so that a cron
// tick inside it is skipped.
func (p *Poller) politeness(st *wiredesk.SourceState, res polled, start time.Time) {
	if res.hints != nil {
		st.FeedTTL, st.Skip = res.hints.ttl, res.hints.skip.String()
	}
	st.NotBefore = time.Time{}
	ask, why := st.FeedTTL, "feed ttl "+st.FeedTTL.String()
	if res.resp.fresh > ask {
		ask, why = res.resp.fresh, "cache-control "+res.resp.fresh.String()
	}
	if ask > 0 {
		st.NotBefore = start.Add(ask).UTC()
		if st.NotBefore.After(st.NextRun) {
			st.NextRun, st.NextReason = st.NotBefore, why
		}
	}
	if next := parseSkip(st.Skip).after(st.NextRun); next.After(st.NextRun) {
		st.NextRun, st.NextReason = next, "skipHours/skipDays"
		st.NotBefore = next
	}
}

// firstTick wraps a source's schedule so that the runner's first Next
// returns the stored first run and later ones follow the schedule. Only
// the cron runner goroutine calls Next, so the flag needs no lock.
type firstTick struct {
	first time.Time
	used  bool
	cron.Schedule
}

// Next implements cron.Schedule.
func (s *firstTick) Next(t time.Time) time.Time {
	if !s.used {
		s.used = true
		if s.first.After(t) {
			return s.first
		}
		return t
	}
	return s.Schedule.Next(t)
}

// Open starts the scheduler: every source is polled at its stored NextRun,
// at once if that has passed or it was never polled, then on its
// schedule. ctx bounds start-up only (reading stored states); polls run
// until Close.
func (p *Poller) Open(ctx context.Context) error {
	p.runMu.Lock()
	defer p.runMu.Unlock()
	if p.cron != nil {
		return errors.New("open poller: already open")
	}
	p.srcMu.Lock()
	sources := p.sources
	p.srcMu.Unlock()
	plans, err := p.plan(ctx, sources, p.Now())
	if err != nil {
		return fmt.Errorf("open poller: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	// The jobs only queue polls; the runner skips a source already queued
	// or running, which cron's SkipIfStillRunning did when jobs polled.
	c := cron.New()
	p.cron, p.cancel, p.run = c, cancel, newRunner(runCtx, p)
	p.srcMu.Lock()
	p.entries = map[string]entry{}
	for _, pl := range plans {
		p.addEntry(pl)
	}
	p.srcMu.Unlock()
	c.Start()
	return nil
}

// runScheduled is one cron tick for src, at tick (when it was queued),
// and reports whether it polled. A tick that starts or fails as the
// poller shuts down (ctx done) returns quietly: that is not an error of
// the source or the store.
func (p *Poller) runScheduled(ctx context.Context, src wiredesk.Source, tick time.Time) (polled bool) {
	if ctx.Err() != nil {
		return false
	}
	state, err := p.store.SourceState(ctx, src.Name)
	if err != nil && !errors.Is(err, wiredesk.ErrNotFound) {
		if ctx.Err() == nil {
			p.Logger.Error("read source state", "source", src.Name, "error", err)
		}
		return false
	}
	if !p.due(state, tick) {
		p.Logger.Debug("skip tick: not due", "source", src.Name, "next_run", state.NextRun,
			"reason", state.NextReason)
		return false
	}
	if _, err := p.pollOnce(ctx, src, tick); err != nil && ctx.Err() == nil {
		p.Logger.Error("poll", "source", src.Name, "error", err)
	}
	return true
}

// Close stops scheduling and waits for in-flight polls to finish; when
// ctx ends first it cancels them, waits for them to return and reports
// ctx's error. Close without Open is a no-op.
func (p *Poller) Close(ctx context.Context) error {
	p.runMu.Lock()
	defer p.runMu.Unlock()
	if p.cron == nil {
		return nil
	}
	// The cron jobs only queue polls: once they return, no more are
	// queued, and the runner drops those not started.
	<-p.cron.Stop().Done()
	done := p.run.stop()
	defer func() {
		p.cron, p.cancel, p.run = nil, nil, nil
		p.srcMu.Lock()
		p.entries = nil
		p.srcMu.Unlock()
	}()
	select {
	case <-done:
		p.cancel()
		return nil
	case <-ctx.Done():
		p.cancel()
		<-done
		return fmt.Errorf("close poller: %w", ctx.Err())
	}
}
