package publish

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gorilla/feeds"
)

// JSON Feed 1.1 is rendered from gorilla/feeds' structs wrapped because
// its JSONFeed omits "items" when empty, which the spec requires, and it
// has no room for the extension object (JSON Feed 1.1 "Extensions":
// keys starting with an underscore).

const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

type jsonFeed struct {
	*feeds.JSONFeed
	Items []*jsonItem `json:"items"` // shadows JSONFeed.Items; never omitted
}

type jsonItem struct {
	*feeds.JSONItem
	Wiredesk *jsonExt `json:"_wiredesk,omitempty"`
}

// jsonExt tells a wiredesk-aware reader which story the item is and where
// else it ran.
type jsonExt struct {
	Story  string     `json:"story"`
	Copies []jsonCopy `json:"copies"`
}

type jsonCopy struct {
	Source    string `json:"source"`
	URL       string `json:"url,omitempty"`
	Published string `json:"published,omitempty"` // RFC 3339
}

func renderJSON(ch channel) ([]byte, error) {
	f := jsonFeed{
		JSONFeed: &feeds.JSONFeed{
			Version:     jsonFeedVersion,
			Title:       ch.Title,
			HomePageUrl: ch.HomeURL,
			FeedUrl:     ch.SelfURL,
			Description: ch.Description,
			Authors:     []*feeds.JSONAuthor{{Name: "wiredesk"}},
		},
		Items: []*jsonItem{},
	}
	if ch.HubURL != "" {
		f.Hubs = []*feeds.JSONHub{{Type: "WebSub", Url: ch.HubURL}}
	}
	for _, e := range ch.Entries {
		f.Items = append(f.Items, newJSONItem(e))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// HTML escaping of <, > and & stays on: the output can never be
	// mistaken for markup if a client sniffs it.
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode json feed: %w", err)
	}
	return buf.Bytes(), nil
}

func newJSONItem(e entry) *jsonItem {
	published, updated := e.Published, e.Updated
	it := &jsonItem{JSONItem: &feeds.JSONItem{
		Id:            e.ID,
		Url:           e.URL,
		Title:         e.Title,
		Summary:       excerpt(e.Text, 280), // plain text, per the spec
		PublishedDate: &published,
		ModifiedDate:  &updated,
	}}
	if e.Source != "" {
		// "authors" (1.1) rather than the deprecated "author".
		it.Authors = []*feeds.JSONAuthor{{Name: e.Source}}
	}
	// Every item needs content_html or content_text.
	switch {
	case e.Content != "":
		it.ContentHTML = e.Content
	case e.Summary != "":
		it.ContentHTML = e.Summary
	default:
		it.ContentText = e.Title
	}
	if len(e.Copies) > 1 {
		ext := &jsonExt{Story: e.ID}
		for _, c := range e.Copies {
			ext.Copies = append(ext.Copies, jsonCopy{
				Source: c.Source, URL: c.URL, Published: rfc3339(c.Published),
			})
		}
		it.Wiredesk = ext
	}
	return it
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
