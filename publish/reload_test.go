package publish

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wiredesk/wiredesk"
)

func status(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestSetConfigWhileServing reloads the configuration while clients keep
// fetching every route; run under -race it also proves the reads are
// synchronised with SetConfig.
func TestSetConfigWhileServing(t *testing.T) {
	s := newTestServer(&sliceFinder{stories: testStories()})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	c := srv.Client()

	if got := status(t, c, srv.URL+"/feeds/world.rss"); got != http.StatusOK {
		t.Fatalf("world before reload: %d", got)
	}
	if got := status(t, c, srv.URL+"/feeds/asia.json"); got != http.StatusNotFound {
		t.Fatalf("asia before reload: %d", got)
	}

	oldTopics, oldSources := s.Topics(), testSources()
	asia := wiredesk.Topic{Name: "asia", Title: "Asia", Tags: []string{"asia"}, Limit: 10}
	newTopics := append(slices.DeleteFunc(slices.Clone(oldTopics), func(t wiredesk.Topic) bool {
		return t.Name == "world"
	}), asia)
	// The reload also retags a source, so the new topic draws on it.
	newSources := slices.Clone(oldSources)
	newSources[0].Tags = []string{"world", "asia"} // Xinhua

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var served atomic.Int64
	paths := []string{"/feeds/world.rss", "/feeds/asia.atom", "/feeds/tech.json", "/", "/opml"}
	for _, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				// Either generation's answer is fine mid-reload; a
				// server error or a torn response is not.
				if got := status(t, c, srv.URL+p); got != http.StatusOK && got != http.StatusNotFound {
					t.Errorf("GET %s mid-reload: %d", p, got)
					return
				}
				served.Add(1)
			}
		}()
	}
	// Reload until the clients have made enough requests to overlap
	// many reloads, whatever the scheduler does.
	for i := 0; served.Load() < 300 && !t.Failed(); i++ {
		if i%2 == 0 {
			s.SetConfig(newTopics, newSources)
		} else {
			s.SetConfig(oldTopics, oldSources)
		}
	}
	s.SetConfig(newTopics, newSources)
	stop()
	wg.Wait()

	// The caller's slices were copied: changing them now has no effect.
	newTopics[len(newTopics)-1].Name = "mutated"

	for _, f := range Formats() {
		if got := status(t, c, srv.URL+"/feeds/asia"+f.Ext()); got != http.StatusOK {
			t.Errorf("added topic asia%s: %d, want 200", f.Ext(), got)
		}
		if got := status(t, c, srv.URL+"/feeds/world"+f.Ext()); got != http.StatusNotFound {
			t.Errorf("removed topic world%s: %d, want 404", f.Ext(), got)
		}
	}
	resp, err := c.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "/feeds/asia.rss") || strings.Contains(string(body), "/feeds/world.rss") {
		t.Errorf("index after reload does not list the new topics:\n%s", body)
	}
	// world (10, 11, 12) is gone; asia shows Xinhua's 10 through the
	// new tag, tech still shows 13.
	ids, err := s.ShownStoryIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{10, 13}; !slices.Equal(ids, want) {
		t.Errorf("ShownStoryIDs after reload = %v, want %v", ids, want)
	}
}

func TestSetConfigChangesTopic(t *testing.T) {
	s := newTestServer(&sliceFinder{stories: testStories()})
	before, err := s.TopicStories(context.Background(), "world")
	if err != nil {
		t.Fatal(err)
	}
	changed := s.Topics()
	for i := range changed {
		if changed[i].Name == "world" {
			changed[i].Limit = 1
		}
	}
	s.SetConfig(changed, testSources())
	after, err := s.TopicStories(context.Background(), "world")
	if err != nil {
		t.Fatal(err)
	}
	if len(before) < 2 || len(after) != 1 {
		t.Errorf("stories before/after limit 1: %d/%d, want ≥2/1", len(before), len(after))
	}
}
