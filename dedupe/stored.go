package dedupe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// DocVersion is the first byte of an encoded Doc. Bump it whenever
// cleaning, normalising or hashing changes what NewDoc makes of a text,
// together with a store migration that deletes the stored docs: a doc of
// another version fails to parse, and the matcher, handed no text with it,
// skips that candidate rather than compare stale hashes. Without their
// docs, candidates come with their text and are cleaned again.
const DocVersion = 1

// MarshalBinary encodes the Doc for storage without its text and
// signature, which are stored apart: a version byte, the word count as a
// uvarint, the text hash as a little-endian uint64, then the shingles,
// runs, vocabulary, numbers, names and title words, each a sorted list
// (see appendList). A candidate loaded this way is compared without
// cleaning its text again, the costliest step of matching: wire copies
// arrive minutes or hours apart, so a candidate's text would be cleaned
// again for nearly every copy that finds it.
func (d Doc) MarshalBinary() ([]byte, error) {
	lists := d.lists()
	size := 1 + binary.MaxVarintLen64 + 8
	for _, l := range lists {
		size += binary.MaxVarintLen64 + 1 + 4 + 4*len(*l)
	}
	b := make([]byte, 0, size)
	b = append(b, DocVersion)
	b = binary.AppendUvarint(b, uint64(d.words))
	b = binary.LittleEndian.AppendUint64(b, d.textHash)
	for _, l := range lists {
		b = appendList(b, *l)
	}
	return b, nil
}

// appendList appends a sorted list of distinct hashes: its length as a
// uvarint, then, if any, a byte k, the first hash as a little-endian
// uint32, and the gaps between the next ones (less one) Rice-coded with
// parameter k (the gap's high bits in unary, then its k low bits), padded
// with zero bits to a byte. Hashes are uniform, so their gaps are about
// geometric: a list of n hashes takes about log2(2^32/n)+2 bits a hash
// instead of 32, which packs two docs in a database page where one would
// often fit.
func appendList(b []byte, l []uint32) []byte {
	b = binary.AppendUvarint(b, uint64(len(l)))
	if len(l) == 0 {
		return b
	}
	k := riceParam(l)
	b = append(b, byte(k))
	b = binary.LittleEndian.AppendUint32(b, l[0])
	var acc uint64 // bits not yet appended, the first in the low bit
	var n uint     // how many
	put := func(v uint64, bits uint) {
		acc |= v << n
		n += bits
		for n >= 8 {
			b = append(b, byte(acc))
			acc >>= 8
			n -= 8
		}
	}
	for i := 1; i < len(l); i++ {
		gap := uint64(l[i] - l[i-1] - 1)
		for q := gap >> k; q > 0; q-- {
			put(1, 1)
		}
		put(0, 1)
		put(gap&(1<<k-1), k)
	}
	if n > 0 {
		b = append(b, byte(acc))
	}
	return b
}

// riceParam is the Rice parameter of a sorted list: the base-2 log of its
// mean gap, which makes the code near its shortest for geometric gaps.
func riceParam(l []uint32) uint {
	if len(l) < 2 {
		return 0
	}
	mean := uint64(l[len(l)-1]-l[0]) / uint64(len(l)-1)
	k := uint(0)
	for mean > 1 && k < 31 {
		mean >>= 1
		k++
	}
	return k
}

// lists returns the Doc's hash lists in their encoded order.
func (d *Doc) lists() [6]*[]uint32 {
	return [6]*[]uint32{&d.shingles, &d.runs, &d.vocab, &d.numbers, &d.names, &d.title}
}

// errDoc is wrapped by every ParseDoc error.
var errDoc = errors.New("invalid stored doc")

