package dedupe

import (
	"math"
	"slices"
	"time"
)

// Index parameters.
const (
	// MaxCandidates caps what Candidates returns: the caller loads and
	// compares each candidate's text, and the true copies of one story
	// rank first because they share the most keys.
	MaxCandidates = 8
	// maxPostings caps how many entries one key lists: the most recent
	// ones. A copy needs to find one earlier copy of its story, not all
	// of them, and the cap bounds the nodes a lookup walks.
	maxPostings = 16
	// minBoilerplate and boilerplateShare make a key boilerplate when more
	// live entries carry it than both minBoilerplate and the share
	// 1/boilerplateShare of all entries. Such a key is a sentence of a
	// template or furniture the cleaner missed, shared by unrelated
	// items: Candidates neither scans it nor counts it as evidence. A
	// wire story carried by more outlets than that within the window
	// loses its keys to this rule, so the floor is set well above the
	// copies of a popular story.
	minBoilerplate   = 128
	boilerplateShare = 256
	// minTableSize is the smallest table allocated.
	minTableSize = 64
	// reachShare is the share of the threshold below which Near drops a
	// candidate by its estimated reach (see Doc.reach) without the caller
	// loading and comparing its text. The estimate samples at most
	// LedeKeys+WholeKeys runs, so the margin is wide. With the share of
	// all keys alone, the lowest estimate of a pair Decide calls Same was
	// 0.58 on the labelled set and 0.5 on the 2,000-feed farm, where 0.35
	// dropped half of the 83,592 candidates Decide rejected and no copy;
	// copies with a rewritten opening need the whole-text share too
	// (TestNearRewrittenOpening). Replaying that farm, candidates per
	// item are 1.48 with Near, 1.65 without.
	reachShare = 0.7
	// maxReachCut caps the cut at high thresholds: an estimate from the
	// WholeKeys whole-text keys moves in steps of a sixth, and a copy that
	// rewrote its opening may lose two of them to it.
	maxReachCut = 0.4
)

// Index finds candidate copies of a signature among the signatures added
// to it, in time independent of how many there are. A flat
// open-addressing table holds one record per key: its document frequency
// (the live entries carrying it) and its postings, most recent first and
// at most maxPostings: a key's only posting in the record itself, more in
// a list in a node arena. No per-key allocation; a lookup walks one short
// probe run and at most maxPostings postings a key. Entries are the
// caller's ids with the time each was added for and their keys, in flat
// arrays by slot. Lookups (Candidates, Near, Len) may run concurrently
// with each other; Add and Expire need the Index to themselves, which the
// caller ensures.
//
// The index is the bulk of a daemon's memory at rest (some 600,000
// entries in a 72-hour window of 10,000 sources), so entries are kept
// small: times in seconds, keys in one pool at their signature's length
// rather than in fixed-size arrays, and a key carried by one entry (most
// keys of real news text) costs no node.
type Index struct {
	keys     keyTable
	nodes    []node   // posting list nodes; node 0 is the end of a list
	freeNode uint32   // first free node, chained through next
	ids      []int64  // by slot
	ats      []uint32 // by slot: the entry's time (see stamp); dead for a free slot
	words    []int32  // by slot: the signature's word count
	keyAt    []uint32 // by slot: where its signature's keys start in pool
	nkeys    []uint8  // by slot: how many keys its signature has (at most maxKeys)
	pool     []uint32 // each slot's keys, ascending, for Near and for Expire to count down df
	poolDead int      // keys in pool that belong to no live entry
	free     []uint32 // free slots
	live     int      // entries
}

// node is one posting: an entry slot and the next node of the key's list.
type node struct{ slot, next uint32 }

// inline marks a key record's head that is a slot, the key's only
// posting, rather than the first node of a list. Slots and nodes stay
// below it: two billion entries would take tens of gigabytes.
const inline = 1 << 31

// maxKeys is the most keys a signature has.
const maxKeys = LedeKeys + WholeKeys

// dead marks a free slot in ats.
const dead = 0

// NewIndex returns an empty Index.
func NewIndex() *Index { return &Index{} }

