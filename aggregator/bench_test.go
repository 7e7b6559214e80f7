package aggregator_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/wiredesk/wiredesk/dedupe"
)

// BenchmarkDedupeVsParse puts the cost per item of recognising copies
// beside the cost of parsing the same item with gofeed, on one realistic
// 50-item feed, so the ratio comes from one run on one machine:
//
//	gofeed:   gofeed's parse of the document, per item
//	dedupe/N: clean + signature, candidate lookup in an index of N
//	          stories, and the decision against every candidate, per item
//
// Compare the ns/item metrics; the dedupe runs also report bytes per
// indexed story. Building the index runs NewDoc on every story, so N stops
// at 100k here; dedupe's BenchmarkCandidates goes to 1M with generated
// signatures.
func BenchmarkDedupeVsParse(b *testing.B) {
	body := readFixture(b, "rss2_50.xml")
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("gofeed", func(b *testing.B) {
		for b.Loop() {
			if _, err := gofeed.NewParser().Parse(bytes.NewReader(body)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(feed.Items)), "ns/item")
	})
	for _, size := range []int{10_000, 100_000} {
		// Built once: b.Run calls its function again as it grows b.N.
		ix, docs := windowIndex(size)
		b.Run(fmt.Sprintf("dedupe/%d", size), func(b *testing.B) {
			n := 0
			for b.Loop() {
				for _, it := range feed.Items {
					d := dedupe.NewDoc(it.Title, it.Content+it.Description)
					for _, id := range ix.Candidates(d.Signature()) {
						dedupe.Decide(d, docs[id%int64(len(docs))], dedupe.DefaultThreshold)
					}
					n++
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/item")
			b.ReportMetric(float64(ix.MemoryBytes())/float64(ix.Len()), "bytes/story")
		})
	}
}

// windowIndex builds an index of size stories from generated texts, the
// way a window full of a month of wire traffic would look: each text is a
// different draw of sentences from a large vocabulary.
func windowIndex(size int) (*dedupe.Index, []dedupe.Doc) {
	words := make([]string, 5000)
	for i := range words {
		words[i] = fmt.Sprintf("w%dx%d", i, i*7919%1000)
	}
	ix := dedupe.NewIndex()
	var docs []dedupe.Doc
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	state := uint64(1)
	next := func() int {
		state = state*6364136223846793005 + 1442695040888963407
		return int(state >> 33 % uint64(len(words)))
	}
	for i := range size {
		buf.Reset()
		buf.WriteString("<p>")
		for range 60 {
			buf.WriteString(words[next()])
			buf.WriteByte(' ')
		}
		buf.WriteString("</p>")
		d := dedupe.NewDoc("", buf.String())
		if len(docs) < 1000 {
			docs = append(docs, d)
		}
		ix.Add(int64(i), d.Signature(), at)
	}
	return ix, docs
}
