package config

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// posEntry is where one key (or array element) starts in the document.
type posEntry struct {
	offset    int
	line, col int
	path      string // source[2].url, topic[0].tags[1], poll
}

// posIndex maps field paths to positions. It is built with go-toml's
// unstable parser, which keeps byte ranges for every key, so validation
// that runs after decoding can still point at a line. It is best effort:
// on a syntax error it holds what came before it.
type posIndex struct {
	data       []byte
	lineStarts []int
	entries    []posEntry // in document order
	byPath     map[string]posEntry
	syntaxMsg  string // the parser's error message, "" if the document parsed
	table      string // table in effect where parsing stopped
}

func newPosIndex(data []byte) *posIndex {
	idx := &posIndex{data: data, lineStarts: []int{0}, byPath: map[string]posEntry{}}
	for i, c := range data {
		if c == '\n' {
			idx.lineStarts = append(idx.lineStarts, i+1)
		}
	}
	w := walker{idx: idx, counts: map[string]int{}}
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
		w.expression(p.Expression())
	}
	if err := p.Error(); err != nil {
		idx.syntaxMsg = err.Error()
	}
	idx.table = w.table
	return idx
}

func (idx *posIndex) add(path string, r unstable.Range) {
	off := int(r.Offset)
	line := sort.Search(len(idx.lineStarts), func(i int) bool { return idx.lineStarts[i] > off })
	e := posEntry{offset: off, line: line, col: off - idx.lineStarts[line-1] + 1, path: path}
	idx.entries = append(idx.entries, e)
	if _, ok := idx.byPath[path]; !ok {
		idx.byPath[path] = e
	}
}

// lookup returns the position of path, or of its nearest ancestor that
// was written: a missing source[2].name points at source[2]'s header.
func (idx *posIndex) lookup(path string) (line, col int) {
	for path != "" {
		if e, ok := idx.byPath[path]; ok {
			return e.line, e.col
		}
		cut := max(strings.LastIndexByte(path, '.'), strings.LastIndexByte(path, '['))
		if cut < 0 {
			break
		}
		path = path[:cut]
	}
	return 0, 0
}

// fieldAt names the key that a decoder error at line:col is about: the
// last key starting at or before that spot.
func (idx *posIndex) fieldAt(line, col int) string {
	if line < 1 || line > len(idx.lineStarts) {
		return ""
	}
	off := idx.lineStarts[line-1] + col - 1
	i := sort.Search(len(idx.entries), func(i int) bool { return idx.entries[i].offset > off })
	if i == 0 {
		return ""
	}
	return idx.entries[i-1].path
}

// bareKeyAssign finds the key on a line that failed to parse, such as
// `timeout = "30s` with no closing quote.
var bareKeyAssign = regexp.MustCompile(`^\s*([A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*=`)

// syntaxField guesses the field of a syntax error from the table the
// parser was in and the key written at the start of the line.
func (idx *posIndex) syntaxField(line int) string {
	if line < 1 || line > len(idx.lineStarts) {
		return idx.table
	}
	text := idx.data[idx.lineStarts[line-1]:]
	if end := strings.IndexByte(string(text), '\n'); end >= 0 {
		text = text[:end]
	}
	m := bareKeyAssign.FindSubmatch(text)
	if m == nil {
		return idx.table
	}
	key := strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(string(m[1]), ".", " ")), "."))
	return joinPath(idx.table, key)
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

// walker records the path of every key while following TOML's rules for
// which table a key lands in.
type walker struct {
	idx    *posIndex
	table  string         // path of the current [table] or [[array]] element
	counts map[string]int // elements seen so far per array of tables
}

func (w *walker) expression(n *unstable.Node) {
	switch n.Kind {
	case unstable.Table, unstable.ArrayTable:
		w.header(n)
	case unstable.KeyValue:
		w.keyValue(w.table, n)
	}
}

func (w *walker) header(n *unstable.Node) {
	parts, first := keyParts(n)
	if first == nil {
		return
	}
	if n.Kind == unstable.Table {
		w.table = w.resolve("", parts)
	} else {
		name := joinPath(w.resolve("", parts[:len(parts)-1]), parts[len(parts)-1])
		i := w.counts[name]
		w.counts[name] = i + 1
		w.table = name + "[" + strconv.Itoa(i) + "]"
	}
	w.idx.add(w.table, first.Raw)
}

func (w *walker) keyValue(base string, n *unstable.Node) {
	parts, first := keyParts(n)
	if first == nil {
		return
	}
	path := w.resolve(base, parts)
	w.idx.add(path, first.Raw)
	w.value(path, n.Value())
}

// value records the keys of inline tables and the elements of arrays, so
// that `source = [{ name = "x" }]` is indexed like [[source]].
func (w *walker) value(path string, v *unstable.Node) {
	if v == nil {
		return
	}
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if kv := it.Node(); kv.Kind == unstable.KeyValue {
				w.keyValue(path, kv)
			}
		}
	case unstable.Array:
		i := 0
		it := v.Children()
		for it.Next() {
			el := it.Node()
			if el.Kind == unstable.Comment {
				continue
			}
			p := path + "[" + strconv.Itoa(i) + "]"
			if el.Raw.Length > 0 {
				w.idx.add(p, el.Raw)
			}
			w.value(p, el)
			i++
		}
	}
}

// resolve appends key parts to base; a part naming an array of tables
// means its latest element, as in TOML's [[source]] then [source.extra].
func (w *walker) resolve(base string, parts []string) string {
	path := base
	for _, part := range parts {
		path = joinPath(path, part)
		if n := w.counts[path]; n > 0 {
			path += "[" + strconv.Itoa(n-1) + "]"
		}
	}
	return path
}

func keyParts(n *unstable.Node) ([]string, *unstable.Node) {
	var parts []string
	var first *unstable.Node
	it := n.Key()
	for it.Next() {
		k := it.Node()
		if first == nil {
			first = k
		}
		// The decoder matches keys to fields case-insensitively (it
		// lowercases them), so "[[Source]]" fills source[0]: fold here
		// too, or validation errors about it could not be located.
		parts = append(parts, strings.ToLower(string(k.Data)))
	}
	return parts, first
}