// Add indexes an entry: the caller's item id, its signature, and when it
// was published or seen (for Expire). An empty signature is not indexed.
func (ix *Index) Add(id int64, sig Signature, at time.Time) {
	if sig.Empty() {
		return
	}
	var slot uint32
	if n := len(ix.free); n > 0 {
		slot = ix.free[n-1]
		ix.free = ix.free[:n-1]
		ix.ids[slot], ix.ats[slot], ix.words[slot] = id, stamp(at), clampWords(sig.words)
		// A freed slot keeps its stretch of the pool (see Expire): the
		// keys go there when they fit, else at the end of the pool.
		if len(sig.keys) <= int(ix.nkeys[slot]) {
			copy(ix.pool[ix.keyAt[slot]:], sig.keys)
			ix.poolDead -= len(sig.keys)
		} else {
			ix.keyAt[slot] = uint32(len(ix.pool))
			ix.pool = append(ix.pool, sig.keys...)
		}
		ix.nkeys[slot] = uint8(len(sig.keys))
	} else {
		slot = uint32(len(ix.ids))
		ix.ids = append(ix.ids, id)
		ix.ats = append(ix.ats, stamp(at))
		ix.words = append(ix.words, clampWords(sig.words))
		ix.keyAt = append(ix.keyAt, uint32(len(ix.pool)))
		ix.nkeys = append(ix.nkeys, uint8(len(sig.keys)))
		ix.pool = append(ix.pool, sig.keys...)
	}
	ix.live++
	for _, k := range sig.keys {
		i := ix.keys.upsert(k) // may rehash: index recs after it
		r := &ix.keys.recs[i]
		r.df++
		switch h := r.head; {
		case h == 0:
			r.head = slot | inline
		case h&inline != 0:
			r.head = ix.newNode(slot, ix.newNode(h&^inline, 0))
		default:
			r.head = ix.newNode(slot, h)
			// A list holds live postings only (Expire prunes the
			// dead), so it is no longer than df: only a key carried
			// by more than maxPostings entries can need a cut. Walking
			// every list to find out was two thirds of loading an index.
			if r.df > maxPostings {
				ix.trim(r.head)
			}
		}
	}
}

// slotKeys returns the signature keys of the entry in a slot.
func (ix *Index) slotKeys(s uint32) []uint32 {
	at := ix.keyAt[s]
	return ix.pool[at : at+uint32(ix.nkeys[s])]
}

// newNode returns a node holding a posting.
func (ix *Index) newNode(slot, next uint32) uint32 {
	if len(ix.nodes) == 0 {
		ix.nodes = make([]node, 1, minTableSize)
	}
	if n := ix.freeNode; n != 0 {
		ix.freeNode = ix.nodes[n].next
		ix.nodes[n] = node{slot, next}
		return n
	}
	ix.nodes = append(ix.nodes, node{slot, next})
	return uint32(len(ix.nodes) - 1)
}

// freeList returns the nodes of a list to the free chain.
func (ix *Index) freeList(n uint32) {
	for n != 0 {
		next := ix.nodes[n].next
		ix.nodes[n].next = ix.freeNode
		ix.freeNode = n
		n = next
	}
}

// trim cuts a posting list after maxPostings nodes: a copy needs to find
// one earlier copy of its story, the most recent will do.
func (ix *Index) trim(n uint32) {
	for c := 1; c < maxPostings && n != 0; c++ {
		n = ix.nodes[n].next
	}
	if n == 0 {
		return
	}
	rest := ix.nodes[n].next
	ix.nodes[n].next = 0
	ix.freeList(rest)
}

// appendSlots appends the slots of a key record's postings to slots.
func (ix *Index) appendSlots(slots []uint32, r keyRec) []uint32 {
	if r.head&inline != 0 {
		return append(slots, r.head&^inline)
	}
	for n := r.head; n != 0; n = ix.nodes[n].next {
		slots = append(slots, ix.nodes[n].slot)
	}
	return slots
}

// Candidates returns the ids of entries that share keys with sig, those
// sharing the most first (the most recent among equals, to the second,
// then the highest id), at most
// MaxCandidates. Boilerplate keys (see minBoilerplate) are ignored. An
// entry qualifies with three shared keys when sig has ten or more, two
// when it has four or more, one when fewer (a very short text): true
// copies share most of their keys, texts written from one template a few
// by chance. Decide must still confirm each.
func (ix *Index) Candidates(sig Signature) []int64 {
	return ix.candidates(sig, nil, 0)
}

