package publish

import (
	"context"
	"fmt"
	"html/template"
	"time"

	"github.com/wiredesk/wiredesk"
)

// Render returns topic's feed in format f as served under /feeds/, and the
// feed's updated time (the latest story update; the Unix epoch when the
// feed is empty). The error wraps wiredesk.ErrNotFound for an unknown topic.
func (s *Server) Render(ctx context.Context, topic string, f Format) ([]byte, time.Time, error) {
	return s.render(ctx, topic, f, s.layout(false))
}

func (s *Server) layout(static bool) layout {
	return layout{base: s.baseURL(), static: static}
}

func (s *Server) render(ctx context.Context, topic string, f Format, l layout) ([]byte, time.Time, error) {
	return s.renderWith(ctx, s.config(), topic, f, l)
}

// renderWith renders from one configuration generation, so a reload in
// the middle cannot pair a topic with another generation's sources.
func (s *Server) renderWith(ctx context.Context, cfg *serverConfig, topic string, f Format, l layout) ([]byte, time.Time, error) {
	t, err := cfg.topic(topic)
	if err != nil {
		return nil, time.Time{}, err
	}
	stories, err := s.curate(ctx, t, cfg.sources)
	if err != nil {
		return nil, time.Time{}, err
	}
	// The Atom id must not change when the feed moves between served and
	// static hosting, so it is always the served URL.
	ch := s.newChannel(t, stories, cfg.sources, l.feedURL(t.Name, f), s.layout(false).feedURL(t.Name, Atom))
	body, err := encode(ch, f)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("render %s%s: %w", t.Name, f.Ext(), err)
	}
	return body, ch.Updated, nil
}

func encode(ch channel, f Format) ([]byte, error) {
	switch f {
	case Atom:
		return renderAtom(ch)
	case JSONFeed:
		return renderJSON(ch)
	default:
		return renderRSS(ch)
	}
}

// topicURLs is what the index and OPML say about one topic.
type topicURLs struct {
	Topic wiredesk.Topic
	Title string // plain text for feeds and OPML
	Feeds []feedLink
}

type feedLink struct {
	Format string
	// TypeAttr is the whole type="..." attribute: html/template would
	// otherwise write the "+" of the media type as &#43;, which naive
	// autodiscovery parsers do not decode. The values are constants.
	TypeAttr template.HTMLAttr
	URL      string
}

func (s *Server) topicURLs(l layout) []topicURLs {
	var out []topicURLs
	for _, t := range s.config().topics {
		tu := topicURLs{Topic: t, Title: plainTitle(t.Title)}
		if tu.Title == "" {
			tu.Title = t.Name
		}
		for _, f := range Formats() {
			tu.Feeds = append(tu.Feeds, feedLink{
				Format:   f.String(),
				TypeAttr: template.HTMLAttr(`type="` + f.MediaType() + `"`),
				URL:      l.feedURL(t.Name, f),
			})
		}
		out = append(out, tu)
	}
	return out
}
