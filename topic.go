package wiredesk

import (
	"strings"
	"unicode"
)

// Admits reports whether a story with this title and plain text passes the
// topic's include and exclude terms. Terms match case-insensitively on word
// boundaries, so "war" does not match "software"; a term of several words
// matches them as a phrase.
func (t Topic) Admits(title, text string) bool {
	if len(t.Include) == 0 && len(t.Exclude) == 0 {
		return true
	}
	hay := " " + strings.Join(words(title+" "+text), " ") + " "
	for _, term := range t.Exclude {
		if containsPhrase(hay, term) {
			return false
		}
	}
	if len(t.Include) == 0 {
		return true
	}
	for _, term := range t.Include {
		if containsPhrase(hay, term) {
			return true
		}
	}
	return false
}

func containsPhrase(hay, term string) bool {
	w := words(term)
	if len(w) == 0 {
		return false
	}
	return strings.Contains(hay, " "+strings.Join(w, " ")+" ")
}

// words lowercases s and splits it on anything that is not a letter or digit.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}
