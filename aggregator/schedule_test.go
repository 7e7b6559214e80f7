package aggregator

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/wiredesk/wiredesk"
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

func TestFirstRunAndDue(t *testing.T) {
	tests := []struct {
		name      string
		nextRun   time.Time
		wantFirst time.Time
		wantDue   bool
	}{
		{"never polled", time.Time{}, t0, true},
		{"stored next run passed", t0.Add(-time.Hour), t0, true},
		{"stored next run now", t0, t0, true},
		{"stored next run ahead", t0.Add(10 * time.Minute), t0.Add(10 * time.Minute), false},
		{"tick within slack of next run", t0.Add(time.Second), t0.Add(time.Second), true},
		{"inside backoff window", t0.Add(3 * time.Hour), t0.Add(3 * time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := wiredesk.SourceState{NextRun: tt.nextRun}
			if got := FirstRun(st, t0); !got.Equal(tt.wantFirst) {
				t.Errorf("FirstRun = %v, want %v", got, tt.wantFirst)
			}
			if got := Due(st, t0); got != tt.wantDue {
				t.Errorf("Due = %v, want %v", got, tt.wantDue)
			}
		})
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
