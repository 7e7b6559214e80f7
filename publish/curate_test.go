package publish

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

func storyIDs(stories []wiredesk.Story) []int64 {
	var ids []int64
	for _, st := range stories {
		ids = append(ids, st.ID)
	}
	return ids
}

func TestTopicStories(t *testing.T) {
	tests := []struct {
		name  string
		topic wiredesk.Topic
		want  []int64
	}{
		{"by tag, newest first", wiredesk.Topic{Name: "t", Tags: []string{"world"}, Limit: 10}, []int64{11, 10, 12}},
		{"by source name", wiredesk.Topic{Name: "t", Sources: []string{"AP"}, Limit: 10}, []int64{10, 12}},
		{"limit", wiredesk.Topic{Name: "t", Tags: []string{"world"}, Limit: 2}, []int64{11, 10}},
		{"exclude", wiredesk.Topic{Name: "t", Tags: []string{"tech"}, Exclude: []string{"crypto"}, Limit: 10}, []int64{13}},
		{"include title", wiredesk.Topic{Name: "t", Tags: []string{"world", "tech"}, Include: []string{"earthquake"}, Limit: 10}, []int64{10}},
		{"include matches text", wiredesk.Topic{Name: "t", Tags: []string{"world"}, Include: []string{"harbour"}, Limit: 10}, []int64{12}},
		{"include matches plain text, not markup", wiredesk.Topic{Name: "t", Tags: []string{"world"}, Include: []string{"img"}, Limit: 10}, nil},
		{"include and exclude", wiredesk.Topic{Name: "t", Tags: []string{"world"}, Include: []string{"budget", "earthquake"}, Exclude: []string{"tax"}, Limit: 10}, []int64{10}},
		{"selects no source", wiredesk.Topic{Name: "t", Tags: []string{"sports"}, Limit: 10}, nil},
		{"min_sources keeps stories carried widely", wiredesk.Topic{Name: "t", Tags: []string{"world"}, MinSources: 2, Limit: 10}, []int64{10}},
		{"min_sources and include act on the story", wiredesk.Topic{Name: "t", Tags: []string{"world"}, MinSources: 3, Include: []string{"earthquake"}, Limit: 10}, []int64{10}},
		{"min_sources above every story", wiredesk.Topic{Name: "t", Tags: []string{"world"}, MinSources: 4, Limit: 10}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			finder := &sliceFinder{stories: testStories()}
			s := newTestServer(finder)
			setTopics(s, tt.topic)
			got, err := s.TopicStories(context.Background(), "t")
			if err != nil {
				t.Fatal(err)
			}
			if ids := storyIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("stories = %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestTopicStoriesNoSourcesDoesNotQuery(t *testing.T) {
	finder := &sliceFinder{stories: testStories()}
	s := newTestServer(finder)
	got, err := s.TopicStories(context.Background(), "empty")
	if err != nil || len(got) != 0 {
		t.Fatalf("got %d stories, err %v; want none", len(got), err)
	}
	// A nil Sources filter would mean every source.
	if n := finder.calls.Load(); n != 0 {
		t.Errorf("finder called %d times for a topic selecting no source", n)
	}
}

func TestTopicStoriesUnknown(t *testing.T) {
	s := newTestServer(&sliceFinder{})
	_, err := s.TopicStories(context.Background(), "nope")
	if !errors.Is(err, wiredesk.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func TestTopicStoriesFinderError(t *testing.T) {
	s := newTestServer(&sliceFinder{err: errDatabase})
	_, err := s.TopicStories(context.Background(), "world")
	if !errors.Is(err, errDatabase) {
		t.Errorf("err = %v, want it to wrap the finder's error", err)
	}
}

// manyStories returns n single-copy AP stories, newest first by ID order;
// the one at index match (if any) mentions a volcano.
func manyStories(n, match int) []wiredesk.Story {
	out := make([]wiredesk.Story, n)
	for i := range out {
		title := fmt.Sprintf("Routine story %d", i)
		if i == match {
			title = "Volcano erupts"
		}
		it := item(int64(1000+i), "AP", fmt.Sprintf("ap-%d", i), "https://ap.example/"+fmt.Sprint(i), title, at(12, 0).Add(-time.Duration(i)*time.Minute))
		out[i] = wiredesk.Story{ID: int64(i + 1), GUID: fmt.Sprintf("urn:uuid:%d", i), Primary: it,
			Copies: []wiredesk.Item{it}, Published: it.Published, Updated: it.Published}
	}
	return out
}

func TestTopicStoriesScanIsBounded(t *testing.T) {
	strict := wiredesk.Topic{Name: "t", Sources: []string{"AP"}, Include: []string{"volcano"}, Limit: 5}
	tests := []struct {
		name      string
		match     int // index of the only matching story
		wantFound bool
	}{
		{"match within the bound", 5*maxScanPages - 1, true},
		{"match beyond the bound", 5 * maxScanPages, false},
		{"no match", -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			finder := &sliceFinder{stories: manyStories(1000, tt.match)}
			s := newTestServer(finder)
			setTopics(s, strict)
			got, err := s.TopicStories(context.Background(), "t")
			if err != nil {
				t.Fatal(err)
			}
			if found := len(got) == 1; found != tt.wantFound {
				t.Errorf("found = %v (%d stories), want %v", found, len(got), tt.wantFound)
			}
			if n := finder.calls.Load(); n > maxScanPages {
				t.Errorf("finder called %d times, want at most %d", n, maxScanPages)
			}
		})
	}
}

func TestTopicStoriesShownOnce(t *testing.T) {
	// A story that arrives while we page shifts the offsets, so the next
	// page repeats the last story of this one; simulate with a repeat
	// straddling the page boundary. Story 1 is excluded so that the
	// second page is needed.
	stories := manyStories(6, -1)
	stories[0].Primary.Title = "Excluded story"
	stories = slices.Insert(stories, 2, stories[1])
	s := newTestServer(&sliceFinder{stories: stories})
	setTopics(s, wiredesk.Topic{Name: "t", Sources: []string{"AP"}, Exclude: []string{"excluded"}, Limit: 2})
	got, err := s.TopicStories(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	if ids := storyIDs(got); !slices.Equal(ids, []int64{2, 3}) {
		t.Errorf("stories = %v, want [2 3] each once", ids)
	}
}

func TestShownStoryIDs(t *testing.T) {
	s := newTestServer(&sliceFinder{stories: testStories()})
	setTopics(s, append(s.Topics(), wiredesk.Topic{Name: "overlap", Sources: []string{"PTI"}, Limit: 10})...)
	got, err := s.ShownStoryIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// world: 10 11 12; tech: 13 (14 excluded); empty: none; overlap: 10 11.
	if want := []int64{10, 11, 12, 13}; !slices.Equal(got, want) {
		t.Errorf("ShownStoryIDs = %v, want %v", got, want)
	}
	s = newTestServer(&sliceFinder{err: errDatabase})
	if _, err := s.ShownStoryIDs(context.Background()); !errors.Is(err, errDatabase) {
		t.Errorf("err = %v, want the finder's error", err)
	}
}
