// Package wiredesk holds the domain of the wiredesk aggregator: sources,
// their polling state, items, stories and topics, with the sentinel errors
// and pure methods the other packages share.
//
// It imports the standard library only. Adapters live beside it: config
// (TOML), aggregator (fetch, parse, schedule, the single writer), dedupe
// (wire-copy detection), store (SQLite) and publish (feeds over HTTP);
// cmd/wiredesk wires them together.
package wiredesk

import (
	"errors"
	"strings"
	"time"
)

// Version is the release version, set at build time with
// -ldflags "-X github.com/wiredesk/wiredesk.Version=v1.2.3".
var Version = "dev"

// UserAgent is sent on every outgoing request so that publishers can tell
// who is polling them.
func UserAgent() string {
	return "wiredesk/" + Version + " (+https://github.com/wiredesk/wiredesk)"
}

// Sentinel errors shared by the adapters; decide on them with errors.Is.
var (
	// ErrNotFound is returned when a source, item, story or topic does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNotFeed is returned when a fetched document is not a feed.
	ErrNotFeed = errors.New("not a feed")
	// ErrBodyTooLarge is returned when a response exceeds the body cap.
	ErrBodyTooLarge = errors.New("response body too large")
)

// Source is one configured feed.
type Source struct {
	Name     string   // unique, as written in the config
	FeedURL  string   // absolute http(s) URL
	Schedule string   // cron expression or @every; empty means the [poll] default
	Tags     []string // topics select sources by tag
	// Priority breaks ties when choosing a story's primary copy: a higher
	// priority source's copy wins over an earlier copy from a lower one.
	Priority int
}

// HasTag reports whether s carries any of tags.
func (s Source) HasTag(tags ...string) bool {
	for _, t := range tags {
		for _, have := range s.Tags {
			if t == have {
				return true
			}
		}
	}
	return false
}

// Fetch statuses recorded in SourceState.Status.
const (
	StatusNew         = ""             // never polled
	StatusOK          = "ok"           // fetched and parsed
	StatusNotModified = "not_modified" // 304: nothing new
	StatusError       = "error"        // see SourceState.LastError
	// StatusGone records a 410 Gone (RFC 9110 §15.5.11): the publisher
	// removed the feed on purpose, so the scheduler stops polling it. A
	// changed feed URL in the config, or an explicit poll of the source
	// by name, tries it again.
	StatusGone = "gone"
)

// SourceState is what wiredesk remembers about polling a source between
// runs: validators for conditional GET, the outcome of the last attempt and
// when to try next. It survives restarts.
type SourceState struct {
	Source              string    // Source.Name
	FeedURL             string    // the URL the state was earned on; "" until first synced
	LastFetch           time.Time // last attempt, UTC; zero if never
	LastSuccess         time.Time // last attempt that ended ok or not_modified
	Status              string    // one of the Status* constants
	HTTPStatus          int       // last HTTP status code, 0 if none
	LastError           string    // empty unless Status is StatusError or StatusGone
	ETag                string    // sent back as If-None-Match
	LastModified        string    // sent back as If-Modified-Since, verbatim
	NextRun             time.Time // earliest next poll, UTC
	ConsecutiveFailures int

	// What the feed asks about its own polling (RSS ttl, skipHours and
	// skipDays, sy:updatePeriod, HTTP Cache-Control and Expires).
	NotBefore time.Time     // no scheduled poll before this time
	FeedTTL   time.Duration // the interval the feed asks for; 0 if none
	Skip      string        // skipHours/skipDays as "h:0,1;d:0,6" (GMT); "" if none
	// Interval is adaptive polling's current interval for the source.
	Interval time.Duration
	// NextReason says why NextRun is what it is: "schedule", "backoff",
	// "retry-after", "adaptive", or the feed's hint ("ttl", "cache-control",
	// "skipHours", ...), for `wiredesk sources`.
	NextReason string
}

// Item is one entry of one source's feed, adapted to the domain at the
// parser boundary: URLs absolute, dates UTC, identity stable.
type Item struct {
	ID     int64  // assigned by the store; 0 before it is saved
	Source string // Source.Name

	// GUID is the item's stable identity within its source: the feed's
	// guid/id, else its link, else a hash of title and content.
	GUID string
	URL  string // absolute link to the article; may be empty

	Title   string // plain text
	Summary string // HTML as published (description / summary)
	Content string // HTML as published (content:encoded / content); may be empty
	Author  string

	// Published and Updated are UTC. The parser leaves them zero when the
	// feed gives no usable date, and the store fills them from FirstSeen,
	// so an undated item does not look changed on every poll.
	Published time.Time
	Updated   time.Time
	FirstSeen time.Time // UTC; when wiredesk first stored it

	// Exact-identity keys, computed by the dedupe package during
	// normalisation. Items sharing either key belong to one story.
	CanonicalURL string // normalised URL; empty if the item has no URL
	ContentHash  string // hash of the normalised text; empty if too short
	// Fingerprint is the dedupe package's compact signature of the
	// running text, stored so the near-duplicate index can be rebuilt
	// after a restart without cleaning every stored text again.
	Fingerprint []byte
	// Doc is the dedupe package's compact form of the cleaned text, what
	// deciding on a copy compares. It is stored while the item can be a
	// candidate (within the dedupe window), so a later copy is compared
	// with it without cleaning its text again. The store hands candidates
	// over with Doc set, and their text only when Doc is missing.
	Doc []byte
	// RawDigest is a hash of the item's fields as fetched (link, title,
	// summary, content, author, dates): equal digests, unchanged item.
	RawDigest int64

	// StoryID is the story the item belongs to. The store assigns it when
	// it is zero; a non-zero value set before saving asks the store to
	// attach the item to that story (a dedupe decision).
	StoryID int64
	// Primary reports whether this item is the copy shown for its story.
	Primary bool
}

