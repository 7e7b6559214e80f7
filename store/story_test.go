package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

// seedStories stores six stories, s0 (oldest) … s5 (newest). Stories with
// an even number also ran in "ani" (published a minute later than pti);
// the others ran in "pti" only.
func seedStories(t *testing.T, db *DB) {
	t.Helper()
	var pti, ani []wiredesk.Item
	for i := range 6 {
		p := item("pti", fmt.Sprintf("s%d", i), i*10)
		p.CanonicalURL = fmt.Sprintf("https://wire.example/s%d", i)
		pti = append(pti, p)
		if i%2 == 0 {
			a := item("ani", fmt.Sprintf("a%d", i), i*10+1)
			a.CanonicalURL = p.CanonicalURL
			ani = append(ani, a)
		}
	}
	mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: pti})
	mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: ani})
}

func primaryGUIDs(stories []wiredesk.Story) []string {
	var out []string
	for _, s := range stories {
		out = append(out, s.Primary.GUID)
	}
	return out
}

func TestStories(t *testing.T) {
	db, _ := openTest(t)
	seedStories(t, db)

	tests := []struct {
		name   string
		filter wiredesk.StoryFilter
		want   []string
	}{
		{"all newest first", wiredesk.StoryFilter{}, []string{"s5", "s4", "s3", "s2", "s1", "s0"}},
		{"limit", wiredesk.StoryFilter{Limit: 2}, []string{"s5", "s4"}},
		{"limit and offset", wiredesk.StoryFilter{Limit: 2, Offset: 2}, []string{"s3", "s2"}},
		{"offset past the end", wiredesk.StoryFilter{Offset: 10}, nil},
		{"by source", wiredesk.StoryFilter{Sources: []string{"ani"}}, []string{"s4", "s2", "s0"}},
		{"by source, paged", wiredesk.StoryFilter{Sources: []string{"ani"}, Limit: 1, Offset: 1}, []string{"s2"}},
		{"unknown source", wiredesk.StoryFilter{Sources: []string{"nobody"}}, nil},
		{"empty non-nil selects nothing", wiredesk.StoryFilter{Sources: []string{}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := primaryGUIDs(mustStories(t, db, tt.filter))
			if !slices.Equal(got, tt.want) {
				t.Errorf("primaries = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("copies, earliest first, primary included", func(t *testing.T) {
		stories := mustStories(t, db, wiredesk.StoryFilter{Sources: []string{"ani"}, Limit: 1})
		if len(stories) != 1 {
			t.Fatalf("got %d stories, want 1", len(stories))
		}
		s := stories[0]
		if len(s.Copies) != 2 || s.Copies[0].GUID != "s4" || s.Copies[1].GUID != "a4" {
			t.Fatalf("copies = %+v, want s4 then a4", s.Copies)
		}
		c := s.Copies[1]
		if c.Source != "ani" || c.URL != "https://ani.example/a4" || c.Title != "Title a4" ||
			!c.Published.Equal(t0.Add(41*time.Minute)) || c.Primary || c.StoryID != s.ID {
			t.Errorf("copy = %+v, want ani's a4, not primary, in story %d", c, s.ID)
		}
		if !s.Copies[0].Primary || s.Primary.ID != s.Copies[0].ID || !s.Published.Equal(t0.Add(40*time.Minute)) {
			t.Errorf("primary = %+v published %v, want s4 at +40m", s.Primary, s.Published)
		}
	})
}

func TestItems(t *testing.T) {
	db, _ := openTest(t)
	seedStories(t, db)
	var guids []string
	items := mustItems(t, db, wiredesk.ItemFilter{})
	for _, it := range items {
		guids = append(guids, it.GUID)
		if it.StoryID == 0 {
			t.Errorf("item %s has no story", it.GUID)
		}
		if it.Primary != (it.Source == "pti") {
			t.Errorf("item %s/%s primary = %v", it.Source, it.GUID, it.Primary)
		}
	}
	want := []string{"s5", "a4", "s4", "s3", "a2", "s2", "s1", "a0", "s0"}
	if !slices.Equal(guids, want) {
		t.Errorf("order = %v, want %v", guids, want)
	}

	got := mustItems(t, db, wiredesk.ItemFilter{Sources: []string{"ani"}, Limit: 2})
	if len(got) != 2 || got[0].GUID != "a4" || got[1].GUID != "a2" {
		t.Errorf("ani limit 2 = %+v, want a4, a2", got)
	}
	if got := mustItems(t, db, wiredesk.ItemFilter{Sources: []string{}}); len(got) != 0 {
		t.Errorf("empty non-nil Sources returned %d items", len(got))
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	db, clock := openTest(t)
	// Day 0: three stories, one with two copies.
	old1, old2, old3 := item("pti", "old1", 0), item("pti", "old2", 1), item("pti", "old3", 2)
	copy1 := item("ani", "copy1", 3)
	old1.CanonicalURL, copy1.CanonicalURL = "https://w/1", "https://w/1"
	mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{old1, old2, old3}})
	mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{copy1}})
	ids := storyIDs(t, db)

	// Day 10: old3 is still in pti's feed (seen again), a new item arrives;
	// copy1 has left ani's feed.
	clock.now = t0.Add(10 * 24 * time.Hour)
	mustSave(t, db, wiredesk.FetchResult{Source: "pti", State: okState("pti", `"e"`),
		Items: []wiredesk.Item{old3, item("pti", "fresh", 60*24*10)}})
	mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{item("ani", "afresh", 60*24*10)}})

	// Prune what was not seen for 5 days, but old2's story is on a topic feed.
	n, err := db.Prune(ctx, t0.Add(5*24*time.Hour), []int64{ids["pti/old2"]})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("pruned %d items, want 2 (old1 and its copy)", n)
	}
	var left []string
	for _, it := range mustItems(t, db, wiredesk.ItemFilter{}) {
		left = append(left, it.GUID)
	}
	slices.Sort(left)
	if want := []string{"afresh", "fresh", "old2", "old3"}; !slices.Equal(left, want) {
		t.Errorf("items left = %v, want %v", left, want)
	}
	if n := len(mustStories(t, db, wiredesk.StoryFilter{})); n != 4 {
		t.Errorf("stories left = %d, want 4", n)
	}
	if st, _ := db.SourceStates(ctx); len(st) != 2 {
		t.Errorf("sources left = %d, want 2: prune never deletes sources", len(st))
	}

	t.Run("pruned item comes back as new", func(t *testing.T) {
		stats := mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{copy1}})
		if stats.New != 1 {
			t.Errorf("stats = %+v, want 1 new", stats)
		}
	})

	t.Run("nothing old enough", func(t *testing.T) {
		n, err := db.Prune(ctx, t0, nil)
		if err != nil || n != 0 {
			t.Errorf("Prune = %d, %v; want 0, nil", n, err)
		}
	})
}

