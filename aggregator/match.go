package aggregator

import (
	"container/list"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/dedupe"
)

// expireEvery is how often the index drops entries that left the window;
// a sweep walks the whole index, so not on every save.
const expireEvery = time.Minute

// nearIndex is the near-duplicate index of the items first seen within
// the window. Only the single writer changes it.
type nearIndex struct {
	// mu guards ix against the lookups of warm, which run in the fetches'
	// goroutines; the writer's own lookups need no lock, as only the
	// writer changes ix.
	mu         sync.RWMutex
	ix         *dedupe.Index
	window     time.Duration
	threshold  float64
	now        func() time.Time
	logger     *slog.Logger
	lastExpire time.Time
	// docs keeps the cleaned texts of the items saved last, by item id:
	// wire copies arrive within minutes of each other, so the candidates
	// of a new item are mostly here, and need not be cleaned again.
	docs *docCache
}

// docCacheSize bounds the cleaned texts kept, compact, about 3 KB each:
// those warm cleaned for fetches waiting for the writer, of candidates
// compared and of new items that matched one. A cold cycle over 2,000
// feeds has some 4,500 wire stories in flight at once; measured there
// before warm (one run each), 1,024 took 81 s at 100.6 MB peak RSS and
// 4,096 took 64 s at 122 MB.
const docCacheSize = 1024

// docCache is a small LRU of compact cleaned texts by item id. Each
// carries a digest of the text it was made from, so an item updated since
// (its feed corrected it) is cleaned again rather than compared stale.
type docCache struct {
	mu   sync.Mutex
	byID map[int64]*list.Element // of *cachedDoc
	lru  *list.List              // most recently used first
	max  int
}

type cachedDoc struct {
	id     int64
	digest uint64
	doc    *dedupe.Doc
}

func newDocCache(n int) *docCache {
	return &docCache{byID: make(map[int64]*list.Element, n), lru: list.New(), max: n}
}

// textDigest identifies the text a doc is made from.
func textDigest(it wiredesk.Item) uint64 {
	h := fnv.New64a()
	h.Write([]byte(it.Title))
	h.Write([]byte{0})
	h.Write([]byte(it.Body()))
	return h.Sum64()
}

// get returns the cached doc of item it, if it was made from its text.
func (c *docCache) get(it wiredesk.Item) *dedupe.Doc {
	digest := textDigest(it)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[it.ID]
	if !ok {
		return nil
	}
	cd := e.Value.(*cachedDoc)
	if cd.digest != digest {
		return nil
	}
	c.lru.MoveToFront(e)
	return cd.doc
}

// put caches a compact copy of d as item id's.
func (c *docCache) put(id int64, digest uint64, d *dedupe.Doc) {
	compact := d.Compact()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		e.Value = &cachedDoc{id, digest, &compact}
		c.lru.MoveToFront(e)
		return
	}
	if c.lru.Len() >= c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.byID, old.Value.(*cachedDoc).id)
	}
	c.byID[id] = c.lru.PushFront(&cachedDoc{id, digest, &compact})
}

// has reports whether a doc of item id is cached, whatever its text.
func (c *docCache) has(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.byID[id]
	return ok
}

// nearIndex returns the index, building it from the store on first use:
// it survives restarts because every item's fingerprint is stored with it.
// Called with writeMu held.
func (p *Poller) nearIndex(ctx context.Context) (*nearIndex, error) {
	n := p.near.Load()
	if n == nil {
		n = &nearIndex{ix: dedupe.NewIndex(), window: p.Window, threshold: p.Threshold,
			now: p.Now, logger: p.Logger, docs: newDocCache(docCacheSize)}
		if err := n.load(ctx, p.store); err != nil {
			return nil, err
		}
		p.near.Store(n)
	}
	n.expire()
	return n, nil
}

func (n *nearIndex) since() time.Time {
	if n.window <= 0 {
		return time.Time{}
	}
	return n.now().Add(-n.window)
}

