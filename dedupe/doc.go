package dedupe

import (
	"slices"
	"strings"
)

// ShingleWords is the length, in words, of the shingles texts are compared
// by. Four words are long enough that unrelated texts rarely share one by
// chance ("the ministry said on") yet short enough that a reworded
// sentence or a changed figure spoils only the few shingles around it.
const ShingleWords = 4

// Doc is an item's cleaned running text, ready to compare. The zero Doc
// is an item without text.
type Doc struct {
	text     string   // cleaned, normalised words joined by spaces
	words    int      // len of the word list text was made from
	shingles []uint64 // hashes of the word shingles, sorted, unique
	runs     []uint64 // hashes of the KeyWords-word runs, sorted, unique
	vocab    []string // every word, sorted, unique
	numbers  []string // figures in the text, sorted, unique
	names    []string // words written as names, sorted, unique
	title    []string // normalised title words, sorted, unique
	sig      Signature
}

// NewDoc cleans an item's HTML body — HTML to running text, without
// datelines, agency credits, bylines, "ALSO READ" links, share prompts,
// copyright and disclaimer lines; Unicode NFKC, lowercase, British
// spellings and number words mapped to one form — and prepares it for
// Decide and the Index. The title
// is kept only as weak evidence for very short texts: outlets rewrite
// headlines of unchanged copy, and unrelated bulletins share headlines.
func NewDoc(title, html string) Doc {
	ts := tokens(clean(html))
	words := make([]string, len(ts))
	var numbers, names []string
	for i, t := range ts {
		words[i] = t.w
		if isNumber(t.w) {
			numbers = append(numbers, t.w)
		} else if t.name {
			names = append(names, t.w)
		}
	}
	ordered := shingleHashes(words)
	runs := keyHashes(ordered)
	d := Doc{
		text:     strings.Join(words, " "),
		words:    len(words),
		shingles: sortedUnique(slices.Clone(ordered)),
		runs:     sortedUnique(slices.Clone(runs)),
		vocab:    sortedUnique(slices.Clone(words)),
		numbers:  sortedUnique(numbers),
		names:    sortedUnique(names),
		title:    titleWords(title),
	}
	d.sig = newSignature(runs, len(words))
	return d
}

// Words returns the number of running-text words after cleaning.
func (d Doc) Words() int { return d.words }

// Text returns the cleaned, normalised text the comparison works on.
func (d Doc) Text() string { return d.text }

// Signature returns the compact fingerprint the Index looks candidates up
// by.
func (d Doc) Signature() Signature { return d.sig }

// shingleHashes returns the hash of each run of ShingleWords words, in
// text order. A text shorter than a shingle is one shingle.
func shingleHashes(words []string) []uint64 {
	if len(words) == 0 {
		return nil
	}
	n := len(words) - ShingleWords + 1
	if n < 1 {
		n = 1
	}
	out := make([]uint64, n)
	for i := range out {
		h := uint64(fnvOffset)
		for j := i; j < i+ShingleWords && j < len(words); j++ {
			h = fnvString(h, words[j])
			h = (h ^ ' ') * fnvPrime
		}
		out[i] = mix(h)
	}
	return out
}

// FNV-1a: a fixed, portable hash, as signatures are stored and compared
// across versions of the program (a seeded hash would not do).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// mix is a 64-bit finaliser (from SplitMix64) that spreads FNV's weak low
// bits, since signatures keep the smallest hashes and the Index uses their
// top bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func sortedUnique[T uint64 | uint32 | string](s []T) []T {
	slices.Sort(s)
	return slices.Compact(s)
}

// titleWords returns the normalised words of a title, without the short
// ones that carry no subject.
func titleWords(title string) []string {
	var out []string
	for _, t := range tokens(title) {
		if len(t.w) > 3 || isNumber(t.w) {
			out = append(out, t.w)
		}
	}
	return sortedUnique(out)
}
