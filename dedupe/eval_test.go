package dedupe

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var evalReport = flag.Bool("eval.report", false, "print the evaluation report and threshold sweep")

// evalItem is one item of the labelled set.
type evalItem struct {
	group     int
	file      string
	source    string
	title     string
	published time.Time
	body      string
}

// evalGroup is one file: a group of copies, or of independent reports or
// look-alike bulletins that must stay apart.
type evalGroup struct {
	file, kind, note string
	items            []evalItem
}

// loadEval reads every group file in dir (format: /work/briefs/corpus.md,
// "kind:" and "note:" headers, then items each opening "=== source:").
func loadEval(t testing.TB, dir string) []evalGroup {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var groups []evalGroup
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		g, err := parseGroup(filepath.Base(f), string(b))
		if err != nil {
			// A file being written right now may be incomplete.
			t.Logf("skip %s: %v", filepath.Base(f), err)
			continue
		}
		groups = append(groups, g)
	}
	return groups
}

func parseGroup(name, s string) (evalGroup, error) {
	g := evalGroup{file: name}
	parts := strings.Split(s, "\n=== source:")
	for _, l := range strings.Split(parts[0], "\n") {
		k, v, _ := strings.Cut(l, ":")
		switch strings.TrimSpace(k) {
		case "kind":
			g.kind = strings.TrimSpace(v)
		case "note":
			g.note = strings.TrimSpace(v)
		}
	}
	if g.kind != "copies" && g.kind != "independent" && g.kind != "lookalike" {
		return g, fmt.Errorf("kind %q", g.kind)
	}
	for _, p := range parts[1:] {
		it, err := parseItem(name, p)
		if err != nil {
			return g, err
		}
		g.items = append(g.items, it)
	}
	if len(g.items) < 2 {
		return g, fmt.Errorf("%d items", len(g.items))
	}
	return g, nil
}

func parseItem(name, p string) (evalItem, error) {
	it := evalItem{file: name}
	lines := strings.Split(p, "\n")
	it.source = strings.TrimSpace(lines[0])
	i := 1
	for ; i < len(lines); i++ {
		k, v, ok := strings.Cut(lines[i], ":")
		if !ok || (k != "title" && k != "published") {
			break
		}
		if k == "title" {
			it.title = strings.TrimSpace(v)
		} else {
			at, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
			if err != nil {
				return it, fmt.Errorf("item %s: %w", it.source, err)
			}
			it.published = at
		}
	}
	it.body = strings.TrimSpace(strings.Join(lines[i:], "\n"))
	if it.body == "" {
		return it, fmt.Errorf("item %s: no body", it.source)
	}
	return it, nil
}

// evalResult holds the figures of one run over the set at one threshold.
type evalResult struct {
	threshold        float64
	copyPairs        int // labelled copy pairs
	found            int // copy pairs that are candidates and Same
	candidatesOnly   int // copy pairs that are candidates (Decide aside)
	falseMerges      int // different-story pairs that are candidates and Same
	negMerged        int // of those, within independent/lookalike groups
	crossCandidates  int // cross-file pairs returned as candidates
	clusterNegMerged int // different-story pairs joined transitively, as the daemon would fold them
	// By containment alone (no figure, name or short-text rules), to show
	// what the threshold itself separates.
	contFound, contFalse int
	minCopy, maxNeg      float64 // lowest containment of a copy pair, highest of a compared negative pair
	maxIndependent       float64 // highest containment of two independent reports of one event
	contIndependent      int     // independent pairs at or above the threshold by containment alone
	// The figure and name checks: the largest share of missing figures or
	// names between copies, and the smallest between look-alike bulletins
	// that containment alone would merge (maxMissingShare lies between).
	copyMissing, lookalikeMissing float64
	misses, falsePairs            []string
}

func (r evalResult) precision() float64 {
	if r.found+r.falseMerges == 0 {
		return 1
	}
	return float64(r.found) / float64(r.found+r.falseMerges)
}