// TestPruneKeepsLatestSnapshot checks that a quiet feed answering 304 for
// longer than the retention keeps the items it still carries, while an item
// that left the feed is pruned.
func TestPruneKeepsLatestSnapshot(t *testing.T) {
	ctx := context.Background()
	db, clock := openTest(t)
	live, gone := item("pti", "live", 0), item("pti", "gone", 1)
	mustSave(t, db, wiredesk.FetchResult{Source: "pti", State: okState("pti", `"1"`),
		Items: []wiredesk.Item{live, gone}})
	// Day 1: the last 200; "gone" has dropped out of the feed.
	clock.now = t0.Add(24 * time.Hour)
	mustSave(t, db, wiredesk.FetchResult{Source: "pti", State: okState("pti", `"2"`),
		Items: []wiredesk.Item{live}})
	// Days 2 to 41: 304 every day, which saves the state only.
	for day := 2; day <= 41; day++ {
		clock.now = t0.Add(time.Duration(day) * 24 * time.Hour)
		st := okState("pti", `"2"`)
		st.Status, st.HTTPStatus, st.LastFetch = wiredesk.StatusNotModified, 304, clock.now
		mustSave(t, db, wiredesk.FetchResult{Source: "pti", State: st})
	}

	n, err := db.Prune(ctx, clock.now.Add(-30*24*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	items := mustItems(t, db, wiredesk.ItemFilter{})
	if n != 1 || len(items) != 1 || items[0].GUID != "live" {
		t.Fatalf("pruned %d, left %+v; want gone pruned, live kept", n, items)
	}

	// The next 200 finds live stored: no duplicate story.
	clock.now = clock.now.Add(time.Hour)
	stats := mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{live}})
	if stats != (wiredesk.IngestStats{Unchanged: 1}) {
		t.Errorf("stats after prune = %+v, want 1 unchanged", stats)
	}
	if got := mustStories(t, db, wiredesk.StoryFilter{}); len(got) != 1 || got[0].ID != items[0].StoryID {
		t.Errorf("stories = %+v, want only live's story %d", got, items[0].StoryID)
	}
}

