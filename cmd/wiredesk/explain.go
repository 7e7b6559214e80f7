package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/dedupe"
	"github.com/wiredesk/wiredesk/store"
)

// runExplain is `wiredesk explain URL_A URL_B`: the two stored items'
// cleaned texts, the figures the same-story decision uses, the decision
// and its reason, and what the store actually did with them.
func (m *Main) runExplain(ctx context.Context, args []string) error {
	var path string
	var showText bool
	fs := m.newFlagSet("explain", &path)
	fs.BoolVar(&showText, "text", false, "also print both cleaned texts")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return &usageError{"explain: want two item URLs: wiredesk explain [--config FILE] URL_A URL_B"}
	}
	cfg, db, err := m.openConfigStore(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := findItem(ctx, db, fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := findItem(ctx, db, fs.Arg(1))
	if err != nil {
		return err
	}
	threshold := cfg.Dedupe.Threshold
	if threshold <= 0 {
		threshold = dedupe.DefaultThreshold
	}
	m.printExplanation(a, b, threshold, showText)
	return nil
}

// findItem finds the stored item with this URL, or with its canonical form.
func findItem(ctx context.Context, db *store.DB, rawURL string) (wiredesk.Item, error) {
	items, err := db.FindItems(ctx, rawURL, dedupe.CanonicalURL(rawURL))
	if err != nil {
		return wiredesk.Item{}, err
	}
	if len(items) == 0 {
		return wiredesk.Item{}, fmt.Errorf("explain: no stored item has the URL %s: %w", rawURL, wiredesk.ErrNotFound)
	}
	return items[0], nil
}

func (m *Main) printExplanation(a, b wiredesk.Item, threshold float64, showText bool) {
	da, db := dedupe.NewDoc(a.Title, a.Body()), dedupe.NewDoc(b.Title, b.Body())
	d := dedupe.Decide(da, db, threshold)
	w := m.Stdout
	for _, x := range []struct {
		label string
		it    wiredesk.Item
		doc   dedupe.Doc
	}{{"A", a, da}, {"B", b, db}} {
		fmt.Fprintf(w, "%s: %s  %s\n   %q, published %s, story %d\n   cleaned text: %d words, %d bytes\n",
			x.label, x.it.Source, x.it.URL, x.it.Title, x.it.Published.UTC().Format("2006-01-02 15:04Z"),
			x.it.StoryID, x.doc.Words(), len(x.doc.Text()))
	}
	fmt.Fprintf(w, "containment %.3f (shared share of the shorter text), resemblance %.3f, threshold %.2f\n",
		d.Containment, d.Resemblance, threshold)
	verdict := "different stories"
	if d.Same {
		verdict = "same story"
	}
	fmt.Fprintf(w, "decision: %s: %s\n", verdict, d.Reason)
	stored := "stored as different stories"
	if a.StoryID == b.StoryID {
		stored = fmt.Sprintf("stored as one story (%d)", a.StoryID)
	}
	fmt.Fprintf(w, "store: %s\n", stored)
	if showText {
		fmt.Fprintf(w, "\n--- A ---\n%s\n\n--- B ---\n%s\n", wrap(da.Text()), wrap(db.Text()))
	}
}

// wrap breaks text into lines of about 80 characters for the terminal.
func wrap(s string) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(s) {
		if n > 0 && n+len(w) > 79 {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
