package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Error is one problem in a configuration file, located by line, column
// and field path (storage.path, source[2].url, topic[0].sources, ...).
// Source and topic indexes are 0-based in file order.
type Error struct {
	File   string // the name given to Parse or the path given to Load; may be empty
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based, in bytes; 0 when unknown
	Field  string // dotted path of the offending key; empty for syntax errors outside any key
	Msg    string
}

// Error formats e as "file:line:col: field: msg", leaving out the parts
// that are unknown, so editors and terminals can jump to the spot.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(":")
		if e.Column > 0 {
			b.WriteString(strconv.Itoa(e.Column))
			b.WriteString(":")
		}
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one configuration, in file order.
// Parse returns it as its error; use errors.As to get either the list or
// a single *Error.
type Errors []*Error

// Error joins the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each *Error to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// sortErrors orders problems by position so the report reads top to
// bottom; problems without a line go last.
func sortErrors(es Errors) {
	slices.SortStableFunc(es, func(a, b *Error) int {
		la, lb := a.Line, b.Line
		if la == 0 {
			la = int(^uint(0) >> 1)
		}
		if lb == 0 {
			lb = int(^uint(0) >> 1)
		}
		if la != lb {
			return la - lb
		}
		return a.Column - b.Column
	})
}

// decodeErrors turns what the TOML decoder reported into located Errors.
// The decoder knows the line and column but names keys without array
// indexes ("source.nmae"), so the field path comes from the position
// index instead ("source[1].nmae").
func decodeErrors(file string, idx *posIndex, err error) Errors {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var es Errors
		for i := range strict.Errors {
			de := &strict.Errors[i]
			msg := "unknown key"
			if strings.Contains(de.Error(), "missing table") {
				msg = "unknown table"
			}
			es = append(es, fromDecodeError(file, idx, de, msg))
		}
		return es
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		if idx.syntaxMsg != "" && de.Error() == "toml: "+idx.syntaxMsg {
			// The key of a line that does not parse is not in the index;
			// guess it from the text so the report still names a field.
			line, col := de.Position()
			return Errors{{File: file, Line: line, Column: col, Field: idx.syntaxField(line),
				Msg: "syntax error: " + idx.syntaxMsg}}
		}
		return Errors{fromDecodeError(file, idx, de, friendlyMessage(de))}
	}
	return Errors{{File: file, Msg: err.Error()}}
}

func fromDecodeError(file string, idx *posIndex, de *toml.DecodeError, msg string) *Error {
	line, col := de.Position()
	field := idx.fieldAt(line, col)
	if field == "" {
		field = strings.Join(de.Key(), ".")
	}
	return &Error{File: file, Line: line, Column: col, Field: field, Msg: msg}
}

// typeMismatch matches the decoder's message for a value of the wrong
// type, which names Go types; users wrote TOML, so it is rephrased.
var typeMismatch = regexp.MustCompile(`^toml: cannot decode TOML (\w+) into .* of type (.+)$`)

func friendlyMessage(de *toml.DecodeError) string {
	msg := de.Error()
	if m := typeMismatch.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("wrong type: want %s, got %s", tomlType(m[2]), m[1])
	}
	if strings.Contains(msg, "cannot store an array table") {
		return "wrong type: want table, got array of tables ([[...]])"
	}
	return strings.TrimPrefix(msg, "toml: ")
}

// tomlType names a Go destination type the way the TOML spec names types.
func tomlType(goType string) string {
	switch {
	case goType == "string":
		return "string"
	case goType == "bool":
		return "boolean"
	case goType == "float64":
		return "float"
	case strings.HasPrefix(goType, "int") || goType == "*int":
		return "integer"
	case goType == "[]string":
		return "array of strings"
	case strings.HasPrefix(goType, "[]"):
		return "array of tables"
	case strings.HasPrefix(goType, "config.") || strings.HasPrefix(goType, "struct"):
		return "table"
	}
	return goType
}