func (r evalResult) recall() float64 {
	if r.copyPairs == 0 {
		return 1
	}
	return float64(r.found) / float64(r.copyPairs)
}

func (r evalResult) f1() float64 {
	p, q := r.precision(), r.recall()
	if p+q == 0 {
		return 0
	}
	return 2 * p * q / (p + q)
}

// evalSet is the labelled set prepared once: Docs and an Index of every
// item, as the daemon holds them.
type evalSet struct {
	items []evalItem
	docs  []Doc
	same  func(i, j int) bool // labelled as one story
	kind  func(i int) string
	cand  map[[2]int]bool // candidate pairs, i < j
}

func prepareEval(groups []evalGroup) *evalSet {
	es := &evalSet{cand: map[[2]int]bool{}}
	var kinds []string
	for gi, g := range groups {
		for _, it := range g.items {
			it.group = gi
			es.items = append(es.items, it)
			es.docs = append(es.docs, NewDoc(it.title, it.body))
			kinds = append(kinds, g.kind)
		}
	}
	es.same = func(i, j int) bool {
		return es.items[i].group == es.items[j].group && kinds[i] == "copies"
	}
	es.kind = func(i int) string { return kinds[i] }
	ix := NewIndex()
	for i, d := range es.docs {
		ix.Add(int64(i), d.Signature(), es.items[i].published)
	}
	for i, d := range es.docs {
		for _, c := range ix.Near(&d, DefaultThreshold) {
			if j := int(c); j != i {
				es.cand[[2]int{min(i, j), max(i, j)}] = true
			}
		}
	}
	return es
}

func (es *evalSet) run(threshold float64) evalResult {
	r := evalResult{threshold: threshold, minCopy: 1, lookalikeMissing: 1}
	uf := make([]int, len(es.items))
	for i := range uf {
		uf[i] = i
	}
	find := func(x int) int {
		for uf[x] != x {
			uf[x] = uf[uf[x]]
			x = uf[x]
		}
		return x
	}
	for i := range es.items {
		for j := i + 1; j < len(es.items); j++ {
			same, isCand := es.same(i, j), es.cand[[2]int{i, j}]
			sameGroup := es.items[i].group == es.items[j].group
			if !sameGroup && isCand {
				r.crossCandidates++
			}
			var d Decision
			if isCand || same || sameGroup {
				d = Decide(es.docs[i], es.docs[j], threshold)
			}
			if isCand || same || sameGroup {
				es.containmentOnly(&r, d, same, threshold)
				es.missingShares(&r, d, same, sameGroup && es.kind(i) == "lookalike", threshold)
				if sameGroup && es.kind(i) == "independent" {
					r.maxIndependent = max(r.maxIndependent, d.Containment)
					if d.Containment >= threshold {
						r.contIndependent++
					}
				}
			}
			label := fmt.Sprintf("%s: %s ~ %s: %s", es.items[i].file, es.items[i].source,
				es.items[j].file, es.items[j].source)
			if same {
				r.copyPairs++
				if isCand {
					r.candidatesOnly++
				}
				if isCand && d.Same {
					r.found++
				} else {
					r.misses = append(r.misses, fmt.Sprintf("%s (candidate %v): %s", label, isCand, d.Reason))
				}
			} else if isCand && d.Same {
				r.falseMerges++
				if sameGroup {
					r.negMerged++
				}
				r.falsePairs = append(r.falsePairs, label+": "+d.Reason)
			}
			if isCand && d.Same {
				uf[find(i)] = find(j)
			}
		}
	}
	for i := range es.items {
		for j := i + 1; j < len(es.items); j++ {
			if !es.same(i, j) && find(i) == find(j) {
				r.clusterNegMerged++
			}
		}
	}
	return r
}

