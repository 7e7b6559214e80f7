package aggregator

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/store"
)

var t0 = time.Date(2026, 3, 4, 12, 7, 0, 0, time.UTC)

func mustSchedule(t *testing.T, spec string) cron.Schedule {
	t.Helper()
	s, err := cron.ParseStandard(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFirstRun(t *testing.T) {
	every10 := mustSchedule(t, "@every 10m")
	five := mustSchedule(t, "*/5 * * * *")
	tests := []struct {
		name  string
		sched cron.Schedule
		state wiredesk.SourceState
		want  time.Time
	}{
		{"never polled", every10, wiredesk.SourceState{}, t0},
		// SyncSources resets a source whose feed URL changed.
		{"feed URL changed", every10, wiredesk.SourceState{LastFetch: t0.Add(-time.Minute), LastSuccess: t0.Add(-time.Minute)}, t0},
		{"stored next run passed", every10, wiredesk.SourceState{LastFetch: t0.Add(-time.Hour), NextRun: t0.Add(-50 * time.Minute)}, t0},
		{"stored next run now", every10, wiredesk.SourceState{LastFetch: t0.Add(-10 * time.Minute), NextRun: t0}, t0},
		{"stored next run ahead", every10, wiredesk.SourceState{LastFetch: t0.Add(-7 * time.Minute), NextRun: t0.Add(3 * time.Minute)}, t0.Add(3 * time.Minute)},
		// Moved from @daily to */5: the new schedule counts from the last
		// fetch, not the day-ahead run the old one stored.
		{"schedule tightened", five, wiredesk.SourceState{LastFetch: t0.Add(-time.Minute), NextRun: t0.Add(12 * time.Hour)}, time.Date(2026, 3, 4, 12, 10, 0, 0, time.UTC)},
		{"schedule tightened, tick passed", five, wiredesk.SourceState{LastFetch: t0.Add(-time.Hour), NextRun: t0.Add(12 * time.Hour)}, t0},
		{"no last fetch", five, wiredesk.SourceState{NextRun: t0.Add(12 * time.Hour)}, t0},
		{"inside backoff window", five, wiredesk.SourceState{LastFetch: t0.Add(-time.Minute), NextRun: t0.Add(3 * time.Hour), ConsecutiveFailures: 9}, t0.Add(3 * time.Hour)},
		{"backoff over", five, wiredesk.SourceState{LastFetch: t0.Add(-time.Hour), NextRun: t0.Add(-time.Minute), ConsecutiveFailures: 2}, t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FirstRun(tt.state, tt.sched, t0); !got.Equal(tt.want) {
				t.Errorf("FirstRun = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDue(t *testing.T) {
	tests := []struct {
		name  string
		state wiredesk.SourceState
		want  bool
	}{
		{"never polled", wiredesk.SourceState{}, true},
		{"stored next run passed", wiredesk.SourceState{NextRun: t0.Add(-time.Hour)}, true},
		{"tick within slack of next run", wiredesk.SourceState{NextRun: t0.Add(time.Second)}, true},
		// Not in backoff, the runner only fires on the schedule's ticks:
		// a NextRun ahead of one is stale (a slow poll, a changed schedule).
		{"healthy, next run ahead", wiredesk.SourceState{NextRun: t0.Add(10 * time.Minute)}, true},
		{"inside backoff window", wiredesk.SourceState{NextRun: t0.Add(3 * time.Hour), ConsecutiveFailures: 9}, false},
		{"backoff within slack", wiredesk.SourceState{NextRun: t0.Add(time.Second), ConsecutiveFailures: 1}, true},
		{"backoff over", wiredesk.SourceState{NextRun: t0.Add(-time.Second), ConsecutiveFailures: 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Due(tt.state, t0); got != tt.want {
				t.Errorf("Due = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSlowPollDueNextTick: a poll that takes 3 s must not push the next
// run past the runner's next tick, or every other tick is skipped.
func TestSlowPollDueNextTick(t *testing.T) {
	p := NewPoller(nil, nil)
	p.DefaultSchedule = "@every 10m"
	src := wiredesk.Source{Name: "slow"}
	ok := polled{resp: response{status: 200}}
	fail := polled{resp: response{status: 503}}
	errFetch := errors.New("fetch: 503 Service Unavailable")
	tests := []struct {
		name     string
		prev     wiredesk.SourceState
		res      polled
		err      error
		dueAt    []time.Duration // runner ticks after t0 at which the poll is due
		notDueAt []time.Duration
	}{
		{"success", wiredesk.SourceState{}, ok, nil, []time.Duration{10 * time.Minute}, nil},
		{"not modified", wiredesk.SourceState{}, polled{resp: response{status: 304}}, nil, []time.Duration{10 * time.Minute}, nil},
		{"first failure, backoff under the period", wiredesk.SourceState{}, fail, errFetch, []time.Duration{10 * time.Minute}, nil},
		{"fifth failure, 16m backoff", wiredesk.SourceState{ConsecutiveFailures: 4}, fail, errFetch,
			[]time.Duration{20 * time.Minute}, []time.Duration{10 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := p.nextState(src, tt.prev, tt.res, tt.err, t0, t0.Add(3*time.Second))
			if !st.LastFetch.Equal(t0.Add(3 * time.Second)) {
				t.Errorf("LastFetch = %v, want the end of the poll", st.LastFetch)
			}
			for _, d := range tt.dueAt {
				if !Due(st, t0.Add(d)) {
					t.Errorf("next run %v: not due at tick t0+%v", st.NextRun, d)
				}
			}
			for _, d := range tt.notDueAt {
				if Due(st, t0.Add(d)) {
					t.Errorf("next run %v: due at tick t0+%v inside the backoff window", st.NextRun, d)
				}
			}
		})
	}
}

// TestRunScheduledQuietOnShutdown: a tick that runs as the poller shuts
// down neither polls nor logs an error.
func TestRunScheduledQuietOnShutdown(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "wiredesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs bytes.Buffer
	src := wiredesk.Source{Name: "s", FeedURL: srv.URL}
	p := NewPoller(db, []wiredesk.Source{src})
	p.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.runScheduled(ctx, src, p.Now())
	if logs.Len() != 0 || hits.Load() != 0 {
		t.Errorf("cancelled tick logged %q and made %d requests; want neither", logs.String(), hits.Load())
	}
}

func TestNextRun(t *testing.T) {
	tests := []struct {
		spec     string
		failures int
		want     time.Time
	}{
		{"*/15 * * * *", 0, time.Date(2026, 3, 4, 12, 15, 0, 0, time.UTC)},
		{"*/15 * * * *", 1, time.Date(2026, 3, 4, 12, 15, 0, 0, time.UTC)}, // tick after the 1m backoff
		{"*/15 * * * *", 5, t0.Add(16 * time.Minute)},                      // backoff past the tick
		{"@every 10m", 0, t0.Add(10 * time.Minute)},
		{"@every 10m", 4, t0.Add(10 * time.Minute)},
		{"@every 10m", 6, t0.Add(32 * time.Minute)},
		{"@hourly", 30, t0.Add(6 * time.Hour)}, // capped
		{"TZ=UTC 0 6 * * *", 0, time.Date(2026, 3, 5, 6, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		if got := NextRun(mustSchedule(t, tt.spec), t0, tt.failures); !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("NextRun(%q, %d failures) = %v, want %v UTC", tt.spec, tt.failures, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 0}, {1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute},
		{9, 256 * time.Minute}, {10, 6 * time.Hour}, {64, 6 * time.Hour}, {1 << 30, 6 * time.Hour},
	}
	for _, tt := range tests {
		if got := Backoff(tt.n); got != tt.want {
			t.Errorf("Backoff(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestFirstTick(t *testing.T) {
	sched := mustSchedule(t, "@every 10m")
	tests := []struct {
		name  string
		first time.Time
		want  []time.Time // successive Next results, each fed the previous one
	}{
		{"start-up poll", t0, []time.Time{t0, t0.Add(10 * time.Minute), t0.Add(20 * time.Minute)}},
		{"stored next run", t0.Add(3 * time.Minute), []time.Time{t0.Add(3 * time.Minute), t0.Add(13 * time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &firstTick{first: tt.first, Schedule: sched}
			at := t0
			for i, want := range tt.want {
				at = s.Next(at)
				if !at.Equal(want) {
					t.Errorf("Next #%d = %v, want %v", i, at, want)
				}
			}
		})
	}
}

func TestScheduleSpec(t *testing.T) {
	p := NewPoller(nil, nil)
	if _, err := p.schedule(wiredesk.Source{Name: "x", Schedule: "every day"}); err == nil {
		t.Error("invalid schedule accepted")
	}
	p.DefaultSchedule = "@every 5m"
	s, err := p.schedule(wiredesk.Source{Name: "x"})
	if err != nil || !s.Next(t0).Equal(t0.Add(5*time.Minute)) {
		t.Errorf("default schedule: %v, %v", s, err)
	}
}

// TestPushedNextRunStaysScheduled: a pushed source's stored NextRun is
// its schedule's (or backoff's), not the safety net's: the push can end at
// any time (lease lapsed, hub gone, a restart without public_url), and the
// source must then be polled as any other, at once.
func TestPushedNextRunStaysScheduled(t *testing.T) {
	pushed := true
	p := NewPoller(nil, nil)
	p.DefaultSchedule = "*/15 * * * *"
	p.PushFallback = 6 * time.Hour
	p.Pushed = func(string) bool { return pushed }
	src := wiredesk.Source{Name: "pushy"}
	for _, tc := range []struct {
		name string
		res  polled
		err  error
		due  time.Time // the first tick due once the push has ended
	}{
		{"ok", polled{resp: response{status: 200}}, nil, time.Date(2026, 3, 4, 12, 15, 0, 0, time.UTC)},
		{"failed", polled{resp: response{status: 503}}, errors.New("fetch: 503"), time.Date(2026, 3, 4, 12, 15, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pushed = true
			st := p.nextState(src, wiredesk.SourceState{}, tc.res, tc.err, t0, t0.Add(3*time.Second))
			if p.due(st, tc.due) {
				t.Errorf("due at %v while pushed; the safety net should hold it", tc.due)
			}
			pushed = false
			if !st.NextRun.Equal(tc.due) || !p.due(st, tc.due) {
				t.Errorf("next run %v (%s), due at %v after the push ended: %v; want the schedule's tick",
					st.NextRun, st.NextReason, tc.due, p.due(st, tc.due))
			}
		})
	}
}
