package aggregator

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/internal/feedtest"
)

// TestWarm checks that a fetch cleans its likely candidates' texts before
// it waits for the writer: after the agency's story is stored, fetching
// a republished copy puts the agency item's doc in the cache, and the
// copy still joins the agency's story.
func TestWarm(t *testing.T) {
	srv := feedtest.New(t)
	src := map[string]wiredesk.Source{}
	for name, file := range map[string]string{"agency": "agency.xml", "coast": "republisher.atom"} {
		body, err := os.ReadFile(filepath.Join("testdata", "near", file))
		if err != nil {
			t.Fatal(err)
		}
		srv.Set("/"+file, feedtest.Doc{Body: string(body)})
		src[name] = wiredesk.Source{Name: name, FeedURL: srv.URL + "/" + file}
	}
	db := openTestStore(t)
	p := NewPoller(db, nil)
	p.Logger = slog.New(slog.DiscardHandler)
	ctx := context.Background()
	if _, err := p.PollOnce(ctx, src["agency"]); err != nil {
		t.Fatal(err)
	}
	items, err := db.Items(ctx, wiredesk.ItemFilter{})
	if err != nil || len(items) != 1 {
		t.Fatalf("items %v, %v; want the agency's one", items, err)
	}
	agency := items[0]
	n := p.near.Load()
	if n == nil || n.docs.has(agency.ID) {
		t.Fatalf("after the first save: index %v, agency doc cached %v; want an index, no doc (it started a story)", n != nil, n != nil && n.docs.has(agency.ID))
	}
	res, err := p.fetchAndParse(ctx, src["coast"], wiredesk.SourceState{})
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("fetch the copy: %v, %d items", err, len(res.Items))
	}
	res.release()
	if !n.docs.has(agency.ID) {
		t.Error("the copy's fetch did not clean its candidate's text")
	}
	if d := n.docs.get(agency); d == nil || d.Words() == 0 {
		t.Errorf("cached doc %v, want the agency text's, checked against it", d)
	}
	if _, err := p.PollOnce(ctx, src["coast"]); err != nil {
		t.Fatal(err)
	}
	items, err = db.Items(ctx, wiredesk.ItemFilter{})
	if err != nil || len(items) != 2 || items[0].StoryID != items[1].StoryID {
		t.Errorf("items %+v, %v; want the copy in the agency's story", items, err)
	}
}
