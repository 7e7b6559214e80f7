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
// (the live entries carrying it) and the head of its posting list, most
// recent first and at most maxPostings long, in a node arena. No per-key
// allocation; a lookup walks one short probe run and at most maxPostings
// nodes a key. Entries are the caller's ids with the time each was added
// for and their keys. Lookups (Candidates, Near, Len) may run
// concurrently with each other; Add and Expire need the Index to
// themselves, which the caller ensures.
type Index struct {
	keys     keyTable
	nodes    []node   // posting list nodes; node 0 is the end of a list
	freeNode uint32   // first free node, chained through next
	ids      []int64  // by slot
	words    []int32  // by slot: the signature's word count
	ats      []int64  // by slot: the entry's time as Unix nanoseconds; dead for a free slot
	sigKeys  []uint32 // by slot: maxKeys keys, zero-padded, for Expire to count down df
	free     []uint32 // free slots
	live     int      // entries
}

// node is one posting: an entry slot and the next node of the key's list.
type node struct{ slot, next uint32 }

// maxKeys is the most keys a signature has.
const maxKeys = LedeKeys + WholeKeys

// dead marks a free slot in ats.
const dead = math.MinInt64

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
	} else {
		slot = uint32(len(ix.ids))
		ix.ids = append(ix.ids, id)
		ix.words = append(ix.words, clampWords(sig.words))
		ix.ats = append(ix.ats, stamp(at))
		ix.sigKeys = append(ix.sigKeys, make([]uint32, maxKeys)...)
	}
	ks := ix.sigKeys[int(slot)*maxKeys : int(slot+1)*maxKeys]
	clear(ks)
	copy(ks, sig.keys)
	ix.live++
	for _, k := range sig.keys {
		i := ix.keys.upsert(k)
		head := ix.newNode(slot, ix.keys.recs[i].head)
		ix.keys.recs[i].df++
		ix.keys.recs[i].head = head
		ix.trim(head)
	}
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
	for rest != 0 {
		next := ix.nodes[rest].next
		ix.nodes[rest].next = ix.freeNode
		ix.freeNode = rest
		rest = next
	}
}

// Candidates returns the ids of entries that share keys with sig, those
// sharing the most first (the most recent among equals), at most
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
		for n := r.head; n != 0; n = ix.nodes[n].next {
			slots = append(slots, ix.nodes[n].slot)
		}
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
		if j-i >= need && (d == nil || d.reach(ix.sigKeys[int(s)*maxKeys:int(s+1)*maxKeys], int(ix.words[s])) >= minReach) {
			hits = append(hits, hit{s, j - i})
		}
		i = j
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return cmpDesc(ix.ats[a.slot], ix.ats[b.slot])
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

func cmpDesc(a, b int64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// Expire drops the entries added for a time before the given one and
// returns how many it dropped.
func (ix *Index) Expire(before time.Time) int {
	cut := stamp(before)
	n := 0
	for s, at := range ix.ats {
		if at != dead && at < cut {
			ix.ats[s] = dead
			ix.free = append(ix.free, uint32(s))
			for _, k := range ix.sigKeys[s*maxKeys : (s+1)*maxKeys] {
				if i := ix.keys.find(k); k != 0 && i >= 0 {
					ix.keys.recs[i].df--
				}
			}
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
	if ix.live*8 < len(ix.ids) {
		ix.compact()
	}
	return n
}

// prune unlinks the postings of expired entries from a key's list, and
// deletes the key when no live entry carries it.
func (ix *Index) prune(r *keyRec) {
	if r.key == 0 {
		return
	}
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
	if r.df == 0 {
		*r = keyRec{head: tombstone}
	}
}

// compact renumbers the live entries after most have expired, so that the
// slot arrays, the node arena and the key table shrink with the window.
func (ix *Index) compact() {
	renum := make([]uint32, len(ix.ids))
	var ids, ats []int64
	var words []int32
	var sigKeys []uint32
	for s, at := range ix.ats {
		if at != dead {
			renum[s] = uint32(len(ids))
			ids, ats, words = append(ids, ix.ids[s]), append(ats, at), append(words, ix.words[s])
			sigKeys = append(sigKeys, ix.sigKeys[s*maxKeys:(s+1)*maxKeys]...)
		}
	}
	nodes := make([]node, 1, len(ix.nodes)/4+1)
	for i := range ix.keys.recs {
		r := &ix.keys.recs[i]
		if r.key == 0 {
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
	ix.ids, ix.ats, ix.words, ix.sigKeys, ix.free = ids, ats, words, sigKeys, nil
	ix.nodes, ix.freeNode = nodes, 0
	ix.keys.rehash(ix.keys.count())
}

// Len returns the number of entries.
func (ix *Index) Len() int { return ix.live }

// MemoryBytes estimates the memory the Index holds.
func (ix *Index) MemoryBytes() int {
	return 12*cap(ix.keys.recs) + 8*cap(ix.nodes) + 8*cap(ix.ids) + 4*cap(ix.words) + 8*cap(ix.ats) + 4*cap(ix.sigKeys) +
		4*cap(ix.free) + 100
}

// clampWords fits a word count in an int32; only a ratio of counts is
// ever taken, so clamping a text of two billion words changes nothing.
func clampWords(n int) int32 { return int32(min(n, math.MaxInt32)) }

// stamp converts a time to Unix nanoseconds, clamped to the int64 range
// (the zero time.Time is far outside it).
func stamp(t time.Time) int64 {
	const maxSec = math.MaxInt64/1_000_000_000 - 1
	s := t.Unix()
	switch {
	case s > maxSec:
		return math.MaxInt64
	case s < -maxSec:
		return dead + 1
	}
	return s*1e9 + int64(t.Nanosecond())
}