// TestReadDuringWrite checks that a reader is not blocked by an open write
// transaction and sees the last committed snapshot (WAL).
func TestReadDuringWrite(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	seedStories(t, db)

	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var items []wiredesk.Item
	for i := range 500 {
		items = append(items, item("big", fmt.Sprintf("b%d", i), 100+i))
	}
	if _, err := saveFetch(ctx, tx, db.ws, "big", wiredesk.FetchResult{Source: "big", Items: items}, t0, db.folding(t0)); err != nil {
		t.Fatal(err)
	}

	// The write transaction holds the lock; readers run concurrently and
	// must finish well before busy_timeout would let them through.
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for range 10 {
				s, err := db.Stories(rctx, wiredesk.StoryFilter{Limit: 3})
				if err != nil {
					errs <- err
					return
				}
				if len(s) != 3 || s[0].Primary.GUID != "s5" {
					errs <- fmt.Errorf("reader saw %v, want the committed s5 first", primaryGUIDs(s))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := mustStories(t, db, wiredesk.StoryFilter{Limit: 1}); got[0].Primary.Source != "big" {
		t.Errorf("after commit newest = %s, want a big item", got[0].Primary.Source)
	}
}

func BenchmarkSaveFetch(b *testing.B) {
	ctx := context.Background()
	db, clock := openTest(b)
	const perFetch = 100
	var fetch int
	for b.Loop() {
		items := make([]wiredesk.Item, perFetch)
		for i := range items {
			items[i] = item("bench", fmt.Sprintf("f%d-%d", fetch, i), fetch*perFetch+i)
			// Half repeat the previous fetch's items under a new guid, so
			// the canonical-URL lookup finds a story.
			items[i].CanonicalURL = fmt.Sprintf("https://w/%d-%d", fetch/2, i)
		}
		clock.now = clock.now.Add(time.Second)
		if _, err := db.SaveFetch(ctx, wiredesk.FetchResult{Source: "bench", Items: items,
			State: okState("bench", fmt.Sprint(fetch))}); err != nil {
			b.Fatal(err)
		}
		fetch++
	}
	b.ReportMetric(float64(fetch*perFetch)/b.Elapsed().Seconds(), "items/s")
}

// TestStoriesSeekMatchesWalk checks that a topic read source by source
// (story_sources) gives the same pages as the walk of every story newest
// first, on a store where stories have copies from several sources, gain
// copies that change their primary and published time, have items updated
// and pruned; and that the triggers keep story_sources equal to what the
// items say.
func TestStoriesSeekMatchesWalk(t *testing.T) {
	ctx := context.Background()
	db, clock := openTest(t)
	names := []string{"a", "b", "c", "d", "e", "f"}
	var srcs []wiredesk.Source
	for i, n := range names {
		srcs = append(srcs, wiredesk.Source{Name: n, FeedURL: "https://" + n + ".example/feed", Priority: i % 3})
	}
	if err := db.SyncSources(ctx, srcs); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 12 {
		clock.now = t0.Add(time.Duration(round) * time.Hour)
		for _, n := range names {
			var items []wiredesk.Item
			for k := range rng.IntN(12) {
				// A shared content hash folds copies across sources, some
				// published earlier than the story's primary.
				it := item(n, fmt.Sprintf("%s-%d-%d", n, round, k), rng.IntN(2000)-1000)
				it.ContentHash = fmt.Sprintf("story-%d", rng.IntN(150))
				items = append(items, it)
			}
			if round > 0 && rng.IntN(3) == 0 {
				// An update moves an earlier item's date, and so maybe its
				// story's.
				it := item(n, fmt.Sprintf("%s-%d-0", n, rng.IntN(round)), rng.IntN(2000)-1000)
				it.Summary = "revised"
				items = append(items, it)
			}
			mustSave(t, db, wiredesk.FetchResult{Source: n, Items: items})
		}
		if round == 8 {
			if _, err := db.Prune(ctx, t0.Add(6*time.Hour), nil); err != nil {
				t.Fatal(err)
			}
		}
	}

	var drift int
	if err := db.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM (SELECT source_id, published, story_id FROM story_sources
			EXCEPT SELECT DISTINCT i.source_id, st.published, st.id FROM items i JOIN stories st ON st.id = i.story_id)) +
		(SELECT COUNT(*) FROM (SELECT DISTINCT i.source_id, st.published, st.id FROM items i JOIN stories st ON st.id = i.story_id
			EXCEPT SELECT source_id, published, story_id FROM story_sources))`).Scan(&drift); err != nil {
		t.Fatal(err)
	}
	if drift != 0 {
		t.Errorf("story_sources differs from the items in %d rows", drift)
	}

	ids := func(q string, args []any) []int64 {
		t.Helper()
		stories, err := db.queryStories(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, s := range stories {
			out = append(out, s.ID)
		}
		return out
	}
	compared := 0
	for _, sources := range [][]string{{"a"}, {"b", "e"}, {"a", "c", "f"}, names, {"a", "nonesuch"}} {
		for _, limit := range []int{1, 7, 40, 500} {
			for _, offset := range []int{0, 3, 60} {
				f := wiredesk.StoryFilter{Sources: sources, Limit: limit, Offset: offset}
				walkQ, walkArgs := storiesWalkQuery(f)
				walk := ids(walkQ, walkArgs)
				// k0 1 reads one story of each source first, which is
				// rarely enough: the second read must be taken.
				for _, k0 := range []int{0, 1} {
					stories, err := db.seekStories(ctx, f, k0)
					if err != nil {
						t.Fatal(err)
					}
					var seek []int64
					for _, s := range stories {
						seek = append(seek, s.ID)
					}
					if !slices.Equal(seek, walk) {
						t.Errorf("%+v, first read %d each: by source %v, walked %v", f, k0, seek, walk)
					}
				}
				compared += len(walk)
			}
		}
	}
	if compared < 1000 {
		t.Errorf("only %d stories compared; the store is too thin to test anything", compared)
	}
}

// TestStorySourcesMigration checks that migration 0007 fills story_sources
// from the stories and items already stored.
func TestStorySourcesMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	withKey := func(it wiredesk.Item) wiredesk.Item { it.ContentHash = "shared"; return it }
	mustSave(t, db, wiredesk.FetchResult{Source: "pti", Items: []wiredesk.Item{withKey(item("pti", "p1", 10)), item("pti", "p2", 20)}})
	mustSave(t, db, wiredesk.FetchResult{Source: "ani", Items: []wiredesk.Item{withKey(item("ani", "a1", 5))}})
	// Back to the schema before 0007, data kept.
	if _, err := db.w.ExecContext(ctx, `DROP TABLE item_docs;
		DROP TRIGGER story_sources_item_insert; DROP TRIGGER story_sources_item_delete;
		DROP TRIGGER story_sources_story_published; DROP TABLE story_sources; PRAGMA user_version = 6`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.r.QueryContext(ctx, `SELECT s.name, ss.published FROM story_sources ss
		JOIN sources s ON s.id = ss.source_id ORDER BY s.name, ss.published`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name string
		var pub time.Time
		if err := rows.Scan(&name, timeCol{&pub}); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %v", name, pub.Sub(t0)))
	}
	// The shared story is published at its primary's time, a1's 5m, for
	// both sources.
	want := []string{"ani 5m0s", "pti 5m0s", "pti 20m0s"}
	if !slices.Equal(got, want) {
		t.Errorf("story_sources after migration = %v, want %v", got, want)
	}
}

// TestStoriesExtremePages checks that limits and offsets too large to add
// up do not take the seek (whose bounds would overflow) and answer as the
// walk does.
func TestStoriesExtremePages(t *testing.T) {
	db, _ := openTest(t)
	mustSave(t, db, wiredesk.FetchResult{Source: "a", Items: []wiredesk.Item{item("a", "x", 1), item("a", "y", 2)}})
	for _, tt := range []struct {
		f    wiredesk.StoryFilter
		want int
	}{
		{wiredesk.StoryFilter{Sources: []string{"a"}, Limit: 10, Offset: math.MaxInt}, 0},
		{wiredesk.StoryFilter{Sources: []string{"a"}, Limit: math.MaxInt, Offset: 1}, 1},
		{wiredesk.StoryFilter{Sources: []string{"a"}, Limit: math.MaxInt / 2, Offset: math.MaxInt / 2}, 0},
	} {
		if seeks(tt.f) {
			t.Errorf("%+v seeks", tt.f)
		}
		got, err := db.Stories(context.Background(), tt.f)
		if err != nil || len(got) != tt.want {
			t.Errorf("Stories(%+v) = %d stories, %v; want %d", tt.f, len(got), err, tt.want)
		}
	}
}
