package aggregator

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

func TestScanHints(t *testing.T) {
	const head = `<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>t</title>`
	for _, tc := range []struct {
		name, doc string
		ttl       time.Duration
		skip      string
	}{
		{"ttl", head + `<ttl>90</ttl><item><ttl>1</ttl></item></channel></rss>`, 90 * time.Minute, ""},
		{"ttl capped", head + `<ttl>100000</ttl></channel></rss>`, maxHint, ""},
		{"sy hourly/2", head + `<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency></channel></rss>`, 30 * time.Minute, ""},
		{"sy daily", head + `<sy:updatePeriod> Daily </sy:updatePeriod></channel></rss>`, 24 * time.Hour, ""},
		{"ttl wins over sy", head + `<sy:updatePeriod>daily</sy:updatePeriod><ttl>15</ttl></channel></rss>`, 15 * time.Minute, ""},
		{"skip", head + `<skipHours><hour>0</hour><hour>24</hour><hour>3</hour><hour>x</hour></skipHours><skipDays><day>Sunday</day><day>saturday</day><day>Caturday</day></skipDays></channel></rss>`, 0, "h:0,3;d:0,6"},
		{"after first item: not read", head + `<item><title>a</title></item><ttl>60</ttl></channel></rss>`, 0, ""},
		{"atom", `<feed xmlns="http://www.w3.org/2005/Atom"><title>a</title><entry/></feed>`, 0, ""},
		{"garbage", `{"version":"https://jsonfeed.org/version/1.1"}`, 0, ""},
		{"negative ttl", head + `<ttl>-5</ttl></channel></rss>`, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := scanHints([]byte(tc.doc))
			if h.ttl != tc.ttl || h.skip.String() != tc.skip {
				t.Errorf("got ttl %v skip %q, want %v %q", h.ttl, h.skip.String(), tc.ttl, tc.skip)
			}
			if back := parseSkip(tc.skip).String(); back != tc.skip {
				t.Errorf("skip round trip: %q -> %q", tc.skip, back)
			}
		})
	}
}

func TestFreshFor(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"max-age", http.Header{"Cache-Control": {"public, max-age=600"}}, 10 * time.Minute},
		{"max-age wins over Expires", http.Header{"Cache-Control": {"max-age=60"}, "Expires": {"Wed, 04 Mar 2026 14:00:00 GMT"}}, time.Minute},
		{"no-cache", http.Header{"Cache-Control": {"no-cache, max-age=600"}}, 0},
		{"Expires minus Date", http.Header{"Date": {"Wed, 04 Mar 2026 11:00:00 GMT"}, "Expires": {"Wed, 04 Mar 2026 11:30:00 GMT"}}, 30 * time.Minute},
		{"Expires minus now", http.Header{"Expires": {"Wed, 04 Mar 2026 12:20:00 GMT"}}, 20 * time.Minute},
		{"Expires past", http.Header{"Expires": {"Wed, 04 Mar 2026 10:00:00 GMT"}}, 0},
		{"Expires garbage", http.Header{"Expires": {"0"}}, 0},
		{"capped", http.Header{"Cache-Control": {"max-age=31536000"}}, maxHint},
		{"none", http.Header{}, 0},
	} {
		if got := freshFor(tc.header, now); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSkipAfter(t *testing.T) {
	sat := time.Date(2026, 3, 7, 22, 30, 0, 0, time.UTC) // a Saturday
	for _, tc := range []struct {
		rules string
		in    time.Time
		want  time.Time
	}{
		{"", sat, sat},
		{"h:22,23;d:", sat, time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)},
		{"h:22,23;d:0", sat, time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)}, // Sunday skipped too
		{"h:1;d:", sat, sat}, // not in a skipped hour
		{"h:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;d:", sat, sat}, // skips everything: ignored
	} {
		if got := parseSkip(tc.rules).after(sat); !got.Equal(tc.want) {
			t.Errorf("%q after %v: got %v, want %v", tc.rules, tc.in, got, tc.want)
		}
	}
}

