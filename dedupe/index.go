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
	MaxCandidates = 24
	// maxPostings caps how many entries one key lists. A key shared by
	// that many texts is boilerplate the cleaner missed, not evidence; the
	// cap also bounds the probe runs of the table.
	maxPostings = 64
	// minTableSize is the smallest table allocated.
	minTableSize = 64
)

// Index finds candidate copies of a signature among the signatures added
// to it, in time independent of how many there are. It is a multimap from
// signature key to entry, kept as one flat open-addressing table of
// uint64 words (key<<32 | entry slot) with linear probing: eight bytes a
// key, no per-key allocation, so a million entries fit in a few hundred
// megabytes. Entries are the caller's ids with the time each was added
// for. An Index is not safe for concurrent use; the caller serialises.
type Index struct {
	table []uint64 // 0 is empty; key 0 with a non-zero slot is a tombstone
	used  int      // table words in use, tombstones included
	ids   []int64  // by slot
	ats   []int64  // by slot: the entry's time as Unix nanoseconds; dead for a free slot
	free  []uint32 // free slots
	live  int      // entries

	scratch []uint32 // Candidates' slot list, reused between calls
}

// dead marks a free slot in ats.
const dead = math.MinInt64

// tombstone is a deleted table word: it does not end a probe run.
const tombstone = 1

// NewIndex returns an empty Index.
func NewIndex() *Index { return &Index{} }

// Add indexes an entry: the caller's item id, its signature, and when it
// was published or seen (for Expire). An empty signature is not indexed.
func (ix *Index) Add(id int64, sig Signature, at time.Time) {
	if sig.Empty() {
		return
	}
	if ix.used+len(sig.keys) > len(ix.table)*7/10 {
		ix.rehash(ix.postings() + len(sig.keys))
	}
	var slot uint32
	if n := len(ix.free); n > 0 {
		slot = ix.free[n-1]
		ix.free = ix.free[:n-1]
		ix.ids[slot], ix.ats[slot] = id, stamp(at)
	} else {
		slot = uint32(len(ix.ids))
		ix.ids = append(ix.ids, id)
		ix.ats = append(ix.ats, stamp(at))
	}
	ix.live++
	for _, k := range sig.keys {
		ix.insert(k, slot)
	}
}

// insert adds one posting unless its key already lists maxPostings live
// entries.
func (ix *Index) insert(k uint32, slot uint32) {
	i := ix.home(k)
	spare := -1
	same := 0
	for ; ix.table[i] != 0; i = ix.next(i) {
		w := ix.table[i]
		switch {
		case uint32(w>>32) == k:
			if same++; same >= maxPostings {
				return
			}
		case w == tombstone && spare < 0:
			spare = i
		}
	}
	if spare >= 0 {
		i = spare
	} else {
		ix.used++
	}
	ix.table[i] = uint64(k)<<32 | uint64(slot)
}

// home is the first table position probed for a key. Keys are already
// uniformly distributed hash bits, so a multiply-shift maps them onto a
// table of any size.
func (ix *Index) home(k uint32) int { return int(uint64(k) * uint64(len(ix.table)) >> 32) }

func (ix *Index) next(i int) int {
	if i++; i == len(ix.table) {
		return 0
	}
	return i
}

// postings counts the live table words.
func (ix *Index) postings() int {
	n := 0
	for _, w := range ix.table {
		if w>>32 != 0 {
			n++
		}
	}
	return n
}

// rehash rebuilds the table for n postings at a load of one half,
// dropping tombstones.
func (ix *Index) rehash(n int) {
	old := ix.table
	ix.table = make([]uint64, max(minTableSize, 2*n))
	ix.used = 0
	for _, w := range old {
		if w>>32 == 0 {
			continue
		}
		i := ix.home(uint32(w >> 32))
		for ix.table[i] != 0 {
			i = ix.next(i)
		}
		ix.table[i] = w
		ix.used++
	}
}

// Candidates returns the ids of entries that share keys with sig, those
// sharing the most first, at most MaxCandidates. An entry qualifies with
// two shared keys, or one when sig has fewer than four keys (a very short
// text); Decide must still confirm each.
func (ix *Index) Candidates(sig Signature) []int64 {
	if sig.Empty() || ix.live == 0 {
		return nil
	}
	slots := ix.scratch[:0]
	defer func() { ix.scratch = slots[:0] }()
	for _, k := range sig.keys {
		for i := ix.home(k); ix.table[i] != 0; i = ix.next(i) {
			if w := ix.table[i]; uint32(w>>32) == k {
				slots = append(slots, uint32(w))
			}
		}
	}
	need := 2
	if len(sig.keys) < 4 {
		need = 1
	}
	return ix.rank(slots, need)
}

// rank counts the hits of each slot and returns the ids with at least
// need hits, most hits first.
func (ix *Index) rank(slots []uint32, need int) []int64 {
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
		if j-i >= need {
			hits = append(hits, hit{slots[i], j - i})
		}
		i = j
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return b.n - a.n })
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

// Expire drops the entries added for a time before the given one and
// returns how many it dropped.
func (ix *Index) Expire(before time.Time) int {
	cut := stamp(before)
	n := 0
	for s, at := range ix.ats {
		if at != dead && at < cut {
			ix.ats[s] = dead
			ix.free = append(ix.free, uint32(s))
			n++
		}
	}
	if n == 0 {
		return 0
	}
	for i, w := range ix.table {
		if w>>32 != 0 && ix.ats[uint32(w)] == dead {
			ix.table[i] = tombstone
		}
	}
	ix.live -= n
	if ix.live == 0 {
		*ix = Index{}
	} else if ix.live*8 < len(ix.ids) {
		ix.compact()
	}
	return n
}

// compact renumbers the live entries after most have expired, so that the
// slot arrays shrink with the window.
func (ix *Index) compact() {
	renum := make([]uint32, len(ix.ids))
	var ids, ats []int64
	for s, at := range ix.ats {
		if at != dead {
			renum[s] = uint32(len(ids))
			ids, ats = append(ids, ix.ids[s]), append(ats, at)
		}
	}
	n := 0
	for i, w := range ix.table {
		if w>>32 != 0 {
			ix.table[i] = w&^0xffffffff | uint64(renum[uint32(w)])
			n++
		}
	}
	ix.ids, ix.ats, ix.free = ids, ats, nil
	ix.rehash(n)
}

// Len returns the number of entries.
func (ix *Index) Len() int { return ix.live }

// MemoryBytes estimates the memory the Index holds.
func (ix *Index) MemoryBytes() int {
	return 8*cap(ix.table) + 8*cap(ix.ids) + 8*cap(ix.ats) + 4*cap(ix.free) + 4*cap(ix.scratch) + 100
}

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
