package aggregator

import (
	"context"
	"net/url"
	"slices"
	"sync"
	"time"
)

// hostQueue hands out queued work round-robin by host, hosts in the order
// they were first queued, each host's work in the order it was queued,
// and none of a host with limit pieces running: a host that hangs holds a
// few of the polls running at once, not all of them. Not safe for
// concurrent use.
type hostQueue[T any] struct {
	ring   []*hostLine[T] // hosts with work queued
	at     int            // the next host's place in ring
	byHost map[string]*hostLine[T]
	limit  int
}

// hostLine is one host's queued and running work.
type hostLine[T any] struct {
	host   string
	queued []T
	busy   int // running
}

func newHostQueue[T any](limit int) *hostQueue[T] {
	return &hostQueue[T]{byHost: map[string]*hostLine[T]{}, limit: max(limit, 1)}
}

// hostOf is the host a feed URL is fetched from; an unparsable URL is a
// host of its own (its fetch reports the error).
func hostOf(feedURL string) string {
	if u, err := url.Parse(feedURL); err == nil {
		return u.Host
	}
	return feedURL
}

// push queues v for host.
func (q *hostQueue[T]) push(host string, v T) {
	h := q.byHost[host]
	if h == nil {
		h = &hostLine[T]{host: host}
		q.byHost[host] = h
	}
	if len(h.queued) == 0 {
		q.ring = append(q.ring, h)
	}
	h.queued = append(h.queued, v)
}

// next takes the next piece of work to start, counting it as running on
// its host until done; ok is false when nothing is queued or every host
// with work queued is at its limit. A host leaves the ring with its last
// queued piece, so a call passes over at most the hosts at their limit.
func (q *hostQueue[T]) next() (h *hostLine[T], v T, ok bool) {
	for range len(q.ring) {
		if q.at >= len(q.ring) {
			q.at = 0
		}
		h = q.ring[q.at]
		if h.busy >= q.limit {
			q.at++
			continue
		}
		v = h.queued[0]
		var zero T
		h.queued[0] = zero
		h.queued = h.queued[1:]
		h.busy++
		if len(h.queued) == 0 {
			q.ring = slices.Delete(q.ring, q.at, q.at+1) // the next host moves into place
		} else {
			q.at++
		}
		return h, v, true
	}
	return nil, v, false
}

// done ends a piece of work next handed out.
func (q *hostQueue[T]) done(h *hostLine[T]) {
	h.busy--
	if h.busy == 0 && len(h.queued) == 0 {
		delete(q.byHost, h.host)
	}
}

// runner runs the scheduled polls. A cron tick only queues its source, and
// the runner starts at most pollWorkers polls at once, round-robin by
// host: a goroutine per tick, waiting for a fetch slot, held a stack grown
// by reading the source's state, and the first cycle of 2,000 sources
// peaked at 117 MB where the same poll run by PollAll took 91 MB. A
// tick of a source already queued or running is skipped.
type runner struct {
	p   *Poller
	ctx context.Context // of the polls; canceled by Close

	mu      sync.Mutex
	q       *hostQueue[string]   // source names
	pending map[string]time.Time // queued or running, by name: when queued
	running int
	stopped bool
	wg      sync.WaitGroup
	// quiet fires OnIdle when the queue has stayed empty; idleGen counts
	// the polls started, so a timer that fires just as one starts does
	// nothing. fetched says a poll fetched its feed since the last
	// OnIdle: a tick that found its source not due (adaptive mode queues
	// every source every few minutes) is no work to recover from.
	quiet   *time.Timer
	idleGen uint64
	fetched bool
}

func newRunner(ctx context.Context, p *Poller) *runner {
	return &runner{p: p, ctx: ctx, q: newHostQueue[string](p.hostLimit()), pending: map[string]time.Time{}}
}

// queue schedules a poll of the named source, unless one is queued or
// running.
func (r *runner) queue(name, feedURL string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.pending[name]; r.stopped || ok {
		return
	}
	r.pending[name] = r.p.Now()
	r.q.push(hostOf(feedURL), name)
	r.start()
}

// start starts queued polls while there is room. The caller holds mu.
func (r *runner) start() {
	for !r.stopped && r.running < r.p.pollWorkers() {
		h, name, ok := r.q.next()
		if !ok {
			return
		}
		r.running++
		r.idleGen++
		if r.quiet != nil {
			r.quiet.Stop()
		}
		r.wg.Add(1)
		tick := r.pending[name]
		go func() {
			defer r.wg.Done()
			// The source is looked up by name when its poll starts, so a
			// reload's new fields apply and a removed source is not polled.
			fetched := false
			if src, ok := r.p.scheduled(name); ok {
				fetched = r.p.runScheduled(r.ctx, src, tick)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			r.fetched = r.fetched || fetched
			r.running--
			r.q.done(h)
			delete(r.pending, name)
			r.start()
			if r.running == 0 {
				r.idleSoon()
			}
		}()
	}
}

// idleSoon arms the call of OnIdle for when the queue stays empty for
// IdleAfter, if a poll fetched since the last call. The caller holds mu.
func (r *runner) idleSoon() {
	onIdle := r.p.OnIdle
	if onIdle == nil || r.stopped || !r.fetched {
		return
	}
	after := r.p.IdleAfter
	if after <= 0 {
		after = 30 * time.Second
	}
	gen := r.idleGen
	if r.quiet != nil {
		r.quiet.Stop()
	}
	r.quiet = time.AfterFunc(after, func() {
		r.mu.Lock()
		still := gen == r.idleGen && r.running == 0 && !r.stopped
		if still {
			// Counted with the polls, so that Close waits for it.
			r.fetched = false
			r.wg.Add(1)
		}
		r.mu.Unlock()
		if still {
			defer r.wg.Done()
			onIdle()
		}
	})
}

// stop drops the queued polls and returns a channel closed when the
// running ones have returned.
func (r *runner) stop() <-chan struct{} {
	r.mu.Lock()
	r.stopped = true
	if r.quiet != nil {
		r.quiet.Stop()
	}
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	return done
}
