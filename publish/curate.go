package publish

import (
	"context"
	"fmt"
	"slices"

	"github.com/wiredesk/wiredesk"
)

// maxScanPages bounds how many pages of candidates curation reads for one
// topic, so that a strict include filter over a large archive cannot make
// a single request read the whole database.
const maxScanPages = 10

// TopicStories returns the stories the topic's feeds show, newest first:
// stories from the sources the topic selects that pass its include and
// exclude terms, at most topic.Limit of them. The error wraps
// wiredesk.ErrNotFound when no topic has that name.
func (s *Server) TopicStories(ctx context.Context, topic string) ([]wiredesk.Story, error) {
	cfg := s.config()
	t, err := cfg.topic(topic)
	if err != nil {
		return nil, err
	}
	return s.curate(ctx, t, cfg.sources)
}

// curate selects t's stories from the sources in all that it draws from.
func (s *Server) curate(ctx context.Context, t wiredesk.Topic, all []wiredesk.Source) ([]wiredesk.Story, error) {
	sources := t.SourceNames(all)
	if len(sources) == 0 {
		// A nil filter would mean "every source"; a topic that selects
		// nothing is empty instead.
		return nil, nil
	}
	limit := t.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	var kept []wiredesk.Story
	// Offsets can shift while we page (a new story arrives), so the same
	// story may come back on the next page; show it once.
	seen := map[string]bool{}
	for page := 0; page < maxScanPages && len(kept) < limit; page++ {
		batch, err := s.finder.Stories(ctx, wiredesk.StoryFilter{
			Sources: sources, MinSources: t.MinSources, Limit: limit, Offset: page * limit,
		})
		if err != nil {
			return nil, fmt.Errorf("topic %s: find stories: %w", t.Name, err)
		}
		for _, st := range batch {
			if len(kept) == limit {
				break
			}
			key := storyKey(st)
			if seen[key] || !admits(t, st) {
				continue
			}
			seen[key] = true
			kept = append(kept, st)
		}
		if len(batch) < limit {
			break
		}
	}
	return kept, nil
}

// storyKey identifies a story for de-duplication across pages.
func storyKey(st wiredesk.Story) string {
	if st.GUID != "" {
		return st.GUID
	}
	return fmt.Sprintf("id:%d", st.ID)
}

// admits applies the topic's terms to the primary's title and the plain
// text of its content, or of its summary when it has no content.
func admits(t wiredesk.Topic, st wiredesk.Story) bool {
	if len(t.Include) == 0 && len(t.Exclude) == 0 {
		return true
	}
	body := st.Primary.Content
	if body == "" {
		body = st.Primary.Summary
	}
	return t.Admits(plainText(st.Primary.Title), plainText(body))
}

// ShownStoryIDs returns the IDs of every story some topic currently shows,
// ascending and without repeats, so that retention can keep them.
func (s *Server) ShownStoryIDs(ctx context.Context) ([]int64, error) {
	var ids []int64
	cfg := s.config()
	for _, t := range cfg.topics {
		stories, err := s.curate(ctx, t, cfg.sources)
		if err != nil {
			return nil, err
		}
		for _, st := range stories {
			ids = append(ids, st.ID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}
