package dedupe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Signature parameters. A signature is the union of three bottom-k
// sketches of the hashes of a text's runs of KeyWords words:
//
//   - the LedeKeys/2 smallest hashes among the runs of the first
//     LedeWords/2 words, and the other LedeKeys/2 among those of the
//     first LedeWords. Feeds truncate copy to its first paragraph or two,
//     and a prefix's bottom-k keeps most of the keys of any longer prefix
//     it lies in (the smallest hashes of a subset are mostly the smallest
//     of the whole); two nested prefixes make that hold for a brief of
//     thirty words as for one of sixty, so a lede-only copy finds the
//     full text;
//   - the WholeKeys smallest hashes over the whole text, which find copies
//     whose first paragraph was rewritten or carries unstripped furniture.
//
// Keys are runs of eight words, not the four-word shingles Decide
// compares: a bottom-k sketch keeps the same smallest hashes in every text
// that has them, and four-word shingles are too often stock phrases ("the
// ministry declined to", "said in a statement") or one sentence of a
// template, shared by unrelated items; a run of eight more often spans a
// figure, a name or two sentences, and is the text's own.
//
// Keys are the top 32 bits of the hashes: enough to make chance
// collisions rare among a million entries, half the memory of 64.
const (
	// KeyWords is the length, in words, of the runs keys are made of.
	KeyWords  = 2 * ShingleWords
	LedeWords = 60
	LedeKeys  = 8
	WholeKeys = 6
	// MinSignatureWords is the fewest cleaned words worth indexing; a
	// shorter text is a caption or a teaser.
	MinSignatureWords = 8
)

// signatureVersion is the first byte of an encoded Signature; a stored
// signature of another version fails to parse and is rebuilt from text.
const signatureVersion = 2

// Signature is a compact fingerprint of a Doc for candidate lookup in an
// Index: a few dozen bytes however long the text.
type Signature struct {
	keys  []uint32 // sorted, unique, never 0
	words int
}

// newSignature builds the signature of a text from the hashes of its runs
// (keyHashes) in text order.
func newSignature(ordered []uint64, words int) Signature {
	if words < MinSignatureWords || len(ordered) == 0 {
		return Signature{words: words}
	}
	lede := min(len(ordered), max(1, LedeWords-KeyWords+1))
	open := min(len(ordered), max(1, LedeWords/2-KeyWords+1))
	keys := append(bottomK(ordered[:open], LedeKeys/2), bottomK(ordered[:lede], LedeKeys-LedeKeys/2)...)
	keys = append(keys, bottomK(ordered, WholeKeys)...)
	return Signature{keys: sortedUnique(keys), words: words}
}

// keyHashes returns the hashes of the KeyWords-word runs of a text,
// each made of the two shingles that tile it, in text order; a text
// shorter than that has its shingles instead.
func keyHashes(shingles []uint64) []uint64 {
	const step = KeyWords - ShingleWords
	if len(shingles) <= step {
		return shingles
	}
	out := make([]uint64, len(shingles)-step)
	for i := range out {
		s := shingles[i+step]
		out[i] = mix(shingles[i] ^ (s<<17 | s>>47))
	}
	return out
}

// bottomK returns the keys of the k smallest distinct hashes, smallest
// first. It keeps the k smallest seen so far rather than sorting them all:
// k is a handful and a text has hundreds of runs, most larger than the
// k-th smallest seen.
func bottomK(hs []uint64, k int) []uint32 {
	if k <= 0 {
		return []uint32{}
	}
	small := make([]uint64, 0, k) // ascending, distinct
	for _, h := range hs {
		if len(small) == k && h >= small[k-1] {
			continue
		}
		i, found := slices.BinarySearch(small, h)
		if found {
			continue
		}
		if len(small) == k {
			small = small[:k-1]
		}
		small = slices.Insert(small, i, h)
	}
	out := make([]uint32, len(small))
	for i, h := range small {
		out[i] = key(h)
	}
	return out
}

// key is the index key of a shingle hash: its top 32 bits, never zero
// (the Index uses zero for an empty slot).
func key(h uint64) uint32 {
	k := uint32(h >> 32)
	if k == 0 {
		k = 1
	}
	return k
}

// Empty reports whether the text was too short to index.
func (s Signature) Empty() bool { return len(s.keys) == 0 }

// MarshalBinary encodes the signature: a version byte, the word count as
// a uvarint, the key count as a byte, then the keys as little-endian
// uint32s.
func (s Signature) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+1+4*len(s.keys))
	b = append(b, signatureVersion)
	b = binary.AppendUvarint(b, uint64(s.words))
	b = append(b, byte(len(s.keys)))
	for _, k := range s.keys {
		b = binary.LittleEndian.AppendUint32(b, k)
	}
	return b, nil
}

// errSignature is wrapped by every ParseSignature error.
var errSignature = errors.New("invalid signature")

// ParseSignature decodes a signature written by MarshalBinary. It fails on
// another version, a truncated or padded encoding, and keys that are not
// sorted, unique and non-zero.
func ParseSignature(b []byte) (Signature, error) {
	if len(b) == 0 {
		return Signature{}, fmt.Errorf("parse signature: empty: %w", errSignature)
	}
	if b[0] != signatureVersion {
		return Signature{}, fmt.Errorf("parse signature: version %d, want %d: %w", b[0], signatureVersion, errSignature)
	}
	words, n := binary.Uvarint(b[1:])
	if n <= 0 || words > 1<<31 {
		return Signature{}, fmt.Errorf("parse signature: word count: %w", errSignature)
	}
	b = b[1+n:]
	if len(b) == 0 || int(b[0]) > LedeKeys+WholeKeys || len(b) != 1+4*int(b[0]) {
		return Signature{}, fmt.Errorf("parse signature: key count: %w", errSignature)
	}
	keys := make([]uint32, b[0])
	for i := range keys {
		keys[i] = binary.LittleEndian.Uint32(b[1+4*i:])
		if keys[i] == 0 || (i > 0 && keys[i] <= keys[i-1]) {
			return Signature{}, fmt.Errorf("parse signature: key %d out of order: %w", i, errSignature)
		}
	}
	if len(keys) == 0 {
		keys = nil
	}
	return Signature{keys: keys, words: int(words)}, nil
}

// reach estimates, from another text's signature keys (ascending) and
// word count alone, the share of the shorter of the two
// texts' runs that the other holds: the containment over runs Decide
// requires. The estimate is the larger of two shares of keys found among
// d's runs, each scaled up by the ratio of the lengths when the other
// text is the longer:
//
//   - of all the keys, which the lede keys dominate: d holds the other
//     text's opening, as a copy cut to its lede does;
//   - of the WholeKeys smallest keys, which are the whole-text keys (the
//     smallest hashes of all the runs are the smallest of any subset
//     they fall in): a uniform sample of the other text's runs, which d
//     holds even when it rewrote the opening, and the lede keys miss.
//
// An estimate over at most LedeKeys+WholeKeys keys, for pruning
// candidates far below the threshold, never for deciding.
func (d *Doc) reach(keys []uint32, words int) float64 {
	found, whole, n := 0, 0, 0
	for _, k := range keys {
		n++
		if _, ok := slices.BinarySearch(d.runs, k); ok {
			found++
			if n <= WholeKeys {
				whole++
			}
		}
	}
	if n == 0 {
		return 0
	}
	est := max(float64(found)/float64(n), float64(whole)/float64(min(n, WholeKeys)))
	if words > d.words && d.words > 0 {
		est *= float64(words) / float64(d.words)
	}
	return min(est, 1)
}