func (n *nearIndex) load(ctx context.Context, st Store) error {
	start := n.now()
	skipped := 0
	err := st.Fingerprints(ctx, n.since(), func(id int64, at time.Time, fp []byte) error {
		sig, err := dedupe.ParseSignature(fp)
		if err != nil {
			// A fingerprint from another version of the format: the item
			// can still be found by exact keys, and is refingerprinted if
			// its feed changes it.
			skipped++
			return nil
		}
		n.ix.Add(id, sig, at)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load near-duplicate index: %w", err)
	}
	n.lastExpire = n.now()
	n.logger.Info("near-duplicate index loaded", "items", n.ix.Len(), "skipped", skipped,
		"duration", n.now().Sub(start))
	return nil
}

func (n *nearIndex) expire() {
	now := n.now()
	if n.window <= 0 || now.Sub(n.lastExpire) < expireEvery {
		return
	}
	n.mu.Lock()
	n.ix.Expire(now.Add(-n.window))
	n.mu.Unlock()
	n.lastExpire = now
}

// session is the wiredesk.StoryMatcher of one fetch. Items saved during
// the fetch go into a side index that joins the main one only when the
// transaction commits, so a rolled-back fetch leaves no trace, while a
// second copy inside the same fetch still finds the first.
type session struct {
	n      *nearIndex
	staged *dedupe.Index
	added  []staged
	docs   map[string]*dedupe.Doc // this fetch's cleaned texts, by GUID
	joined map[string]int64       // story Decide chose, by GUID
}

type staged struct {
	id     int64
	sig    dedupe.Signature
	at     time.Time
	doc    *dedupe.Doc
	digest uint64
	copy   bool // joined a story as a near-duplicate
}

func (n *nearIndex) session(docs map[string]*dedupe.Doc) *session {
	return &session{n: n, staged: dedupe.NewIndex(), docs: docs, joined: map[string]int64{}}
}

func (m *session) commit() {
	m.n.mu.Lock()
	for _, a := range m.added {
		m.n.ix.Add(a.id, a.sig, a.at)
	}
	m.n.mu.Unlock()
	for _, a := range m.added {
		// Only committed ids are cached (SQLite may hand a rolled-back id
		// to the next insert), and only copies: the later copies of the
		// story will find this one among their candidates.
		if a.copy {
			m.n.docs.put(a.id, a.digest, a.doc)
		}
	}
	m.added = nil
}

func signature(it wiredesk.Item) (dedupe.Signature, bool) {
	if len(it.Fingerprint) == 0 {
		return dedupe.Signature{}, false
	}
	sig, err := dedupe.ParseSignature(it.Fingerprint)
	if err != nil || sig.Empty() {
		return dedupe.Signature{}, false
	}
	return sig, true
}

// Candidates implements wiredesk.StoryMatcher: by the item's cleaned
// text when the fetch made one (the one Decide compares), which drops
// candidates it cannot plausibly share enough with before they are
// loaded; else by its fingerprint alone.
func (m *session) Candidates(it wiredesk.Item) []int64 {
	sig, ok := signature(it)
	if !ok {
		return nil
	}
	if d := m.docs[it.GUID]; d != nil {
		return append(m.n.ix.Near(d, m.n.threshold), m.staged.Near(d, m.n.threshold)...)
	}
	return append(m.n.ix.Candidates(sig), m.staged.Candidates(sig)...)
}

// Decide implements wiredesk.StoryMatcher: the candidate that shares the
// most of the shorter text wins, if the decision on the texts says Same.
func (m *session) Decide(it wiredesk.Item, cands []wiredesk.Item) int64 {
	doc := m.doc(it)
	var best dedupe.Decision
	var story int64
	var matched []int64 // stories one of whose copies matched
	for _, c := range cands {
		if slices.Contains(matched, c.StoryID) {
			// Candidates come best first; a lower-ranked copy of a story
			// that already matched is not worth cleaning and comparing.
			continue
		}
		cd := m.stagedDoc(c.ID)
		if cd == nil {
			cd = m.n.docs.get(c)
		}
		if cd == nil {
			d := dedupe.NewDoc(c.Title, c.Body())
			cd = &d
			m.n.docs.put(c.ID, textDigest(c), cd) // a committed item: not staged in this fetch
		}
		d := dedupe.Decide(*doc, *cd, m.n.threshold)
		if !d.Same {
			continue
		}
		matched = append(matched, c.StoryID)
		if story == 0 || d.Containment > best.Containment {
			best, story = d, c.StoryID
		}
	}
	if story != 0 {
		m.joined[it.GUID] = story
		m.n.logger.Debug("near-duplicate", "source", it.Source, "guid", it.GUID,
			"story_id", story, "reason", best.Reason)
	}
	return story
}

// doc is the new item's cleaned text: the one the fetch cleaned, else
// cleaned now.
func (m *session) doc(it wiredesk.Item) *dedupe.Doc {
	if d := m.docs[it.GUID]; d != nil {
		return d
	}
	d := dedupe.NewDoc(it.Title, it.Body())
	return &d
}

// stagedDoc is the cleaned text of an item saved earlier in this fetch.
func (m *session) stagedDoc(id int64) *dedupe.Doc {
	for _, a := range m.added {
		if a.id == id {
			return a.doc
		}
	}
	return nil
}

// Saved implements wiredesk.StoryMatcher.
func (m *session) Saved(it wiredesk.Item) {
	sig, ok := signature(it)
	if !ok {
		return
	}

	m.staged.Add(it.ID, sig, it.FirstSeen)
	joined, ok := m.joined[it.GUID]
	m.added = append(m.added, staged{id: it.ID, sig: sig, at: it.FirstSeen, doc: m.doc(it),
		digest: textDigest(it), copy: ok && joined == it.StoryID})
}

// candidateStore is the optional part of Store that lets a fetch clean
// its likely candidates' texts before it waits for the writer; *store.DB
// has it.
type candidateStore interface {
	ItemsByID(ctx context.Context, ids []int64) ([]wiredesk.Item, error)
}

// warm cleans, in the fetch's goroutine after its own items are cleaned
// and before it queues for the single writer, the texts of the stored
// items that its new items' Near finds now, into the doc cache: Decide
// then takes them from there instead of cleaning them under the writer,
// and the cleaning runs in parallel. Decide checks
// each cached doc against the text it compares, so an item changed
// since is cleaned again, and a candidate saved meanwhile is cleaned by
// Decide as before. Failing to load them costs only the time: Decide
// cleans what it does not find.
func (p *Poller) warm(ctx context.Context, docs map[string]*dedupe.Doc) {
	n := p.near.Load()
	cs, ok := p.store.(candidateStore)
	if n == nil || !ok || len(docs) == 0 {
		return
	}
	ids := n.uncached(docs)
	if len(ids) == 0 {
		return
	}
	items, err := cs.ItemsByID(ctx, ids)
	if err != nil {
		p.Logger.Debug("load likely candidates", "error", err)
		return
	}
	for _, it := range items {
		d := dedupe.NewDoc(it.Title, it.Body())
		n.docs.put(it.ID, textDigest(it), &d)
	}
}

// warmPerItem is how many of an item's candidates warm cleans: the best
// ranked. Most candidates beyond are other copies of the same story,
// which Decide skips once one matched.
const warmPerItem = 2

// uncached returns the ids of the warmPerItem best candidates Near finds
// for each of docs whose texts are not cached.
func (n *nearIndex) uncached(docs map[string]*dedupe.Doc) []int64 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	seen := map[int64]bool{}
	var ids []int64
	for _, d := range docs {
		near := n.ix.Near(d, n.threshold)
		for _, id := range near[:min(len(near), warmPerItem)] {
			if !seen[id] && !n.docs.has(id) {
				ids = append(ids, id)
			}
			seen[id] = true
		}
	}
	return ids
}
