package dedupe

// keyTable maps a key to its entry: an open-addressing hash table with
// linear probing over a flat slice, one record per distinct key, so a
// probe run is as long as the table's load makes it whatever the key's
// document frequency.
type keyTable struct {
	recs []keyRec
	used int // records in use, tombstones included
}

// keyRec is one key's record: how many live entries carry it, and the
// head of its posting list (most recent first). Key 0 is an empty record,
// or a tombstone when head is tombstone.
type keyRec struct {
	key, df, head uint32
}

// tombstone is the head of a deleted record: it does not end a probe run.
const tombstone = ^uint32(0)

// home is the first position probed for a key. Keys are hash bits, but
// not uniform ones: a signature keeps the smallest hashes of a text, so
// keys crowd the low end of the range, and mapping them onto the table
// as they are piles them into one probe run at its start. A Fibonacci
// multiply spreads them first, then a multiply-shift maps them onto a
// table of any size.
func (t *keyTable) home(k uint32) int {
	h := (uint64(k) * 0x9e3779b97f4a7c15) >> 32
	return int(h * uint64(len(t.recs)) >> 32)
}

func (t *keyTable) next(i int) int {
	if i++; i == len(t.recs) {
		return 0
	}
	return i
}

func (r keyRec) empty() bool { return r.key == 0 && r.head != tombstone }

// find returns the position of a key's record, or -1.
func (t *keyTable) find(k uint32) int {
	if len(t.recs) == 0 {
		return -1
	}
	for i := t.home(k); !t.recs[i].empty(); i = t.next(i) {
		if t.recs[i].key == k {
			return i
		}
	}
	return -1
}

// get returns a key's record, or an empty one.
func (t *keyTable) get(k uint32) keyRec {
	if i := t.find(k); i >= 0 {
		return t.recs[i]
	}
	return keyRec{}
}

// upsert returns the position of a key's record, adding an empty one (df
// 0, no postings) if the key has none.
func (t *keyTable) upsert(k uint32) int {
	if t.used+1 > len(t.recs)*7/10 {
		t.rehash(t.count() + 1)
	}
	spare := -1
	i := t.home(k)
	for ; !t.recs[i].empty(); i = t.next(i) {
		switch {
		case t.recs[i].key == k:
			return i
		case t.recs[i].key == 0 && spare < 0:
			spare = i
		}
	}
	if spare >= 0 {
		i = spare
	} else {
		t.used++
	}
	t.recs[i] = keyRec{key: k}
	return i
}

// count counts the live records.
func (t *keyTable) count() int {
	n := 0
	for _, r := range t.recs {
		if r.key != 0 {
			n++
		}
	}
	return n
}

// rehash rebuilds the table for n records at a load of one half,
// dropping tombstones.
func (t *keyTable) rehash(n int) {
	old := t.recs
	t.recs = make([]keyRec, max(minTableSize, 2*n))
	t.used = 0
	for _, r := range old {
		if r.key == 0 {
			continue
		}
		i := t.home(r.key)
		for !t.recs[i].empty() {
			i = t.next(i)
		}
		t.recs[i] = r
		t.used++
	}
}
