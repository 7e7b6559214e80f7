package dedupe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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
// runs, vocabulary, numbers, names and title words, each as a uvarint
// count and that many little-endian uint32s. A candidate loaded this way
// is compared without cleaning its text again, the costliest step of
// matching: wire copies arrive minutes or hours apart, so a candidate's
// text would be cleaned again for nearly every copy that finds it.
func (d Doc) MarshalBinary() ([]byte, error) {
	lists := d.lists()
	size := 1 + binary.MaxVarintLen64 + 8
	for _, l := range lists {
		size += binary.MaxVarintLen64 + 4*len(*l)
	}
	b := make([]byte, 0, size)
	b = append(b, DocVersion)
	b = binary.AppendUvarint(b, uint64(d.words))
	b = binary.LittleEndian.AppendUint64(b, d.textHash)
	for _, l := range lists {
		b = binary.AppendUvarint(b, uint64(len(*l)))
		for _, h := range *l {
			b = binary.LittleEndian.AppendUint32(b, h)
		}
	}
	return b, nil
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
	// One backing array for all six lists: a loaded candidate is one
	// allocation, however many lists it has.
	all := make([]uint32, 0, len(b)/4)
	for i, l := range d.lists() {
		count, n := uvarint(b)
		if n <= 0 || count > uint64(len(b)-n)/4 {
			return Doc{}, fmt.Errorf("parse doc: list %d: length: %w", i, errDoc)
		}
		b = b[n:]
		start := len(all)
		for j := range int(count) {
			h := binary.LittleEndian.Uint32(b[4*j:])
			if j > 0 && h <= all[len(all)-1] {
				return Doc{}, fmt.Errorf("parse doc: list %d: hash %d out of order: %w", i, j, errDoc)
			}
			all = append(all, h)
		}
		b = b[4*count:]
		if count > 0 {
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