// Body is the HTML the item's text is taken from: its content, else its
// summary (many feeds carry only one, or truncate the summary).
func (it Item) Body() string {
	if strings.TrimSpace(it.Content) != "" {
		return it.Content
	}
	return it.Summary
}

// Story is one piece of copy as it ran in one or more sources.
type Story struct {
	ID int64
	// GUID is the story's identity in published feeds. It is fixed when
	// the story is created and never changes, whatever copies join it or
	// which copy is primary, so a reader never sees the story as new twice.
	GUID      string
	Primary   Item      // the copy whose content the feeds show
	Copies    []Item    // every copy including the primary, earliest first
	Published time.Time // the primary's published time
	Updated   time.Time // last time a copy joined or changed
}

// Sources returns the distinct source names carrying the story, in copy order.
func (s Story) Sources() []string {
	var names []string
	seen := map[string]bool{}
	for _, c := range s.Copies {
		if !seen[c.Source] {
			seen[c.Source] = true
			names = append(names, c.Source)
		}
	}
	return names
}

// Topic is a curated feed republished by wiredesk.
type Topic struct {
	Name        string   // URL-safe; served as /feeds/{Name}.rss, .atom, .json
	Title       string   // feed title
	Description string   // feed description; optional
	Tags        []string // stories from sources carrying any of these tags
	Sources     []string // and/or from these named sources
	Include     []string // keep only stories whose title or text matches any (case-insensitive)
	Exclude     []string // drop stories whose title or text matches any
	MinSources  int      // keep only stories carried by at least this many sources; 0 or 1: all
	Limit       int      // entries in the feed
}

// SelectsSource reports whether the topic draws stories from src.
func (t Topic) SelectsSource(src Source) bool {
	for _, n := range t.Sources {
		if n == src.Name {
			return true
		}
	}
	return src.HasTag(t.Tags...)
}

// FetchResult is everything one poll of one source produced, handed to the
// single writer and saved in one transaction: the items (none on a 304 or
// an error) together with the source's new state, so that an ETag is never
// recorded without the items it vouches for.
type FetchResult struct {
	Source string
	// FeedURL is the URL fetched, if known: the state is saved only while
	// the source still has it (or has none stored), so that a poll of the
	// old URL that ends after a reload changed it does not write the old
	// feed's validators and schedule over the new one's. Its items are
	// saved either way.
	FeedURL string
	State   SourceState
	Items   []Item
	// Matcher, when set, decides which stored story each new item is a
	// copy of, inside the same transaction. Nil folds exact repeats only.
	Matcher StoryMatcher
	// Settle, when set, is called inside the transaction once the items
	// are saved, with what saving them found, and returns the state to
	// store: adaptive polling needs to know whether anything was new.
	Settle func(IngestStats, SourceState) SourceState
	// Unchanged are the GUIDs of items the poller found stored with the
	// same RawDigest: they are only marked seen, not compared or rewritten.
	Unchanged []string
	// KeepState saves the items only, leaving the source's polling state
	// as stored: content pushed by a hub says nothing about the feed URL.
	KeepState bool
}

// StoryMatcher recognises copies of one story that exact keys miss (a
// republished wire text under another URL and headline). The store calls
// it inside the transaction that saves a fetch, for each item it has not
// stored before and could not fold by exact key, so the decision and the
// save cannot interleave with another writer's.
type StoryMatcher interface {
	// Candidates returns the ids of stored items that may be copies of it.
	Candidates(it Item) []int64
	// Decide verifies the candidates against it and returns the story it
	// belongs to, or 0 for a new story. Each candidate carries its ID,
	// StoryID and stored Doc; its title and text only when it has no Doc.
	Decide(it Item, candidates []Item) (storyID int64)
	// Saved reports an item stored in this transaction, with its ID and
	// StoryID set. It counts only if the transaction commits.
	Saved(it Item)
}

// IngestStats counts what saving a FetchResult changed.
type IngestStats struct {
	New       int // items stored for the first time
	Updated   int // items seen before whose title, content or dates changed
	Unchanged int // items seen before and identical
	// Of the New items, Stories started a story of their own and Copies
	// joined an existing one (a wire copy, or the same article elsewhere).
	Stories int
	Copies  int
}

// SourceNames returns the names of the sources in all that the topic draws from.
func (t Topic) SourceNames(all []Source) []string {
	var names []string
	for _, s := range all {
		if t.SelectsSource(s) {
			names = append(names, s.Name)
		}
	}
	return names
}

// StoryFilter selects stories, newest first (by the primary's published time).
type StoryFilter struct {
	// Sources keeps stories with at least one copy from these sources.
	// Nil means every source; an empty non-nil slice selects nothing.
	Sources []string
	// MinSources keeps stories carried by at least this many distinct
	// sources (any source, not only those in Sources); 0 or 1 keeps all.
	MinSources int
	Limit      int // at most this many; 0 means no limit
	Offset     int // skip this many, for paging
}

// ItemFilter selects items, newest first (by published time).
type ItemFilter struct {
	Sources []string // nil means every source; empty non-nil selects nothing
	Limit   int      // 0 means no limit
}