// Near returns the Candidates of d's signature, less those whose text d
// plausibly neither contains nor is contained by to threshold: the share
// of a candidate's signature keys among d's runs, scaled to the shorter
// text, estimates the run containment Decide will find (see Doc.reach).
// A lookup costs a few binary searches per candidate; each candidate it
// drops would have cost the caller a load, a cleaning and a Decide.
func (ix *Index) Near(d *Doc, threshold float64) []int64 {
	return ix.candidates(d.sig, d, min(reachShare*threshold, maxReachCut))
}

// candidates is Candidates, dropping entries whose reach from d (when d
// is not nil) is under minReach.
func (ix *Index) candidates(sig Signature, d *Doc, minReach float64) []int64 {
	if sig.Empty() || ix.live == 0 {
		return nil
	}
	limit := max(minBoilerplate, ix.live/boilerplateShare)
	// Every key's list is at most maxPostings long: the slots fit on the
	// stack, and lookups need not share a buffer, so that they may run
	// concurrently with each other (not with Add or Expire).
	var buf [maxKeys * maxPostings]uint32
	slots := buf[:0]
	for _, k := range sig.keys {
		r := ix.keys.get(k)
		if int(r.df) > limit {
			continue
		}
		slots = ix.appendSlots(slots, r)
	}
	need := 1
	switch {
	case len(sig.keys) >= 10:
		need = 3
	case len(sig.keys) >= 4:
		need = 2
	}
	return ix.rank(slots, need, d, minReach)
}

// rank counts the hits of each slot and returns the ids with at least
// need hits (and, when d is not nil, reach from d of at least minReach),
// most hits first, then the most recent.
func (ix *Index) rank(slots []uint32, need int, d *Doc, minReach float64) []int64 {
	if len(slots) < need {
		return nil
	}
	slices.Sort(slots)
	type hit struct {
		slot uint32
		n    int
	}
	var hits []hit
	for i := 0; i < len(slots); {
		j := i + 1
		for j < len(slots) && slots[j] == slots[i] {
			j++
		}
		s := slots[i]
		if j-i >= need && (d == nil || d.reach(ix.slotKeys(s), int(ix.words[s])) >= minReach) {
			hits = append(hits, hit{s, j - i})
		}
		i = j
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.n != b.n {
			return b.n - a.n
		}
		if c := cmpDesc(ix.ats[a.slot], ix.ats[b.slot]); c != 0 {
			return c
		}
		return cmpDesc(ix.ids[a.slot], ix.ids[b.slot])
	})
	var out []int64
	for _, h := range hits {
		if id := ix.ids[h.slot]; !slices.Contains(out, id) {
			out = append(out, id)
		}
		if len(out) == MaxCandidates {
			break
		}
	}
	return out
}

func cmpDesc[T uint32 | int64](a, b T) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// Expire drops the entries added for a time before the given one and
// returns how many it dropped. Times are kept to the second, and a cut
// within a second is rounded up to the next: the entries of that second
// go too, even those after the cut.
func (ix *Index) Expire(before time.Time) int {
	cut := stamp(before.Add(time.Second - 1).Truncate(time.Second))
	n := 0
	for s, at := range ix.ats {
		if at != dead && at < cut {
			ix.ats[s] = dead
			ix.free = append(ix.free, uint32(s))
			for _, k := range ix.slotKeys(uint32(s)) {
				if i := ix.keys.find(k); i >= 0 {
					ix.keys.recs[i].df--
				}
			}
			// The slot keeps keyAt and nkeys: its stretch of the
			// pool, dead until Add reuses it.
			ix.poolDead += int(ix.nkeys[s])
			n++
		}
	}
	if n == 0 {
		return 0
	}
	ix.live -= n
	if ix.live == 0 {
		*ix = Index{}
		return n
	}
	for i := range ix.keys.recs {
		ix.prune(&ix.keys.recs[i])
	}
	switch {
	case ix.live*8 < len(ix.ids):
		ix.compact()
	case ix.poolDead > len(ix.pool)/4:
		ix.compactPool()
	}
	return n
}

