package dedupe

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Text converts an HTML fragment, as published in a feed's description or
// content, into plain running text: tags are dropped along with the
// contents of script, style and similar non-text elements, character
// references are decoded, block-level elements become line breaks, and
// whitespace is collapsed (runs of spaces to one space, runs of blank
// lines to one newline). Plain text passes through with its whitespace
// collapsed.
func Text(s string) string {
	var b textBuilder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0 // depth inside elements whose content is not text
	for {
		switch tt := z.Next(); tt {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			if skip == 0 {
				b.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if skipped[a] {
				if tt == html.StartTagToken { // <script/> has no content to skip
					skip++
				}
				continue
			}
			if block[a] {
				b.newline()
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if skipped[a] {
				if skip > 0 {
					skip--
				}
				continue
			}
			if block[a] {
				b.newline()
			}
		}
	}
}

// skipped elements carry no reader-visible text.
var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true,
	atom.Template: true, atom.Iframe: true, atom.Object: true,
	atom.Svg: true, atom.Math: true, atom.Head: true, atom.Title: true,
}

// block elements end a line of running text, so that "<p>a</p><p>b</p>"
// reads "a\nb" rather than "ab".
var block = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Br: true, atom.Dd: true, atom.Div: true, atom.Dl: true, atom.Dt: true,
	atom.Figcaption: true, atom.Figure: true, atom.Footer: true, atom.Form: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Header: true, atom.Hr: true, atom.Li: true, atom.Main: true, atom.Nav: true,
	atom.Ol: true, atom.P: true, atom.Pre: true, atom.Section: true, atom.Table: true,
	atom.Td: true, atom.Th: true, atom.Tr: true, atom.Ul: true, atom.Caption: true,
}

// textBuilder accumulates text with whitespace already collapsed: it never
// emits a leading or trailing separator, two spaces, or two newlines.
type textBuilder struct {
	sb      strings.Builder
	pending byte // ' ' or '\n' to write before the next word; 0 for none
}

// text writes a text node, its white space collapsed into separators, in
// one pass (splitting it into words allocated more than the text). Feeds
// carry invalid bytes (a charset that lies, a truncated multi-byte
// sequence), which range reads as utf8.RuneError: they are written as
// U+FFFD, so the text is valid UTF-8. Control characters other than white
// space (NUL, escape, C1 controls) show nothing and are not allowed in XML
// 1.0 (§2.2), so a republished title would carry them as U+FFFD: they are
// dropped.
func (b *textBuilder) text(s string) {
	for i := 0; i < len(s); {
		// A run of visible ASCII, most of any text, is written at once.
		if j := visibleASCII(s[i:]); j > 0 {
			b.word(s[i : i+j])
			i += j
			continue
		}
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		switch {
		case isSpace(r):
			b.space()
		case unicode.IsControl(r):
			// invisible: dropped
		default:
			if b.pending != 0 && b.sb.Len() > 0 {
				b.sb.WriteByte(b.pending)
			}
			b.pending = 0
			b.sb.WriteRune(r)
		}
	}
}

// visibleASCII returns the length of the run of printable, non-space
// ASCII that s starts with.
func visibleASCII(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return i
		}
	}
	return len(s)
}

// word writes w after any pending separator. Text split by inline markup
// ("<b>bo</b>ld") has no separator pending and joins up again.
func (b *textBuilder) word(w string) {
	if b.pending != 0 && b.sb.Len() > 0 {
		b.sb.WriteByte(b.pending)
	}
	b.pending = 0
	b.sb.WriteString(w)
}

// space asks for a space before the next word unless a newline is pending.
func (b *textBuilder) space() {
	if b.pending == 0 {
		b.pending = ' '
	}
}

// newline asks for a line break before the next word.
func (b *textBuilder) newline() { b.pending = '\n' }

func (b *textBuilder) String() string { return b.sb.String() }

// isSpace reports Unicode white space, including the no-break space that
// "&nbsp;" decodes to.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}