// TestJitter spreads 500 sources sharing "*/15 * * * *" over the jitter
// window, the same way on every run.
// TestJitter: sources sharing a schedule tick in different seconds, each
// at a phase of its own that does not depend on when it was started, for
// cron specs, @every and adaptive mode's checks alike (shifting an @every
// schedule back and forth would cancel out).
func TestJitter(t *testing.T) {
	start := time.Date(2026, 3, 4, 12, 1, 0, 0, time.UTC)
	tests := []struct {
		name     string
		schedule string
		adaptive bool
		period   time.Duration // between a source's ticks
		slot     time.Time     // the unjittered tick after start
	}{
		{"cron", "*/15 * * * *", false, 15 * time.Minute, time.Date(2026, 3, 4, 12, 15, 0, 0, time.UTC)},
		{"every", "@every 15m", false, 15 * time.Minute, start.Truncate(15 * time.Minute).Add(15 * time.Minute)},
		// min_interval 5m: adaptive mode checks every 2m30s.
		{"adaptive", "*/15 * * * *", true, 150 * time.Second, start.Truncate(150 * time.Second).Add(150 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Poller{Jitter: time.Minute, DefaultSchedule: tt.schedule, Adaptive: tt.adaptive, MinInterval: 5 * time.Minute}
			seconds := map[int64]bool{}
			for i := range 500 {
				src := srcNamed(i)
				s, err := p.schedule(src)
				if err != nil {
					t.Fatal(err)
				}
				next := s.Next(start)
				if next.Before(tt.slot) || !next.Before(tt.slot.Add(time.Minute)) {
					t.Fatalf("%s: next %v, want within a minute after %v", src.Name, next, tt.slot)
				}
				// Started (or last polled) a little later, same phase.
				if later := s.Next(start.Add(5 * time.Second)); !later.Equal(next) {
					t.Fatalf("%s: next after start+5s is %v, want %v", src.Name, later, next)
				}
				// Polled off its phase just before its tick (at start-up,
				// say): not again seconds later, but a period on.
				if tt.name != "cron" {
					if after := s.Next(next.Add(-10 * time.Second)); !after.Equal(next.Add(tt.period)) {
						t.Fatalf("%s: next after a poll 10s before its tick %v is %v, want a period later", src.Name, next, after)
					}
				}
				if again := s.Next(next); again.Sub(next) != tt.period {
					t.Fatalf("%s: tick after %v is %v, want one period later", src.Name, next, again)
				}
				if again, _ := p.schedule(src); again.Next(start) != next {
					t.Fatalf("%s: jitter not stable", src.Name)
				}
				seconds[next.Unix()] = true
			}
			if len(seconds) < 45 {
				t.Errorf("500 sources fire in %d distinct seconds, want them spread over most of 60", len(seconds))
			}
		})
	}
	p := &Poller{DefaultSchedule: "*/15 * * * *"}
	if s, _ := p.schedule(srcNamed(1)); !s.Next(start).Equal(time.Date(2026, 3, 4, 12, 15, 0, 0, time.UTC)) {
		t.Errorf("jitter 0: got %v", s.Next(start))
	}
	// Without jitter @every keeps counting from when it is asked.
	p.DefaultSchedule = "@every 15m"
	if s, _ := p.schedule(srcNamed(1)); !s.Next(start).Equal(start.Add(15 * time.Minute)) {
		t.Errorf("jitter 0, @every 15m: got %v", s.Next(start))
	}
}

func srcNamed(i int) wiredesk.Source {
	return wiredesk.Source{Name: fmt.Sprintf("source-%03d", i)}
}

func TestWebSubDiscovery(t *testing.T) {
	for _, tc := range []struct {
		name, doc, link string
		hub, self       string
	}{
		{"atom", `<feed xmlns="http://www.w3.org/2005/Atom"><link rel="self" href="/feed.atom"/><link rel="hub" href="https://hub.example/"/><entry><link rel="hub" href="https://wrong.example/"/></entry></feed>`, "",
			"https://hub.example/", "https://pub.example/feed.atom"},
		{"rss atom:link", `<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><atom:link rel="hub" href="https://hub.example/h"/><atom:link rel="self" href="https://pub.example/rss"/></channel></rss>`, "",
			"https://hub.example/h", "https://pub.example/rss"},
		{"Link header first", `<feed xmlns="http://www.w3.org/2005/Atom"><link rel="hub" href="https://doc.example/"/></feed>`, `<https://header.example/hub>; rel="hub", </self>; rel="self"`,
			"https://header.example/hub", "https://pub.example/self"},
		{"not http", `<feed xmlns="http://www.w3.org/2005/Atom"><link rel="hub" href="javascript:alert(1)"/></feed>`, "", "", ""},
		{"none", `<rss version="2.0"><channel><title>x</title></channel></rss>`, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.link != "" {
				h.Set("Link", tc.link)
			}
			resp := response{finalURL: "https://pub.example/feed"}
			resp.hub, resp.self = linkHeader(h)
			hub, self := webSubLinks(resp, scanHints([]byte(tc.doc)))
			if hub != tc.hub || self != tc.self {
				t.Errorf("got hub %q self %q, want %q %q", hub, self, tc.hub, tc.self)
			}
		})
	}
}