// ParseDoc decodes a Doc written by MarshalBinary, ready for Decide; it
// has no text and no signature. It fails on another version, a truncated,
// padded or otherwise non-canonical encoding, and lists that are not
// sorted and unique, so that a damaged doc is never compared.
func ParseDoc(b []byte) (Doc, error) {
	var d Doc
	if len(b) == 0 {
		return d, fmt.Errorf("parse doc: empty: %w", errDoc)
	}
	if b[0] != DocVersion {
		return d, fmt.Errorf("parse doc: version %d, want %d: %w", b[0], DocVersion, errDoc)
	}
	words, n := uvarint(b[1:])
	if n <= 0 || words > math.MaxInt32 {
		return d, fmt.Errorf("parse doc: word count: %w", errDoc)
	}
	b = b[1+n:]
	if len(b) < 8 {
		return d, fmt.Errorf("parse doc: text hash: %w", errDoc)
	}
	d.words, d.textHash = int(words), binary.LittleEndian.Uint64(b)
	b = b[8:]
	// One backing array for all six lists: a loaded candidate is mostly
	// one allocation. A hash takes a little over three bytes in a list of
	// a few hundred, more in shorter ones, so half a slot per byte is
	// plenty but for pathological docs, for which append grows it.
	all := make([]uint32, 0, len(b)/2+8)
	for i, l := range d.lists() {
		var err error
		start := len(all)
		if all, b, err = parseList(all, b); err != nil {
			return Doc{}, fmt.Errorf("parse doc: list %d: %w", i, err)
		}
		if len(all) > start {
			*l = all[start:len(all):len(all)]
		}
	}
	if len(b) != 0 {
		return Doc{}, fmt.Errorf("parse doc: %d bytes past the end: %w", len(b), errDoc)
	}
	return d, nil
}

// uvarint is binary.Uvarint refusing overlong encodings ("80 00" for 0),
// so that a doc has one encoding and equal docs are equal bytes.
func uvarint(b []byte) (uint64, int) {
	v, n := binary.Uvarint(b)
	if n > 0 && n != uvarintLen(v) {
		return 0, -n
	}
	return v, n
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// parseList appends to dst the list appendList encoded at the start of b,
// and returns the rest of b. It accepts only what appendList writes: a
// length the bytes can hold, the Rice parameter appendList would choose,
// gaps that keep the hashes within 32 bits, and zero padding.
func parseList(dst []uint32, b []byte) ([]uint32, []byte, error) {
	count, n := uvarint(b)
	if n <= 0 {
		return dst, b, fmt.Errorf("length: %w", errDoc)
	}
	b = b[n:]
	if count == 0 {
		return dst, b, nil
	}
	if len(b) < 5 || count-1 > uint64(len(b)-5)*8 {
		return dst, b, fmt.Errorf("length %d: %w", count, errDoc)
	}
	k := uint(b[0])
	if k > 31 {
		return dst, b, fmt.Errorf("parameter %d: %w", k, errDoc)
	}
	start := len(dst)
	v := uint64(binary.LittleEndian.Uint32(b[1:]))
	dst = append(dst, uint32(v))
	b = b[5:]
	// pos is the next bit of b to read, bit 0 the low bit of b[0].
	end := uint64(len(b)) * 8
	mask := uint64(1)<<k - 1
	pos := uint64(0)
	for range count - 1 {
		// The gap's high bits in unary: ones up to the first zero.
		var q uint64
		for {
			if pos >= end {
				return dst, b, fmt.Errorf("truncated: %w", errDoc)
			}
			ones := uint64(bits.TrailingZeros64(^peek(b, pos)))
			if ones < 56 {
				q += ones
				pos += ones + 1
				break
			}
			q += 56
			pos += 56
		}
		if pos > end || q > math.MaxUint32>>k {
			return dst, b, fmt.Errorf("truncated or past 32 bits: %w", errDoc)
		}
		if pos+uint64(k) > end {
			return dst, b, fmt.Errorf("truncated: %w", errDoc)
		}
		v += q<<k | peek(b, pos)&mask + 1
		pos += uint64(k)
		if v > math.MaxUint32 {
			return dst, b, fmt.Errorf("hash past 32 bits: %w", errDoc)
		}
		dst = append(dst, uint32(v))
	}
	used := (pos + 7) / 8
	if pos%8 != 0 && b[used-1]>>(pos%8) != 0 {
		return dst, b, fmt.Errorf("padding: %w", errDoc)
	}
	if riceParam(dst[start:]) != k {
		return dst, b, fmt.Errorf("parameter %d, not the list's: %w", k, errDoc)
	}
	return dst, b[used:], nil
}

// peek returns the bits of b from bit pos on, bit 0 the low bit of b[0]:
// 56 or more of them, zeros past the end of b.
func peek(b []byte, pos uint64) uint64 {
	if i := pos / 8; i+8 <= uint64(len(b)) {
		return binary.LittleEndian.Uint64(b[i:]) >> (pos % 8)
	}
	return peekTail(b, pos)
}

// peekTail is peek within the last 8 bytes of b.
func peekTail(b []byte, pos uint64) uint64 {
	var w uint64
	for j, i := uint64(0), pos/8; i+j < uint64(len(b)); j++ {
		w |= uint64(b[i+j]) << (8 * j)
	}
	return w >> (pos % 8)
}
