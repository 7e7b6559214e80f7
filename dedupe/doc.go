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
//
// Everything Decide compares is kept as 32-bit hashes, sorted: a Doc is a
// few kilobytes whatever the words, so it can be stored with its item
// (MarshalBinary) and compared with every later copy that finds it without
// cleaning its text again. At a few hundred elements a side, a chance
// collision of 32-bit hashes moves a containment by well under one
// percent.
type Doc struct {
	text     string   // cleaned, normalised words joined by spaces; "" when parsed
	textHash uint64   // of text: orders two texts of one length, for symmetry
	words    int      // len of the word list text was made from
	shingles []uint32 // hashes of the word shingles, sorted, unique
	runs     []uint32 // hashes of the KeyWords-word runs, sorted, unique
	vocab    []uint32 // every word, hashed, sorted, unique
	numbers  []uint32 // figures in the text, hashed, sorted, unique
	names    []uint32 // words written as names, hashed, sorted, unique
	title    []uint32 // normalised title words, hashed, sorted, unique
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
	return newDoc(title, paragraphs(html))
}

// Analyze returns NewDoc(title, html) and ContentHash(html), converting
// the HTML to text once where both would convert it alike: the common
// case of a body that marks its paragraphs, or has no line breaks.
func Analyze(title, html string) (Doc, string) {
	if !hasBlocks(html) && strings.Contains(html, "\n") {
		return NewDoc(title, html), ContentHash(html)
	}
	text := Text(html)
	return newDoc(title, text), hashText(text)
}

// newDoc is NewDoc of a body's paragraphs.
func newDoc(title, paras string) Doc {
	ts := tokens(cleanText(paras))
	words := make([]string, len(ts))
	var numbers, names []uint32
	vocab := make([]uint32, len(ts))
	for i, t := range ts {
		words[i] = t.w
		vocab[i] = wordHash(t.w)
		if isNumber(t.w) {
			numbers = append(numbers, vocab[i])
		} else if t.name {
			names = append(names, vocab[i])
		}
	}
	ordered := shingleHashes(words)
	runs := keyHashes(ordered)
	joined := strings.Join(words, " ")
	d := Doc{
		text:     joined,
		textHash: fnvString(fnvOffset, joined),
		words:    len(words),
		shingles: top32(ordered),
		runs:     top32(runs),
		vocab:    sortedUnique(vocab),
		numbers:  sortedUnique(numbers),
		names:    sortedUnique(names),
		title:    titleWords(title),
	}
	d.sig = newSignature(runs, len(words))
	return d
}

// top32 returns the top 32 bits of each hash, sorted and unique.
func top32(hs []uint64) []uint32 {
	out := make([]uint32, len(hs))
	for i, h := range hs {
		out[i] = uint32(h >> 32)
	}
	return sortedUnique(out)
}

// wordHash is the 32-bit hash a word is compared by.
func wordHash(w string) uint32 { return uint32(mix(fnvString(fnvOffset, w)) >> 32) }

// Words returns the number of running-text words after cleaning.
func (d Doc) Words() int { return d.words }

// Text returns the cleaned, normalised text the comparison works on; ""
// for a Doc from ParseDoc, which stores no text.
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

// sortedUnique sorts hashes and drops repeats, in place.
func sortedUnique(s []uint32) []uint32 {
	sortHashes(s)
	return slices.Compact(s)
}

// sortHashes sorts a list of hashes. Every item's text makes three lists
// of a few hundred, and a comparison sort of them was a sixth of the
// cost of preparing a Doc. Hashes are about uniform, so one pass that
// buckets them by their top byte leaves each a few places from where it
// belongs, and an insertion sort finishes in about one more pass (a
// repeated word's hashes are equal and do not move past each other).
// Lists too short to gain, too long for 256 buckets, or crowded into a
// few buckets (signature keys are the smallest hashes of a text) are
// sorted by comparison.
func sortHashes(s []uint32) {
	if len(s) < 64 || len(s) > 8*256 {
		slices.Sort(s)
		return
	}
	var start [257]int32
	for _, h := range s {
		start[h>>24+1]++
	}
	// An insertion sort moves each hash past at most the others of its
	// bucket: the sum of the squared bucket sizes bounds its work.
	work := 0
	for i := 1; i < len(start); i++ {
		work += int(start[i] * start[i])
		start[i] += start[i-1]
	}
	if work > 16*len(s) {
		slices.Sort(s)
		return
	}
	tmp := make([]uint32, len(s))
	for _, h := range s {
		b := h >> 24
		tmp[start[b]] = h
		start[b]++
	}
	for i := 1; i < len(tmp); i++ {
		h, j := tmp[i], i
		for ; j > 0 && tmp[j-1] > h; j-- {
			tmp[j] = tmp[j-1]
		}
		tmp[j] = h
	}
	copy(s, tmp)
}

// titleWords returns the hashed normalised words of a title, without the
// short ones that carry no subject.
func titleWords(title string) []uint32 {
	var out []uint32
	for _, t := range tokens(title) {
		if len(t.w) > 3 || isNumber(t.w) {
			out = append(out, wordHash(t.w))
		}
	}
	return sortedUnique(out)
}