// TestPushedDue: a source whose content arrives by push is polled only
// every PushFallback; others, and every source without the hook, as usual.
func TestPushedDue(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	p := &Poller{PushFallback: 6 * time.Hour, Pushed: func(s string) bool { return s == "pushy" }}
	recent := wiredesk.SourceState{Source: "pushy", LastFetch: now.Add(-time.Hour)}
	old := wiredesk.SourceState{Source: "pushy", LastFetch: now.Add(-7 * time.Hour)}
	other := wiredesk.SourceState{Source: "plain", LastFetch: now.Add(-time.Hour)}
	if p.due(recent, now) || !p.due(old, now) || !p.due(other, now) {
		t.Errorf("due: recent %v old %v other %v; want false true true", p.due(recent, now), p.due(old, now), p.due(other, now))
	}
	if !(&Poller{}).due(recent, now) {
		t.Error("without the hook every tick is due")
	}
}

// TestAdaptSeed: adaptive mode starts a source from its schedule's
// period, whenever in that period its first poll happens to run.
func TestAdaptSeed(t *testing.T) {
	p := &Poller{MinInterval: time.Minute, MaxInterval: 48 * time.Hour}
	tests := []struct {
		schedule string
		start    time.Time
		want     time.Duration
	}{
		{"@daily", time.Date(2026, 3, 4, 23, 58, 0, 0, time.UTC), 24 * time.Hour},
		{"@daily", time.Date(2026, 3, 4, 0, 1, 0, 0, time.UTC), 24 * time.Hour},
		{"*/15 * * * *", time.Date(2026, 3, 4, 12, 5, 18, 0, time.UTC), 15 * time.Minute},
		{"@every 2h", time.Date(2026, 3, 4, 12, 5, 18, 0, time.UTC), 2 * time.Hour},
	}
	for _, tt := range tests {
		src := wiredesk.Source{Name: "s", Schedule: tt.schedule}
		if got := p.adapt(src, 0, tt.start, false); got != tt.want {
			t.Errorf("%s first polled at %v: interval %v, want %v", tt.schedule, tt.start.Format("15:04:05"), got, tt.want)
		}
	}
}

// TestSafetyNetView: the next poll shown for a pushed source is the tick
// at which the runner, ticking on its grid, first finds it due; other
// sources are shown as stored.
func TestSafetyNetView(t *testing.T) {
	for _, schedule := range []string{"@every 1h", "*/15 * * * *"} {
		p := &Poller{DefaultSchedule: schedule, Jitter: time.Minute, PushFallback: 6 * time.Hour,
			Pushed: func(s string) bool { return s != "plain" }}
		p.sources = []wiredesk.Source{{Name: "pushy"}, {Name: "plain"}}
		sched, err := p.schedule(wiredesk.Source{Name: "pushy"})
		if err != nil {
			t.Fatal(err)
		}
		// A poll that ended 3 s after it began, a minute before the hour:
		// six hours on, a tick is due within two minutes.
		last := time.Date(2026, 3, 4, 12, 59, 3, 0, time.UTC)
		stored := wiredesk.SourceState{Source: "pushy", Status: wiredesk.StatusOK, LastFetch: last,
			NextRun: sched.Next(last.Add(-3 * time.Second)), NextReason: "schedule"}
		shown := p.SafetyNetView(stored)
		if !p.due(stored, shown.NextRun) || shown.NextReason != "websub safety net 6h0m0s" {
			t.Errorf("%s: shown %v (%s): not due then", schedule, shown.NextRun, shown.NextReason)
		}
		// The runner's tick before the one shown.
		var before time.Time
		for tick := last; tick.Before(shown.NextRun); tick = sched.tick(tick) {
			before = tick
		}
		if p.due(stored, before) {
			t.Errorf("%s: shown %v, but already due at the tick before, %v", schedule, shown.NextRun, before)
		}
		plain := stored
		plain.Source = "plain"
		if got := p.SafetyNetView(plain); got != plain {
			t.Errorf("%s: a source not pushed is shown changed: %+v", schedule, got)
		}
	}
}

// TestSourceLookup: Source finds sources by name, and a SetSources is
// seen at once (its index is rebuilt).
func TestSourceLookup(t *testing.T) {
	p := NewPoller(nil, []wiredesk.Source{{Name: "a", FeedURL: "http://a.test/"}, {Name: "b", FeedURL: "http://b.test/"}})
	if s, ok := p.Source("b"); !ok || s.FeedURL != "http://b.test/" {
		t.Fatalf("Source(b) = %v, %v", s, ok)
	}
	if err := p.SetSources(t.Context(), []wiredesk.Source{{Name: "b", FeedURL: "http://b2.test/"}, {Name: "c"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Source("a"); ok {
		t.Error("a is still found after it left")
	}
	if s, ok := p.Source("b"); !ok || s.FeedURL != "http://b2.test/" {
		t.Errorf("Source(b) after SetSources = %v, %v; want the new URL", s, ok)
	}
	if _, ok := p.Source("c"); !ok {
		t.Error("c, added, is not found")
	}
}
