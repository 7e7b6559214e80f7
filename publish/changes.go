package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Fingerprints returns, for every topic, a digest of what its feed lists:
// each story's id and updated time, in order. Two calls give the same
// digest exactly when the feed's entries are the same, whatever the
// clock, so a WebSub hub is pinged only when a feed really changed.
func (s *Server) Fingerprints(ctx context.Context) (map[string]string, error) {
	cfg := s.config()
	out := make(map[string]string, len(cfg.topics))
	for _, t := range cfg.topics {
		stories, err := s.curate(ctx, t, cfg.sources)
		if err != nil {
			return nil, fmt.Errorf("fingerprint %s: %w", t.Name, err)
		}
		h := sha256.New()
		for _, st := range stories {
			fmt.Fprintf(h, "%s %s %d\n", st.GUID, st.Updated.UTC().Format(time.RFC3339Nano), st.Primary.ID)
		}
		out[t.Name] = hex.EncodeToString(h.Sum(nil)[:16])
	}
	return out, nil
}

// FeedURLs returns the public URLs of a topic's feed in every format: what
// a WebSub ping names as changed.
func (s *Server) FeedURLs(topic string) []string {
	l := s.layout(false)
	var urls []string
	for _, f := range Formats() {
		urls = append(urls, l.feedURL(topic, f))
	}
	return urls
}
