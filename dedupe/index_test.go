package dedupe

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSignatureRoundTrip(t *testing.T) {
	for _, body := range []string{paras(story...), paras(story[0]), "<p>Too short to index.</p>", ""} {
		sig := NewDoc("", body).Signature()
		b, err := sig.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseSignature(b)
		if err != nil {
			t.Fatalf("ParseSignature(%x): %v", b, err)
		}
		if !slices.Equal(got.keys, sig.keys) || got.words != sig.words || got.Empty() != sig.Empty() {
			t.Errorf("round trip: got %+v, want %+v", got, sig)
		}
		again, _ := got.MarshalBinary()
		if !bytes.Equal(again, b) {
			t.Errorf("re-encoding differs: %x vs %x", again, b)
		}
	}
	if NewDoc("", paras(story...)).Signature().Empty() {
		t.Error("a full story has an empty signature")
	}
	if !NewDoc("", "<p>Too short to index.</p>").Signature().Empty() {
		t.Error("a four-word text has a signature")
	}
	if n := len(NewDoc("", paras(story...)).Signature().keys); n > LedeKeys+WholeKeys || n < LedeKeys {
		t.Errorf("%d keys", n)
	}
}

func TestParseSignatureGarbage(t *testing.T) {
	good, _ := NewDoc("", paras(story...)).Signature().MarshalBinary()
	swapped := slices.Clone(good)
	copy(swapped[3:7], good[7:11]) // keys out of order
	copy(swapped[7:11], good[3:7])
	tests := map[string][]byte{
		"nil":            nil,
		"version only":   {signatureVersion},
		"other version":  append([]byte{9}, good[1:]...),
		"truncated":      good[:len(good)-1],
		"padded":         append(slices.Clone(good), 0),
		"too many keys":  {signatureVersion, 100, 200},
		"zero key":       {signatureVersion, 100, 1, 0, 0, 0, 0},
		"unsorted keys":  swapped,
		"bad varint":     {signatureVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"text":           []byte("hello, world"),
		"no count bytes": {signatureVersion, 5},
	}
	for name, b := range tests {
		if _, err := ParseSignature(b); !errors.Is(err, errSignature) {
			t.Errorf("%s: ParseSignature(%x) = %v, want an invalid signature error", name, b, err)
		}
	}
}

// variant returns the i-th synthetic text: a shuffle of a vocabulary, so
// that different i share words but hardly any four-word run.
func variant(i, words int) string {
	b := make([]byte, 0, words*8)
	x := uint64(i)*0x9e3779b97f4a7c15 + 1
	for range words {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b = append(b, vocabulary[x%uint64(len(vocabulary))]...)
		b = append(b, ' ')
	}
	return string(b)
}

var vocabulary = func() []string {
	var v []string
	for _, a := range []string{"port", "storm", "minister", "trade", "court", "rail", "bank", "river", "army", "crop",
		"market", "school", "border", "power", "water", "vote", "price", "mine", "plant", "fleet"} {
		for _, b := range []string{"", "s", "ed", "ing", "er", "al", "ly", "ment", "ist", "ward"} {
			v = append(v, a+b)
		}
	}
	return v
}()

func TestIndex(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ix := NewIndex()
	full := NewDoc("", paras(story...))
	t.Run("empty", func(t *testing.T) {
		if got := ix.Candidates(full.Signature()); len(got) != 0 || ix.Len() != 0 {
			t.Errorf("empty index: candidates %v, len %d", got, ix.Len())
		}
		ix.Add(99, NewDoc("", "<p>short</p>").Signature(), t0)
		if ix.Len() != 0 {
			t.Errorf("an empty signature was indexed")
		}
	})
	// Many unrelated texts, one an hour, then the story and its lede.
	const n = 600
	for i := range n {
		ix.Add(int64(1000+i), NewDoc("", variant(i, 120)).Signature(), t0.Add(time.Duration(i)*time.Hour))
	}
	late := t0.Add(n * time.Hour)
	ix.Add(1, full.Signature(), late)
	t.Run("add and candidates", func(t *testing.T) {
		if ix.Len() != n+1 {
			t.Errorf("Len() = %d, want %d", ix.Len(), n+1)
		}
		if got := ix.Candidates(full.Signature()); len(got) == 0 || got[0] != 1 {
			t.Errorf("the story's own signature: candidates %v, want 1 first", got)
		}
		lede := NewDoc("", paras(story[0]))
		if got := ix.Candidates(lede.Signature()); !slices.Contains(got, 1) {
			t.Errorf("lede: candidates %v, want 1 among them", got)
		}
		// An outlet that wrote its own first paragraph is found by the
		// whole-text keys.
		rewritten := NewDoc("", paras(append([]string{"Thousands of people were leaving their homes on the coast of Veloria on Tuesday as a tropical storm closed in, with officials warning of floods and damaging winds."}, story[1:]...)...))
		if got := ix.Candidates(rewritten.Signature()); !slices.Contains(got, 1) {
			t.Errorf("rewritten lede: candidates %v, want 1 among them", got)
		}
		other := NewDoc("", paras("The central bank left its benchmark rate unchanged on Thursday, citing stubborn food prices and a weaker currency, and said it would keep watching wage data closely before any move."))
		if got := ix.Candidates(other.Signature()); len(got) != 0 {
			t.Errorf("unrelated text: candidates %v, want none", got)
		}
		if got := ix.Candidates(NewDoc("", variant(7, 120)).Signature()); len(got) == 0 || got[0] != 1007 || len(got) > MaxCandidates {
			t.Errorf("variant 7: candidates %v, want 1007 first", got)
		}
	})
	t.Run("expire", func(t *testing.T) {
		before := ix.MemoryBytes()
		if got := ix.Expire(t0); got != 0 {
			t.Errorf("Expire(first) = %d, want 0", got)
		}
		if got := ix.Expire(t0.Add(550 * time.Hour)); got != 550 {
			t.Errorf("Expire = %d, want 550", got)
		}
		if ix.Len() != 51 {
			t.Errorf("Len() = %d, want 51", ix.Len())
		}
		if got := ix.Candidates(NewDoc("", variant(7, 120)).Signature()); slices.Contains(got, 1007) {
			t.Errorf("expired entry still a candidate: %v", got)
		}
		if got := ix.Candidates(NewDoc("", variant(590, 120)).Signature()); len(got) == 0 || got[0] != 1590 {
			t.Errorf("kept entry: candidates %v, want 1590 first", got)
		}
		if got := ix.Candidates(full.Signature()); len(got) == 0 || got[0] != 1 {
			t.Errorf("story after expiry: %v", got)
		}
		if got := ix.Near(&full, DefaultThreshold); len(got) == 0 || got[0] != 1 {
			t.Errorf("Near after expiry compacted the index: %v, want 1 first", got)
		}
		if after := ix.MemoryBytes(); after >= before {
			t.Errorf("MemoryBytes %d after expiring most entries, was %d", after, before)
		}
		// Slots freed by expiry are reused.
		ix.Add(2, full.Signature(), late)
		if got := ix.Candidates(full.Signature()); !slices.Contains(got, 1) || !slices.Contains(got, 2) {
			t.Errorf("after re-adding: %v", got)
		}
		if got := ix.Expire(late.Add(time.Nanosecond)); got != 52 || ix.Len() != 0 {
			t.Errorf("Expire(all) = %d, Len %d", got, ix.Len())
		}
		if got := ix.Candidates(full.Signature()); len(got) != 0 {
			t.Errorf("candidates in an emptied index: %v", got)
		}
	})
}

// TestIndexHotKey checks that keys shared by very many entries (page
// furniture the cleaner missed, a template's sentences) keep a bounded
// posting list, and that past the boilerplate limit they are no evidence.
func TestIndexHotKey(t *testing.T) {
	ix := NewIndex()
	sig := NewDoc("", paras(story...)).Signature()
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := range minBoilerplate {
		ix.Add(int64(i), sig, t0.Add(time.Duration(i)*time.Second))
	}
	got := ix.Candidates(sig)
	// The most recent entries rank first among equals.
	if len(got) != MaxCandidates || got[0] != minBoilerplate-1 {
		t.Errorf("candidates %v, want the cap %d, newest first", got, MaxCandidates)
	}
	if n := ix.postings(); n > len(sig.keys)*maxPostings {
		t.Errorf("%d postings for %d keys, want at most %d a key", n, len(sig.keys), maxPostings)
	}
	ix.Add(minBoilerplate, sig, t0.Add(time.Hour))
	if got := ix.Candidates(sig); len(got) != 0 {
		t.Errorf("boilerplate keys: candidates %v, want none", got)
	}
	// Expiry counts the keys down again.
	if n := ix.Expire(t0.Add(minBoilerplate / 2 * time.Second)); n != minBoilerplate/2 {
		t.Fatalf("Expire = %d", n)
	}
	if got := ix.Candidates(sig); len(got) != MaxCandidates || got[0] != minBoilerplate {
		t.Errorf("after expiry: candidates %v, want %d first", got, minBoilerplate)
	}
	if ix.Len() != minBoilerplate/2+1 {
		t.Errorf("Len() = %d", ix.Len())
	}
}

func ExampleIndex() {
	ix := NewIndex()
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	agency := NewDoc("Storm Anselm: 12,400 evacuated", paras(story...))
	ix.Add(1, agency.Signature(), at)
	brief := NewDoc("Veloria evacuates villages", "<p>VELORIA, June 2 (Xinhua) -- "+story[0]+"</p><p>ALSO READ: Markets rally</p>")
	for _, id := range ix.Candidates(brief.Signature()) {
		d := Decide(brief, agency, DefaultThreshold)
		fmt.Println(id, d.Same, d.Reason)
	}
	// Output: 1 true shares 100% of the shorter text (containment 1.00 ≥ 0.50)
}

// postings counts the postings of every key.
func (ix *Index) postings() int {
	c := 0
	for _, r := range ix.keys.recs {
		if r.key != 0 {
			c += len(ix.appendSlots(nil, r))
		}
	}
	return c
}

// TestNear checks that Near keeps what Candidates finds for copies, and
// drops a text that shares a few of an entry's key runs and little else:
// the false candidates that texts written to one template produce.
func TestNear(t *testing.T) {
	const words = 300
	base := variant(1, words)
	doc := NewDoc("", base)
	// The 8-word windows of base whose runs are signature keys: a text of
	// exactly KeyWords words has one run.
	fields := strings.Fields(base)
	var shared []string
	for i := 0; i+KeyWords <= len(fields) && len(shared) < 3; i++ {
		w := strings.Join(fields[i:i+KeyWords], " ")
		if r := NewDoc("", w).runs; len(r) == 1 && slices.Contains(doc.sig.keys, key(uint64(r[0])<<32)) {
			shared = append(shared, w)
			i += KeyWords - 1
		}
	}
	if len(shared) < 3 {
		t.Fatalf("found %d key windows in the base text, want 3", len(shared))
	}
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ix := NewIndex()
	ix.Add(1, doc.Signature(), at)
	for i := range 50 {
		ix.Add(int64(100+i), NewDoc("", variant(100+i, words)).Signature(), at)
	}
	lede := NewDoc("", strings.Join(fields[:70], " "))
	edited := slices.Clone(fields)
	for i := 5; i < len(edited); i += 20 {
		edited[i] = "changed"
	}
	tests := []struct {
		name string
		doc  Doc
		near bool // want 1 among Near's, given it is among Candidates'
	}{
		{"itself", doc, true},
		{"lede", lede, true},
		{"edited", NewDoc("", strings.Join(edited, " ")), true},
		{"shares three key runs", NewDoc("", strings.Join(shared, " ")+" "+variant(2, words)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cands := ix.Candidates(tt.doc.Signature())
			if !slices.Contains(cands, 1) {
				t.Fatalf("Candidates = %v, want 1 among them", cands)
			}
			near := ix.Near(&tt.doc, DefaultThreshold)
			for _, id := range near {
				if !slices.Contains(cands, id) {
					t.Errorf("Near returned %d, not among Candidates %v", id, cands)
				}
			}
			if got := slices.Contains(near, 1); got != tt.near {
				t.Errorf("1 among Near = %v, want %v (Near %v)", got, tt.near, near)
			}
			if same := Decide(tt.doc, doc, DefaultThreshold).Same; same != tt.near {
				t.Errorf("Decide Same = %v, want %v: the case does not test what it says", same, tt.near)
			}
		})
	}
}

// TestNearRewrittenOpening checks that Near keeps a copy whose first
// sixty words were rewritten, which the lede keys miss and the whole-text
// keys find, at every threshold Decide calls it Same.
func TestNearRewrittenOpening(t *testing.T) {
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := range 40 {
		base := NewDoc("", variant(3000+i, 500))
		words := strings.Fields(variant(3000+i, 500))
		copy(words, strings.Fields(variant(5000+i, LedeWords)))
		rewritten := NewDoc("", strings.Join(words, " "))
		ix := NewIndex()
		ix.Add(1, base.Signature(), at)
		for _, th := range []float64{0.5, 0.7, 0.8} {
			if !Decide(rewritten, base, th).Same {
				continue
			}
			if got := ix.Near(&rewritten, th); !slices.Contains(got, 1) {
				t.Errorf("text %d, threshold %.1f: Near = %v, want the original (Candidates %v)",
					i, th, got, ix.Candidates(rewritten.Signature()))
			}
		}
	}
}

// TestIndexAgainstModel adds and expires entries at random, with keys
// drawn from a small space so that keys are shared, lists are trimmed and
// single postings move in and out of their records, and checks the
// index's bookkeeping against a plain map of the live entries after every
// Expire: document frequencies, postings, every entry's keys in the pool,
// and that no node is lost.
func TestIndexAgainstModel(t *testing.T) {
	type entry struct {
		sig Signature
		at  time.Time
	}
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	state := uint64(7)
	rnd := func(n int) int {
		state = state*6364136223846793005 + 1442695040888963407
		return int(state >> 33 % uint64(n))
	}
	ix := NewIndex()
	model := map[int64]entry{}
	check := func(step int) {
		t.Helper()
		if ix.Len() != len(model) {
			t.Fatalf("step %d: Len %d, model %d", step, ix.Len(), len(model))
		}
		carriers := map[uint32][]int64{}
		liveKeys := 0
		for id, e := range model {
			for _, k := range e.sig.keys {
				carriers[k] = append(carriers[k], id)
			}
			liveKeys += len(e.sig.keys)
		}
		slotOf := map[int64]uint32{}
		for s, at := range ix.ats {
			if at == dead {
				continue
			}
			id := ix.ids[s]
			e, ok := model[id]
			if !ok {
				t.Fatalf("step %d: slot %d holds %d, not live", step, s, id)
			}
			if got := ix.slotKeys(uint32(s)); !slices.Equal(got, e.sig.keys) {
				t.Fatalf("step %d: keys of %d = %v, want %v", step, id, got, e.sig.keys)
			}
			slotOf[id] = uint32(s)
		}
		if len(ix.pool)-ix.poolDead != liveKeys {
			t.Fatalf("step %d: pool %d less %d dead, want %d live keys", step, len(ix.pool), ix.poolDead, liveKeys)
		}
		if ix.poolDead > len(ix.pool)/4 {
			t.Fatalf("step %d: %d of the pool's %d keys are dead", step, ix.poolDead, len(ix.pool))
		}
		inLists := 0
		for _, r := range ix.keys.recs {
			if r.key == 0 {
				continue
			}
			want := carriers[r.key]
			if int(r.df) != len(want) {
				t.Fatalf("step %d: key %d df %d, want %d", step, r.key, r.df, len(want))
			}
			slots := ix.appendSlots(nil, r)
			if len(slots) > maxPostings {
				t.Fatalf("step %d: key %d has %d postings", step, r.key, len(slots))
			}
			for _, s := range slots {
				if ix.ats[s] == dead || !slices.Contains(want, ix.ids[s]) {
					t.Fatalf("step %d: key %d lists slot %d (id %d), not a live carrier", step, r.key, s, ix.ids[s])
				}
			}
			if r.head&inline == 0 {
				if len(slots) == 1 {
					t.Fatalf("step %d: key %d has a list of one node", step, r.key)
				}
				inLists += len(slots)
			}
			delete(carriers, r.key)
		}
		if len(carriers) != 0 {
			t.Fatalf("step %d: %d live keys missing from the table", step, len(carriers))
		}
		free := 0
		for n := ix.freeNode; n != 0; n = ix.nodes[n].next {
			free++
		}
		if len(ix.nodes) > 0 && inLists+free != len(ix.nodes)-1 {
			t.Fatalf("step %d: %d nodes in lists and %d free of %d", step, inLists, free, len(ix.nodes)-1)
		}
	}
	const window = 400
	for step := range 6000 {
		keys := make([]uint32, 1+rnd(maxKeys))
		for i := range keys {
			keys[i] = uint32(1 + rnd(300))
		}
		id := int64(step + 1)
		// Entries come roughly, not strictly, in time order, as items
		// loaded at start-up and items saved since do.
		at := t0.Add(time.Duration(step+rnd(300)) * time.Second)
		e := entry{Signature{keys: sortedUnique(keys), words: 20 + rnd(500)}, at}
		ix.Add(id, e.sig, e.at)
		model[id] = e
		if step%97 == 0 || step%1500 == 1499 {
			cut := t0.Add(time.Duration(step-window) * time.Second)
			if step%1500 == 1499 {
				cut = t0.Add(time.Duration(step+window) * time.Second) // empty the index
			}
			want := 0
			for id, e := range model {
				if e.at.Before(cut) {
					delete(model, id)
					want++
				}
			}
			if got := ix.Expire(cut); got != want {
				t.Fatalf("step %d: Expire = %d, want %d", step, got, want)
			}
			check(step)
		}
	}
}

// TestIndexOutOfOrder checks a hot key's postings when entries are not
// added in time order (an item published long ago, saved late): the list
// holds the most recently added carriers, which may expire before an
// older-added one. A freed slot taken by another entry must not be
// listed for the key.
func TestIndexOutOfOrder(t *testing.T) {
	const hot = 1
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	sec := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	ix := NewIndex()
	ix.Add(100, Signature{keys: []uint32{hot, 1000}, words: 50}, sec(1000))
	for i := 1; i <= maxPostings; i++ {
		ix.Add(int64(i), Signature{keys: []uint32{hot, uint32(1000 + i)}, words: 50}, sec(i))
	}
	query := Signature{keys: []uint32{hot}, words: 50}
	if got := ix.Candidates(query); slices.Contains(got, 100) || len(got) != MaxCandidates {
		t.Fatalf("candidates %v: want %d of the %d most recently added, not 100", got, MaxCandidates, maxPostings)
	}
	ix.Expire(sec(maxPostings))
	if got := ix.Candidates(query); !slices.Equal(got, []int64{maxPostings}) {
		t.Fatalf("after expiring all but one listed: candidates %v, want [%d]", got, maxPostings)
	}
	ix.Expire(sec(maxPostings + 1))
	ix.Add(200, Signature{keys: []uint32{2000, 2001}, words: 50}, sec(2000))
	if got := ix.Candidates(query); len(got) != 0 {
		t.Errorf("after expiring every listed carrier: candidates %v, want none", got)
	}
	if r := ix.keys.get(hot); r.df != 1 {
		t.Errorf("df of the hot key = %d, want 1 (entry 100)", r.df)
	}
}

// TestIndexExpireSubSecond pins down Expire's rounding: times are kept
// to the second, and a cut within a second takes that whole second.
func TestIndexExpireSubSecond(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 0, 0, 10, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		entry time.Duration // after t0
		cut   time.Duration // after t0
		gone  bool
	}{
		{"a second before", -time.Second, 0, true},
		{"at a whole-second cut", 0, 0, false},
		{"just before a cut within the second", 200 * time.Millisecond, 700 * time.Millisecond, true},
		{"just after a cut within the same second", 700 * time.Millisecond, 200 * time.Millisecond, true},
		{"in the next second", time.Second, 999 * time.Millisecond, false},
		{"a second after a whole-second cut", time.Second, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ix := NewIndex()
			ix.Add(1, Signature{keys: []uint32{7, 8}, words: 50}, t0.Add(tt.entry))
			if got := ix.Expire(t0.Add(tt.cut)) == 1; got != tt.gone {
				t.Errorf("expired: %v, want %v", got, tt.gone)
			}
		})
	}
}

// TestSortHashes holds sortHashes to a comparison sort on the lists it
// meets: short, long, uniform, with repeated words, and crowded into a
// few buckets as signature keys are.
func TestSortHashes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func() uint32{
		"uniform":   rng.Uint32,
		"repeats":   func() uint32 { return uint32(rng.IntN(40)) * 0x9e3779b9 },
		"crowded":   func() uint32 { return rng.Uint32() >> 6 },
		"one value": func() uint32 { return 7 },
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, 63, 64, 65, 300, 2048, 2049, 5000} {
			s := make([]uint32, n)
			for i := range s {
				s[i] = gen()
			}
			want := slices.Clone(s)
			slices.Sort(want)
			sortHashes(s)
			if !slices.Equal(s, want) {
				t.Errorf("%s, %d hashes: not sorted as slices.Sort sorts them", name, n)
			}
		}
	}
}
