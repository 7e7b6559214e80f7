package dedupe

import (
	"fmt"
	"slices"
)

// DefaultThreshold is the containment two texts need to be one story
// when no [dedupe] threshold is configured. It was chosen on the labelled
// set in testdata/eval (go test ./dedupe -run TestEval -args -eval.report
// prints the sweep): copies, truncated ledes included, share well over
// half of the shorter text; independent reports of one event share a
// quote and names, a tenth or two.
const DefaultThreshold = 0.5

// Decision limits.
const (
	// MinDecideWords is the fewest cleaned words either text needs: a
	// sentence or two is a teaser or a caption, and many stories open
	// alike.
	MinDecideWords = 12
	// ShortWords is the length below which a text needs near-total
	// containment and a supporting headline or a whole-text match.
	ShortWords = 25
	// shortContainment is the containment a short text needs.
	shortContainment = 0.9
	// shortResemblance is the resemblance that makes a short text a
	// verbatim brief rather than one sentence found in a longer story.
	shortResemblance = 0.6
	// maxMissingShare is the share of the shorter text's figures (and,
	// separately, names) that may be absent from the longer text.
	maxMissingShare = 0.25
)

// Decision is the verdict on two texts, with the evidence for it.
type Decision struct {
	Same        bool
	Reason      string  // one line a user understands
	Containment float64 // |A∩B| / min(|A|,|B|) over shingles
	Resemblance float64 // |A∩B| / |A∪B| over shingles
	WordsA      int
	WordsB      int
	// Numbers is how many figures the shorter text has and how many of
	// them the longer text lacks; likewise Names for capitalised names.
	Numbers, NumbersMissing int
	Names, NamesMissing     int
	// TitleOverlap is the share of the shorter title's words in the other.
	TitleOverlap float64
	// runs is the containment over runs of KeyWords words.
	runs float64
}

// Decide reports whether two texts carry the same story. It is symmetric.
// The rules, in order:
//   - each text needs MinDecideWords words; a title alone is never enough;
//   - the shared share of the shorter text's shingles (containment) must
//     reach threshold, so that a copy holding only the lede of a longer
//     one matches it;
//   - a text under ShortWords words needs containment of at least 0.9 and
//     either near-equal length (a verbatim brief) or a headline sharing
//     half its words;
//   - templated bulletins (prices, quakes, scores) share most wording and
//     differ in figures and places: if more than a quarter of the shorter
//     text's figures, or of its names, are absent from the longer text,
//     the texts are different stories;
//   - the shared part must come in passages, not phrases: the shorter
//     text's runs of KeyWords words must be contained to threshold too.
//     A copy shares whole paragraphs, cut only around edits; texts
//     written to a template, or quoting the same stock sentences, share
//     four-word shingles scattered between the names and places that
//     differ.
func Decide(a, b Doc, threshold float64) Decision {
	if b.words < a.words || (b.words == a.words && b.textHash < a.textHash) {
		d := Decide(b, a, threshold)
		d.WordsA, d.WordsB = d.WordsB, d.WordsA
		return d
	}
	// a is the shorter text from here on.
	inter := intersect(a.shingles, b.shingles)
	d := Decision{WordsA: a.words, WordsB: b.words}
	if len(a.shingles) > 0 {
		d.Containment = float64(inter) / float64(len(a.shingles))
		d.Resemblance = float64(inter) / float64(len(a.shingles)+len(b.shingles)-inter)
	}
	if len(a.runs) > 0 {
		d.runs = float64(intersect(a.runs, b.runs)) / float64(len(a.runs))
	}
	// Figures and names are looked up among all the longer text's words:
	// a name may open a sentence in one copy and not in the other.
	d.Numbers, d.NumbersMissing = len(a.numbers), missing(a.numbers, b.vocab)
	d.Names, d.NamesMissing = len(a.names), missing(a.names, b.vocab)
	d.TitleOverlap = overlap(a.title, b.title)
	d.Same, d.Reason = verdict(d, threshold)
	return d
}

// verdict applies the rules to the evidence gathered by Decide.
func verdict(d Decision, threshold float64) (bool, string) {
	short := min(d.WordsA, d.WordsB)
	switch {
	case short < MinDecideWords:
		return false, fmt.Sprintf("too short: %d words, needs %d to compare texts", short, MinDecideWords)
	case d.Containment < threshold:
		return false, fmt.Sprintf("shares only %s of the shorter text (containment %.2f < %.2f)",
			pct(d.Containment), d.Containment, threshold)
	case short < ShortWords && d.Containment < shortContainment:
		return false, fmt.Sprintf("short text (%d words) shares %s, needs %s (containment %.2f < %.2f)",
			short, pct(d.Containment), pct(shortContainment), d.Containment, shortContainment)
	case short < ShortWords && d.Resemblance < shortResemblance && d.TitleOverlap < 0.5:
		return false, fmt.Sprintf("short text (%d words) found inside a longer one (resemblance %.2f) with a different headline",
			short, d.Resemblance)
	case tooMany(d.NumbersMissing, d.Numbers):
		return false, fmt.Sprintf("numbers differ: %d of %d figures of the shorter text are not in the other",
			d.NumbersMissing, d.Numbers)
	case tooMany(d.NamesMissing, d.Names):
		return false, fmt.Sprintf("names differ: %d of %d names in the shorter text are not in the other",
			d.NamesMissing, d.Names)
	case d.runs < threshold:
		return false, fmt.Sprintf("shares %s of the shorter text, but in fragments: %s of its %d-word runs (%.2f < %.2f)",
			pct(d.Containment), pct(d.runs), KeyWords, d.runs, threshold)
	}
	return true, fmt.Sprintf("shares %s of the shorter text (containment %.2f ≥ %.2f)",
		pct(d.Containment), d.Containment, threshold)
}

// tooMany reports whether missing of n items is more than the tolerated
// share. One missing item is tolerated in any case when n is large enough
// that a reworded sentence could account for it.
func tooMany(missing, n int) bool {
	return missing > 0 && float64(missing) > maxMissingShare*float64(n)
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }

// intersect counts the elements two sorted, unique slices share.
func intersect(a, b []uint32) int {
	n := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return n
}

// missing counts the elements of a absent from b (both sorted).
func missing(a, b []uint32) int {
	n := 0
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			n++
		}
	}
	return n
}

// overlap is the share of the shorter word list found in the other.
func overlap(a, b []uint32) float64 {
	if len(b) < len(a) {
		a, b = b, a
	}
	if len(a) == 0 {
		return 0
	}
	return 1 - float64(missing(a, b))/float64(len(a))
}