// prune unlinks the postings of expired entries from a key's list, and
// deletes the key when no live entry carries it. A list left with one
// posting gives its node back.
func (ix *Index) prune(r *keyRec) {
	if r.key == 0 {
		return
	}
	if h := r.head; h&inline != 0 {
		if ix.ats[h&^inline] == dead {
			r.head = 0
		}
	} else {
		prev := &r.head
		for n := *prev; n != 0; {
			next := ix.nodes[n].next
			if ix.ats[ix.nodes[n].slot] == dead {
				*prev = next
				ix.nodes[n].next = ix.freeNode
				ix.freeNode = n
			} else {
				prev = &ix.nodes[n].next
			}
			n = next
		}
		if h := r.head; h != 0 && ix.nodes[h].next == 0 {
			r.head = ix.nodes[h].slot | inline
			ix.freeList(h)
		}
	}
	if r.df == 0 {
		*r = keyRec{head: tombstone}
	}
}

// compactPool drops the dead keys from the pool. Free slots lose their
// stretch of it. Run when a quarter of it is dead, so that a sliding
// window holds at most a third more than its live keys, at the cost of
// copying the live keys once per quarter of the window that expires.
func (ix *Index) compactPool() {
	pool := make([]uint32, 0, len(ix.pool)-ix.poolDead)
	for s, at := range ix.ats {
		if at == dead {
			ix.keyAt[s], ix.nkeys[s] = 0, 0
			continue
		}
		keys := ix.slotKeys(uint32(s))
		ix.keyAt[s] = uint32(len(pool))
		pool = append(pool, keys...)
	}
	ix.pool, ix.poolDead = pool, 0
}

// compact renumbers the live entries after most have expired, so that the
// slot arrays, the key pool, the node arena and the key table shrink with
// the window.
func (ix *Index) compact() {
	renum := make([]uint32, len(ix.ids))
	live := ix.live
	ids, ats, words := make([]int64, 0, live), make([]uint32, 0, live), make([]int32, 0, live)
	keyAt, nkeys := make([]uint32, 0, live), make([]uint8, 0, live)
	pool := make([]uint32, 0, len(ix.pool)-ix.poolDead)
	for s, at := range ix.ats {
		if at != dead {
			renum[s] = uint32(len(ids))
			ids, ats, words = append(ids, ix.ids[s]), append(ats, at), append(words, ix.words[s])
			keyAt, nkeys = append(keyAt, uint32(len(pool))), append(nkeys, ix.nkeys[s])
			pool = append(pool, ix.slotKeys(uint32(s))...)
		}
	}
	nodes := make([]node, 1, len(ix.nodes)/4+1)
	for i := range ix.keys.recs {
		r := &ix.keys.recs[i]
		if r.key == 0 {
			continue
		}
		if r.head&inline != 0 {
			r.head = renum[r.head&^inline] | inline
			continue
		}
		head, last := uint32(0), uint32(0)
		for n := r.head; n != 0; n = ix.nodes[n].next {
			nodes = append(nodes, node{slot: renum[ix.nodes[n].slot]})
			j := uint32(len(nodes) - 1)
			if last == 0 {
				head = j
			} else {
				nodes[last].next = j
			}
			last = j
		}
		r.head = head
	}
	ix.ids, ix.ats, ix.words, ix.keyAt, ix.nkeys, ix.free = ids, ats, words, keyAt, nkeys, nil
	ix.pool, ix.poolDead = pool, 0
	ix.nodes, ix.freeNode = nodes, 0
	ix.keys.rehash(ix.keys.count())
}

// Len returns the number of entries.
func (ix *Index) Len() int { return ix.live }

// MemoryBytes estimates the memory the Index holds.
func (ix *Index) MemoryBytes() int {
	return 12*cap(ix.keys.recs) + 8*cap(ix.nodes) + 8*cap(ix.ids) + 4*cap(ix.ats) + 4*cap(ix.words) +
		4*cap(ix.keyAt) + cap(ix.nkeys) + 4*cap(ix.pool) + 4*cap(ix.free) + 100
}

// clampWords fits a word count in an int32; only a ratio of counts is
// ever taken, so clamping a text of two billion words changes nothing.
func clampWords(n int) int32 { return int32(min(n, math.MaxInt32)) }

// stamp converts a time to Unix seconds, clamped to [1, MaxUint32] so
// that it fits four bytes and is never dead: an entry from before 1970
// is simply old, and a time past 2106 is simply new.
func stamp(t time.Time) uint32 {
	return uint32(min(max(t.Unix(), 1), math.MaxUint32))
}
