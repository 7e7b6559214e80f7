package publish

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"github.com/wiredesk/wiredesk"
)

// sliceFinder is a StoryFinder over an in-memory slice, honouring the
// StoryFilter contract the store implements: newest first by published
// time, Sources nil = all and empty = none, Limit and Offset for paging.
type sliceFinder struct {
	stories []wiredesk.Story
	err     error
	calls   atomic.Int64
	delay   time.Duration // each call takes at least this long, like a real query
}

func (f *sliceFinder) Stories(ctx context.Context, filter wiredesk.StoryFilter) ([]wiredesk.Story, error) {
	f.calls.Add(1)
	time.Sleep(f.delay)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.err != nil {
		return nil, f.err
	}
	var out []wiredesk.Story
	for _, st := range f.stories {
		if len(st.Sources()) < filter.MinSources {
			continue
		}
		if filter.Sources == nil || slices.ContainsFunc(st.Sources(), func(s string) bool {
			return slices.Contains(filter.Sources, s)
		}) {
			out = append(out, st)
		}
	}
	slices.SortStableFunc(out, func(a, b wiredesk.Story) int {
		return cmp.Compare(b.Published.UnixNano(), a.Published.UnixNano())
	})
	if filter.Offset >= len(out) {
		return nil, nil
	}
	out = out[filter.Offset:]
	if filter.Limit > 0 && filter.Limit < len(out) {
		out = out[:filter.Limit]
	}
	return out, nil
}

var errDatabase = errors.New("database is locked: /var/lib/wiredesk/secret.db")

// fixedNow is the test clock.
var fixedNow = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func at(hour, minute int) time.Time {
	return time.Date(2026, 3, 1, hour, minute, 0, 0, time.UTC)
}

func testSources() []wiredesk.Source {
	return []wiredesk.Source{
		{Name: "Xinhua", FeedURL: "https://xinhua.example/rss.xml", Tags: []string{"world"}},
		{Name: "PTI", FeedURL: "https://pti.example/feed", Tags: []string{"world", "india"}},
		{Name: "AP", FeedURL: "https://ap.example/world.atom", Tags: []string{"world"}},
		{Name: "TechWire", FeedURL: "https://techwire.example/feed.json", Tags: []string{"tech"}},
	}
}

func testTopics() []wiredesk.Topic {
	return []wiredesk.Topic{
		{Name: "world", Title: "World news", Description: "Wire copy from around the world", Tags: []string{"world"}, Limit: 10},
		{Name: "tech", Title: "Tech & chips", Sources: []string{"TechWire"}, Exclude: []string{"crypto"}, Limit: 10},
		{Name: "empty", Title: "Nothing here", Tags: []string{"no-such-tag"}, Limit: 10},
	}
}

func item(id int64, source, guid, url, title string, published time.Time) wiredesk.Item {
	return wiredesk.Item{
		ID: id, Source: source, GUID: guid, URL: url, Title: title,
		Published: published, Updated: published, FirstSeen: published,
	}
}

// testStories is a fixed archive: a wire story run by three outlets, a
// title with markup and entities, an untitled story, and tech stories one
// of which the tech topic excludes.
func testStories() []wiredesk.Story {
	quake := item(1, "Xinhua", "xh-1", "https://xinhua.example/2026/quake.html", "Earthquake strikes coastal region", at(8, 0))
	quake.Summary = `<p>A strong earthquake hit the <a href="/region/coast">coast</a> on Sunday.</p>`
	quake.Content = `<p>A strong earthquake hit the coast on Sunday.</p><p><img src="img/map.png" alt="map"></p>`
	quakePTI := item(2, "PTI", "pti-9", "https://pti.example/quake", "Earthquake strikes coastal region", at(8, 5))
	quakeAP := item(3, "AP", "ap-4", "https://ap.example/quake", "Quake strikes coast", at(8, 30))
	budget := item(4, "PTI", "pti-10", "https://pti.example/budget", "Budget &amp; tax <b>plans</b>\n  unveiled", at(9, 0))
	budget.Summary = "The finance minister presented the budget."
	untitled := item(5, "AP", "ap-5", "https://ap.example/untitled", "", at(7, 0))
	untitled.Summary = "<p>Officials said on Sunday that the harbour would reopen after repairs to the breakwater were completed ahead of schedule.</p>"
	chip := item(6, "TechWire", "tw-1", "https://techwire.example/chips", "Chip maker opens new fab", at(10, 0))
	chip.Content = "<p>The plant will employ 2,000 people.</p>"
	coin := item(7, "TechWire", "tw-2", "https://techwire.example/coin", "Crypto exchange halts withdrawals", at(11, 0))
	coin.Summary = "Withdrawals were halted."
	return []wiredesk.Story{
		{ID: 10, GUID: "urn:uuid:00000000-0000-4000-8000-000000000010", Primary: quake,
			Copies: []wiredesk.Item{quake, quakePTI, quakeAP}, Published: at(8, 0), Updated: at(8, 30)},
		{ID: 11, GUID: "urn:uuid:00000000-0000-4000-8000-000000000011", Primary: budget,
			Copies: []wiredesk.Item{budget}, Published: at(9, 0), Updated: at(9, 0)},
		{ID: 12, GUID: "urn:uuid:00000000-0000-4000-8000-000000000012", Primary: untitled,
			Copies: []wiredesk.Item{untitled}, Published: at(7, 0), Updated: at(7, 0)},
		{ID: 13, GUID: "urn:uuid:00000000-0000-4000-8000-000000000013", Primary: chip,
			Copies: []wiredesk.Item{chip}, Published: at(10, 0), Updated: at(10, 15)},
		{ID: 14, GUID: "urn:uuid:00000000-0000-4000-8000-000000000014", Primary: coin,
			Copies: []wiredesk.Item{coin}, Published: at(11, 0), Updated: at(11, 0)},
	}
}

// newTestServer returns a Server over finder with the fixed topics,
// sources and clock.
func newTestServer(finder StoryFinder) *Server {
	s := NewServer(finder, testTopics(), testSources(), "https://news.example/")
	s.Now = func() time.Time { return fixedNow }
	return s
}

// setTopics replaces s's topics, keeping its sources.
func setTopics(s *Server, topics ...wiredesk.Topic) {
	s.SetConfig(topics, s.config().sources)
}

// addSources adds sources to s's configuration.
func addSources(s *Server, sources ...wiredesk.Source) {
	c := s.config()
	s.SetConfig(c.topics, append(slices.Clone(c.sources), sources...))
}
