package aggregator

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/wiredesk/wiredesk"
)

// entry is a source as the cron runner has it scheduled.
type entry struct {
	id  cron.EntryID
	src wiredesk.Source
}

// planned is a source ready to be scheduled: its parsed schedule and
// first run.
type planned struct {
	src   wiredesk.Source
	sched cron.Schedule
	first time.Time
}

// SetSources replaces the scheduled sources at runtime (SIGHUP reload):
// sources removed stop being scheduled (a poll in flight may finish), new
// ones are scheduled per FirstRun, ones whose schedule or feed URL
// changed are rescheduled. Safe to call while open and concurrently with
// polls; before Open it just replaces the list. It validates every
// schedule first and changes nothing on error.
//
// A source whose other fields changed (tags, priority) keeps its place in
// the schedule; its next tick polls it as it now is.
func (p *Poller) SetSources(ctx context.Context, sources []wiredesk.Source) error {
	for _, src := range sources {
		if _, err := p.schedule(src); err != nil {
			return fmt.Errorf("set sources: %w", err)
		}
	}
	sources = append([]wiredesk.Source(nil), sources...)
	p.runMu.Lock()
	defer p.runMu.Unlock()
	if p.cron == nil {
		p.srcMu.Lock()
		p.sources, p.byName = sources, nil
		p.srcMu.Unlock()
		return nil
	}
	p.srcMu.Lock()
	var changed []wiredesk.Source
	for _, src := range sources {
		if e, ok := p.entries[src.Name]; !ok || reschedule(e.src, src) {
			changed = append(changed, src)
		}
	}
	p.srcMu.Unlock()
	// Read the states before touching the runner, so that a store error
	// leaves the schedule as it was.
	plans, err := p.plan(ctx, changed, p.Now())
	if err != nil {
		return fmt.Errorf("set sources: %w", err)
	}
	p.apply(sources, plans)
	return nil
}

// reschedule reports whether a source's change needs a new cron entry.
func reschedule(old, src wiredesk.Source) bool {
	return old.Schedule != src.Schedule || old.FeedURL != src.FeedURL
}

// apply swaps the running schedule for sources: entries of removed and
// replanned sources go, plans are added, the rest get their new fields.
// The caller holds runMu with the runner open.
func (p *Poller) apply(sources []wiredesk.Source, plans []planned) {
	p.srcMu.Lock()
	defer p.srcMu.Unlock()
	keep := make(map[string]wiredesk.Source, len(sources))
	for _, src := range sources {
		keep[src.Name] = src
	}
	replanned := make(map[string]bool, len(plans))
	for _, pl := range plans {
		replanned[pl.src.Name] = true
	}
	for name, e := range p.entries {
		src, ok := keep[name]
		switch {
		case !ok || replanned[name]:
			p.cron.Remove(e.id)
			delete(p.entries, name)
		case !reflect.DeepEqual(e.src, src):
			p.entries[name] = entry{id: e.id, src: src}
		}
	}
	for _, pl := range plans {
		p.addEntry(pl)
	}
	p.sources, p.byName = sources, nil
}

// plan parses the schedules of sources and reads their stored states for
// their first runs after now.
func (p *Poller) plan(ctx context.Context, sources []wiredesk.Source, now time.Time) ([]planned, error) {
	plans := make([]planned, 0, len(sources))
	for _, src := range sources {
		sched, err := p.schedule(src)
		if err != nil {
			return nil, err
		}
		state, err := p.store.SourceState(ctx, src.Name)
		if err != nil && !errors.Is(err, wiredesk.ErrNotFound) {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		plans = append(plans, planned{src: src, sched: sched, first: FirstRun(state, sched, now)})
	}
	return plans, nil
}

// addEntry schedules a planned source. The job looks its source up by
// name at each tick, so that a reload's new fields apply and a removed
// source's last tick does nothing, and queues its poll with the runner.
// The caller holds srcMu.
func (p *Poller) addEntry(pl planned) {
	name, run := pl.src.Name, p.run
	id := p.cron.Schedule(&firstTick{first: pl.first, Schedule: pl.sched}, cron.FuncJob(func() {
		if src, ok := p.scheduled(name); ok {
			run.queue(name, src.FeedURL)
		}
	}))
	p.entries[name] = entry{id: id, src: pl.src}
}

// Source returns the configured source called name: what a push for it
// is ingested as. The status page and the subscription loop ask for every
// pushed source, so it looks names up in an index, not the list.
func (p *Poller) Source(name string) (wiredesk.Source, bool) {
	p.srcMu.Lock()
	defer p.srcMu.Unlock()
	if p.byName == nil {
		p.byName = make(map[string]int, len(p.sources))
		for i, s := range p.sources {
			p.byName[s.Name] = i
		}
	}
	if i, ok := p.byName[name]; ok {
		return p.sources[i], true
	}
	return wiredesk.Source{}, false
}

// scheduled returns the source scheduled under name, if it still is.
func (p *Poller) scheduled(name string) (wiredesk.Source, bool) {
	p.srcMu.Lock()
	defer p.srcMu.Unlock()
	e, ok := p.entries[name]
	return e.src, ok
}
