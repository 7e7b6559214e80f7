package aggregator_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/internal/feedtest"
	"github.com/wiredesk/wiredesk/store"
)

// nearFeeds serves testdata/near: one agency story, a republished copy
// (new headline, US spelling, a byline, ALSO READ, share prompt, a number
// in digits, last paragraph cut), a first-paragraph brief, and an
// independent report of the same meeting sharing names and a quote.
func nearFeeds(t *testing.T) (*feedtest.Server, map[string]wiredesk.Source) {
	t.Helper()
	srv := feedtest.New(t)
	sources := map[string]wiredesk.Source{}
	for name, file := range map[string]string{
		"agency": "agency.xml", "coast": "republisher.atom", "briefs": "brief.xml", "other": "independent.xml",
	} {
		body, err := os.ReadFile(filepath.Join("testdata", "near", file))
		if err != nil {
			t.Fatal(err)
		}
		srv.Set("/"+file, feedtest.Doc{Body: string(body)})
		sources[name] = wiredesk.Source{Name: name, FeedURL: srv.URL + "/" + file}
	}
	return srv, sources
}

func storyOf(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	items, err := db.Items(context.Background(), wiredesk.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, it := range items {
		out[it.Source] = it.StoryID
	}
	return out
}

func TestNearDuplicatesFold(t *testing.T) {
	_, src := nearFeeds(t)
	db := openStore(t)
	p := newPoller(db)
	ctx := context.Background()
	// The agency first; its copies and the independent report arrive
	// hours later, as they do.
	for _, name := range []string{"agency", "coast", "briefs", "other"} {
		if r, err := p.PollOnce(ctx, src[name]); err != nil || r.Err != nil || r.Stats.New != 1 {
			t.Fatalf("poll %s: %v %v %+v", name, err, r.Err, r.Stats)
		}
	}
	got := storyOf(t, db)
	if got["coast"] != got["agency"] || got["briefs"] != got["agency"] {
		t.Errorf("copies not folded into the agency's story: %v", got)
	}
	if got["other"] == got["agency"] {
		t.Errorf("an independent report of the same meeting was folded: %v", got)
	}

	t.Run("disabled", func(t *testing.T) {
		db := openStore(t)
		p := newPoller(db)
		p.Dedupe = false
		for _, name := range []string{"agency", "coast"} {
			if _, err := p.PollOnce(ctx, src[name]); err != nil {
				t.Fatal(err)
			}
		}
		if got := storyOf(t, db); got["coast"] == got["agency"] {
			t.Errorf("folded with Dedupe off: %v", got)
		}
	})
}

// The index is rebuilt from the stored fingerprints: a copy arriving after
// a restart still joins the story.
func TestNearDuplicateIndexSurvivesRestart(t *testing.T) {
	_, src := nearFeeds(t)
	path := filepath.Join(t.TempDir(), "wiredesk.db")
	ctx := context.Background()
	for i, name := range []string{"agency", "coast"} {
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		p := newPoller(db) // a new process: an empty index until loaded
		r, err := p.PollOnce(ctx, src[name])
		if err != nil || r.Err != nil {
			t.Fatalf("poll %d: %v %v", i, err, r.Err)
		}
		if i == 1 {
			if got := storyOf(t, db); got["coast"] != got["agency"] {
				t.Errorf("copy after restart started its own story: %v", got)
			}
		}
		db.Close()
	}
}

// Copies fetched at the same moment by two workers end up in one story:
// the decision runs inside the single writer.
func TestNearDuplicatesConcurrent(t *testing.T) {
	_, src := nearFeeds(t)
	for range 5 {
		db := openStore(t)
		p := newPoller(db)
		if _, err := p.PollAll(context.Background(), []wiredesk.Source{src["agency"], src["coast"], src["briefs"]}); err != nil {
			t.Fatal(err)
		}
		got := storyOf(t, db)
		if got["coast"] != got["agency"] || got["briefs"] != got["agency"] {
			t.Fatalf("concurrent copies in different stories: %v", got)
		}
	}
}

// TestNearIndexLoadsEveryBatch stores more items than one batch of the
// index load holds, restarts, and checks that copies of the first item
// and of the last still join their stories: the load fills the index on
// a goroutine of its own, in batches, and a lost batch, first or last,
// would start new stories.
func TestNearIndexLoadsEveryBatch(t *testing.T) {
	const n = 1100 // over one batch of 1,024
	rng := rand.New(rand.NewPCG(3, 5))
	word := func() string {
		const syllables = "ka lo mi nu pe ra si to vu we xa yo ze bi du fo gu"
		s := strings.Fields(syllables)
		return s[rng.IntN(len(s))] + s[rng.IntN(len(s))] + s[rng.IntN(len(s))]
	}
	texts := make([]string, n)
	for i := range texts {
		w := make([]string, 100)
		for j := range w {
			w[j] = word()
			if j%12 == 11 {
				w[j] += "."
			}
		}
		texts[i] = strings.Join(w, " ") + "."
	}
	// A copy drops the last sentence and adds a byline: not the same
	// text, so only the near-duplicate index can find its original.
	feed := func(title string, items map[int]string, copied bool) string {
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title>`, title)
		for _, i := range slices.Sorted(maps.Keys(items)) {
			headline, text := items[i], texts[i]
			if copied {
				text = "By a staff reporter. " + text[:strings.LastIndex(text, ". ")+1]
			}
			fmt.Fprintf(&b, `<item><guid>%s-%d</guid><title>%s</title><description>%s</description></item>`,
				title, i, headline, text)
		}
		b.WriteString(`</channel></rss>`)
		return b.String()
	}
	all := map[int]string{}
	for i := range n {
		all[i] = fmt.Sprint("Story ", i)
	}
	srv := feedtest.New(t)
	srv.Set("/agency", feedtest.Doc{Body: feed("agency", all, false)})
	srv.Set("/copies", feedtest.Doc{Body: feed("copies", map[int]string{0: "A new headline", n - 1: "Another one"}, true)})
	agency := wiredesk.Source{Name: "agency", FeedURL: srv.URL + "/agency"}
	copies := wiredesk.Source{Name: "copies", FeedURL: srv.URL + "/copies"}

	path := filepath.Join(t.TempDir(), "wiredesk.db")
	ctx := context.Background()
	for _, src := range []wiredesk.Source{agency, copies} {
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		p := newPoller(db) // a new process: the index is loaded from the store
		if r, err := p.PollOnce(ctx, src); err != nil || r.Err != nil {
			t.Fatalf("poll %s: %v %v", src.Name, err, r.Err)
		}
		db.Close()
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	items, err := db.Items(ctx, wiredesk.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	story := map[string]int64{}
	for _, it := range items {
		story[it.GUID] = it.StoryID
	}
	for _, i := range []int{0, n - 1} {
		a, c := story[fmt.Sprint("agency-", i)], story[fmt.Sprint("copies-", i)]
		if a == 0 || c == 0 || a != c {
			t.Errorf("item %d: agency's story %d, its copy's %d; want the same", i, a, c)
		}
	}
}