func (es *evalSet) containmentOnly(r *evalResult, d Decision, same bool, threshold float64) {
	if min(d.WordsA, d.WordsB) < MinDecideWords {
		return
	}
	hit := d.Containment >= threshold
	if same {
		r.minCopy = min(r.minCopy, d.Containment)
		if hit {
			r.contFound++
		}
		return
	}
	r.maxNeg = max(r.maxNeg, d.Containment)
	if hit {
		r.contFalse++
	}
}

func (es *evalSet) missingShares(r *evalResult, d Decision, same, lookalike bool, threshold float64) {
	share := 0.0
	if d.Numbers > 0 {
		share = float64(d.NumbersMissing) / float64(d.Numbers)
	}
	if d.Names > 0 {
		share = max(share, float64(d.NamesMissing)/float64(d.Names))
	}
	switch {
	case same:
		r.copyMissing = max(r.copyMissing, share)
	case lookalike && d.Containment >= threshold:
		r.lookalikeMissing = min(r.lookalikeMissing, share)
	}
}

func TestEval(t *testing.T) {
	groups := loadEval(t, filepath.Join("testdata", "eval"))
	if len(groups) < 20 {
		t.Skipf("only %d eval groups in testdata/eval so far; need 20", len(groups))
	}
	es := prepareEval(groups)
	r := es.run(DefaultThreshold)
	counts := map[string]int{}
	for _, g := range groups {
		counts[g.kind]++
	}
	t.Logf("%d groups (%v), %d items, %d copy pairs", len(groups), counts, len(es.items), r.copyPairs)
	if *evalReport {
		report(t, es, r)
	}
	if p := r.precision(); p < 0.99 {
		t.Errorf("precision %.3f < 0.99", p)
	}
	if q := r.recall(); q < 0.97 {
		t.Errorf("recall %.3f < 0.97", q)
	}
	if r.falseMerges > 0 {
		t.Errorf("%d different-story pairs merged", r.falseMerges)
	}
	if t.Failed() && !*evalReport {
		for _, m := range r.misses {
			t.Logf("missed: %s", m)
		}
		for _, m := range r.falsePairs {
			t.Logf("merged: %s", m)
		}
	}
}

func report(t *testing.T, es *evalSet, r evalResult) {
	t.Logf("threshold %.2f: precision %.3f recall %.3f F1 %.3f", r.threshold, r.precision(), r.recall(), r.f1())
	t.Logf("copy pairs %d, found %d, candidates %d (index recall %.3f)", r.copyPairs, r.found,
		r.candidatesOnly, float64(r.candidatesOnly)/float64(max(1, r.copyPairs)))
	t.Logf("hard negatives merged: %d within independent/lookalike groups, %d in all (cross-group candidates: %d); "+
		"different-story pairs in one cluster after transitive folding: %d",
		r.negMerged, r.falseMerges, r.crossCandidates, r.clusterNegMerged)
	for _, m := range r.misses {
		t.Logf("  missed: %s", m)
	}
	for _, m := range r.falsePairs {
		t.Logf("  merged: %s", m)
	}
	t.Logf("containment: lowest of a copy pair %.3f, highest of a different-story pair compared %.3f, "+
		"highest of two independent reports %.3f", r.minCopy, r.maxNeg, r.maxIndependent)
	t.Logf("figures/names missing from the longer text: at most %.2f between copies, at least %.2f between "+
		"look-alikes sharing ≥ %.2f (tolerated: %.2f)", r.copyMissing, r.lookalikeMissing, r.threshold, maxMissingShare)
	t.Logf("sweep:  thr   prec   recall F1     neg-merged cluster-neg | containment alone: copies  negatives  (independent)")
	for thr := 0.2; thr < 0.951; thr += 0.05 {
		s := es.run(thr)
		t.Logf("       %.2f  %.3f  %.3f  %.3f  %-10d %-11d |                    %-7d %-10d %d", thr, s.precision(),
			s.recall(), s.f1(), s.falseMerges, s.clusterNegMerged, s.contFound, s.contFalse, s.contIndependent)
	}
}
