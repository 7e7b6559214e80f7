package dedupe

import (
	"fmt"
	"testing"
	"time"
)

// benchDoc is a republished copy with the usual furniture.
var benchDoc = "<p><strong>By Staff Reporter</strong></p><p>VELORIA, June 3 (Xinhua) -- " + story[0] + "</p><p>" +
	story[1] + "</p><p>" + story[2] + "</p><p>ALSO READ: Markets close higher on export data</p><p>" +
	story[3] + "</p><p>" + story[4] + "</p><p>Share this: Facebook | X | WhatsApp</p><p>© 2026 Example Media. All rights reserved.</p>"

func BenchmarkNewDoc(b *testing.B) {
	b.SetBytes(int64(len(benchDoc)))
	for b.Loop() {
		NewDoc("Veloria evacuates villages ahead of storm", benchDoc)
	}
}

func BenchmarkDecide(b *testing.B) {
	a := NewDoc("", benchDoc)
	c := NewDoc("", paras(story[0], story[1]))
	for b.Loop() {
		Decide(a, c, DefaultThreshold)
	}
}

// BenchmarkCandidates looks up a signature in an index of n synthetic
// entries (generated texts; the index is built once per size). Entries
// come in stories of copiesPerStory that share their keys, so each lookup
// returns a story's copies. On the 2-core development machine: about
// 0.9 µs a lookup at 100,000 and 1,000,000 entries, 190 and 203 bytes an
// entry (210 and 221 with fixed-size key arrays and a node for every
// posting, at the same speed).
func BenchmarkCandidates(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ix, queries := syntheticIndex(n)
			i, found := 0, 0
			for b.Loop() {
				found += len(ix.Candidates(queries[i%len(queries)]))
				i++
			}
			if found == 0 {
				b.Fatal("no candidates found")
			}
			b.ReportMetric(float64(found)/float64(i), "candidates/op")
			b.ReportMetric(float64(ix.MemoryBytes())/float64(ix.Len()), "bytes/entry")
		})
	}
}

const copiesPerStory = 5

// syntheticIndex returns an index of n entries and signatures of some of
// them to look up. Signatures come from a pool of generated texts, varied
// per story so that every story has keys of its own.
func syntheticIndex(n int) (*Index, []Signature) {
	const pool = 1000
	texts := make([]Signature, pool)
	for i := range texts {
		texts[i] = NewDoc("", variant(i, 150)).Signature()
	}
	ix := NewIndex()
	var queries []Signature
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		story := i / copiesPerStory
		s := texts[story%pool]
		keys := make([]uint32, len(s.keys))
		for j, k := range s.keys {
			keys[j] = key(mix(uint64(k)<<32 | uint64(story)))
		}
		sig := Signature{keys: sortedUnique(keys), words: s.words}
		ix.Add(int64(i), sig, t0.Add(time.Duration(i)*time.Second))
		if i%(n/1000) == 0 {
			queries = append(queries, sig)
		}
	}
	return ix, queries
}

// BenchmarkParseDoc is the cost of loading a stored candidate for Decide,
// against cleaning its text again (BenchmarkNewDoc).
func BenchmarkParseDoc(b *testing.B) {
	stored, _ := NewDoc("", benchDoc).MarshalBinary()
	b.SetBytes(int64(len(stored)))
	for b.Loop() {
		if _, err := ParseDoc(stored); err != nil {
			b.Fatal(err)
		}
	}
}
