package aggregator

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/dedupe"
)

// expireEvery is how often the index drops entries that left the window;
// a sweep walks the whole index, so not on every save.
const expireEvery = time.Minute

// nearIndex is the near-duplicate index of the items first seen within
// the window. Only the single writer uses it, so it needs no lock.
type nearIndex struct {
	ix         *dedupe.Index
	window     time.Duration
	threshold  float64
	now        func() time.Time
	logger     *slog.Logger
	lastExpire time.Time
}

// nearIndex returns the index, building it from the store on first use:
// it survives restarts because every item's fingerprint is stored with it.
// Called with writeMu held.
func (p *Poller) nearIndex(ctx context.Context) (*nearIndex, error) {
	n := p.near.Load()
	if n == nil {
		n = &nearIndex{ix: dedupe.NewIndex(), window: p.Window, threshold: p.Threshold,
			now: p.Now, logger: p.Logger}
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
	skipped, err := n.fill(ctx, st)
	if err != nil {
		return fmt.Errorf("load near-duplicate index: %w", err)
	}
	n.lastExpire = n.now()
	n.logger.Info("near-duplicate index loaded", "items", n.ix.Len(), "skipped", skipped,
		"duration", n.now().Sub(start))
	return nil
}

// fill adds the stored fingerprints to the index and returns how many it
// skipped. Reading and decoding them takes about as long as adding them
// (120,000 items: about 1.1 and 0.9 CPU-s), and the fetch whose save asked
// for the index waits for both: the index is filled on a goroutine of its
// own, in batches, which has ended when fill returns.
func (n *nearIndex) fill(ctx context.Context, st Store) (skipped int, err error) {
	const batchSize = 1024
	batches := make(chan []loaded, 4)
	filled := make(chan struct{})
	go func() {
		defer close(filled)
		for b := range batches {
			for _, e := range b {
				n.ix.Add(e.id, e.sig, e.at)
			}
		}
	}()
	// Deferred, so that the goroutine ends even if reading panics (a
	// push's handler recovers).
	defer func() {
		close(batches)
		<-filled
	}()
	batch := make([]loaded, 0, batchSize)
	err = st.Fingerprints(ctx, n.since(), func(id int64, at time.Time, fp []byte) error {
		sig, err := dedupe.ParseSignature(fp)
		if err != nil {
			// A fingerprint from another version of the format: the item
			// can still be found by exact keys, and is refingerprinted if
			// its feed changes it.
			skipped++
			return nil
		}
		if batch = append(batch, loaded{id, sig, at}); len(batch) == batchSize {
			batches <- batch
			batch = make([]loaded, 0, batchSize)
		}
		return nil
	})
	batches <- batch
	return skipped, err
}

// loaded is one stored item's fingerprint on its way into the index.
type loaded struct {
	id  int64
	sig dedupe.Signature
	at  time.Time
}

func (n *nearIndex) expire() {
	now := n.now()
	if n.window <= 0 || now.Sub(n.lastExpire) < expireEvery {
		return
	}
	n.ix.Expire(now.Add(-n.window))
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
}

type staged struct {
	id  int64
	sig dedupe.Signature
	at  time.Time
	doc *dedupe.Doc
}

func (n *nearIndex) session(docs map[string]*dedupe.Doc) *session {
	return &session{n: n, staged: dedupe.NewIndex(), docs: docs}
}

func (m *session) commit() {
	for _, a := range m.added {
		m.n.ix.Add(a.id, a.sig, a.at)
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
		cd, err := m.candidateDoc(c)
		if err != nil {
			m.n.logger.Debug("near-duplicate candidate skipped", "source", it.Source, "guid", it.GUID,
				"candidate", c.ID, "error", err)
			continue
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

// candidateDoc is a candidate's cleaned text: as this fetch cleaned it
// if the fetch saved it, else as stored, else cleaned from its text now
// (an item stored before docs were, or outside the window). A stored doc
// this version cannot read is an error, since the store handed over no
// text with it: dedupe.DocVersion changes with a store migration that
// drops the stored docs.
func (m *session) candidateDoc(c wiredesk.Item) (*dedupe.Doc, error) {
	for _, a := range m.added {
		if a.id == c.ID {
			return a.doc, nil
		}
	}
	if len(c.Doc) > 0 {
		d, err := dedupe.ParseDoc(c.Doc)
		return &d, err
	}
	d := dedupe.NewDoc(c.Title, c.Body())
	return &d, nil
}

// Saved implements wiredesk.StoryMatcher.
func (m *session) Saved(it wiredesk.Item) {
	sig, ok := signature(it)
	if !ok {
		return
	}

	m.staged.Add(it.ID, sig, it.FirstSeen)
	m.added = append(m.added, staged{id: it.ID, sig: sig, at: it.FirstSeen, doc: m.doc(it)})
}
