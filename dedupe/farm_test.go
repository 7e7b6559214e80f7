package dedupe

import (
	"bufio"
	"encoding/json"
	"os"
	"sort"
	"testing"
	"time"
)

// farmItem is one line of a labelled feed-farm dump: items in first-seen
// order, with the farm's ground truth (truth ≥ 0: a copy of that wire
// story; -1: an original).
type farmItem struct {
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	FirstSeen time.Time `json:"first_seen"`
	Truth     int       `json:"truth"`
}

// farmRun is the outcome of replaying a farm dump the way the daemon
// folds items: each new item joins the story of its best Same candidate
// (the highest containment) among earlier items, else starts a story.
type farmRun struct {
	items   []farmItem
	docs    []Doc
	story   []int
	via     []int // the candidate an item joined, or -1
	cands   []int // candidates per item
	newDoc  time.Duration
	lookup  time.Duration
	decide  time.Duration
	decided int
}

// TestFarm replays a labelled farm dump through Index and Decide and
// reports the fold rate, wrong merges, timings and candidates per item.
// It needs the dump, which is not in the repository:
//
//	FARM_JSONL=/tmp/farm-labelled.jsonl go test ./dedupe -run TestFarm -v
func TestFarm(t *testing.T) {
	path := os.Getenv("FARM_JSONL")
	if path == "" {
		t.Skip("FARM_JSONL not set")
	}
	r := replayFarm(t, loadFarm(t, path))
	n := len(r.items)
	fold, redundant := r.foldRate()
	wrong, mixed := r.wrongMerges()
	cands := 0
	for _, c := range r.cands {
		cands += c
	}
	per := func(d time.Duration) time.Duration { return d / time.Duration(n) }
	t.Logf("items %d, redundant copies %d, fold rate %.4f", n, redundant, fold)
	t.Logf("wrongly merged items %d in %d mixed stories", wrong, mixed)
	t.Logf("per item: NewDoc %v, Candidates %v, Decide %v (%d calls)",
		per(r.newDoc), per(r.lookup), per(r.decide), r.decided)
	t.Logf("candidates per item %.2f (copies %.2f, originals %.2f)",
		float64(cands)/float64(n), r.meanCands(true), r.meanCands(false))
	r.explainMisses(t, 15)
	r.explainMerges(t, 10)
	if fold < 0.99 || wrong > 0 {
		t.Errorf("fold rate %.4f (want ≥ 0.99), wrong merges %d (want 0)", fold, wrong)
	}
}

func loadFarm(t *testing.T, path string) []farmItem {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var items []farmItem
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var it farmItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("item %d: %v", len(items), err)
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return items
}

func replayFarm(t *testing.T, items []farmItem) *farmRun {
	t.Helper()
	r := &farmRun{items: items, docs: make([]Doc, len(items)), story: make([]int, len(items)),
		cands: make([]int, len(items)), via: make([]int, len(items))}
	ix := NewIndex()
	for i, it := range items {
		t0 := time.Now()
		d := NewDoc(it.Title, it.Body)
		t1 := time.Now()
		cs := ix.Near(&d, DefaultThreshold)
		t2 := time.Now()
		r.docs[i], r.story[i], r.cands[i], r.via[i] = d, i, len(cs), -1
		var best Decision
		for _, c := range cs {
			dec := Decide(d, r.docs[c], DefaultThreshold)
			if dec.Same && (r.story[i] == i || dec.Containment > best.Containment) {
				r.story[i], r.via[i], best = r.story[c], int(c), dec
			}
		}
		t3 := time.Now()
		ix.Add(int64(i), d.Signature(), it.FirstSeen)
		r.newDoc += t1.Sub(t0)
		r.lookup += t2.Sub(t1)
		r.decide += t3.Sub(t2)
		r.decided += len(cs)
	}
	return r
}

// foldRate is Σ (n − distinct assigned stories) / Σ (n − 1) over the
// farm's wire stories, and the denominator.
func (r *farmRun) foldRate() (float64, int) {
	byTruth := map[int]map[int]bool{}
	count := map[int]int{}
	for i, it := range r.items {
		if it.Truth < 0 {
			continue
		}
		if byTruth[it.Truth] == nil {
			byTruth[it.Truth] = map[int]bool{}
		}
		byTruth[it.Truth][r.story[i]] = true
		count[it.Truth]++
	}
	folded, redundant := 0, 0
	for tr, n := range count {
		folded += n - len(byTruth[tr])
		redundant += n - 1
	}
	if redundant == 0 {
		return 1, 0
	}
	return float64(folded) / float64(redundant), redundant
}

// wrongMerges counts, over the assigned stories, the items that are not
// of the story's commonest truth (an original is a truth of its own), and
// the stories that mix truths.
func (r *farmRun) wrongMerges() (wrong, mixed int) {
	members := map[int][]int{}
	for i := range r.items {
		members[r.story[i]] = append(members[r.story[i]], i)
	}
	for _, m := range members {
		n := map[int]int{}
		top := 0
		for _, i := range m {
			k := r.items[i].Truth
			if k < 0 {
				k = -1 - i
			}
			n[k]++
			top = max(top, n[k])
		}
		if top < len(m) {
			wrong += len(m) - top
			mixed++
		}
	}
	return wrong, mixed
}

func (r *farmRun) meanCands(copies bool) float64 {
	n, sum := 0, 0
	for i, it := range r.items {
		if (it.Truth >= 0) == copies {
			n++
			sum += r.cands[i]
		}
	}
	if n == 0 {
		return 0
	}
	return float64(sum) / float64(n)
}

// explainMisses logs why copies failed to join an earlier copy of their
// story: the verdict against the earlier copy that contains most of them,
// and whether it was a candidate at all.
func (r *farmRun) explainMisses(t *testing.T, show int) {
	first := map[int][]int{}
	reasons := map[string]int{}
	shown := 0
	for i, it := range r.items {
		if it.Truth < 0 {
			continue
		}
		prev := first[it.Truth]
		first[it.Truth] = append(prev, i)
		if len(prev) == 0 || r.story[i] != i {
			continue
		}
		var best Decision
		for _, j := range prev {
			if d := Decide(r.docs[i], r.docs[j], DefaultThreshold); d.Containment >= best.Containment {
				best = d
			}
		}
		why := reasonKind(best.Reason)
		if best.Same {
			why = "not a candidate"
		}
		reasons[why]++
		if shown < show {
			shown++
			t.Logf("missed item %d (truth %d, %d words, %d candidates): %s", i, it.Truth, r.docs[i].Words(), r.cands[i], best.Reason)
		}
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("missed copies: %-20s %d", k, reasons[k])
	}
}

// reasonKind is the first words of a Decision reason.
func reasonKind(s string) string {
	for i, c := range s {
		if c == ':' || c == '(' {
			return s[:i]
		}
	}
	return s
}

// explainMerges logs the joins that put items of different truths in one
// story.
func (r *farmRun) explainMerges(t *testing.T, show int) {
	for i, j := range r.via {
		if j < 0 || (r.items[i].Truth == r.items[j].Truth && r.items[i].Truth >= 0) {
			continue
		}
		if show--; show < 0 {
			return
		}
		d := Decide(r.docs[i], r.docs[j], DefaultThreshold)
		t.Logf("wrong join: item %d (truth %d) joined %d (truth %d): %s; numbers %d/%d names %d/%d resemblance %.2f",
			i, r.items[i].Truth, j, r.items[j].Truth, d.Reason, d.NumbersMissing, d.Numbers, d.NamesMissing, d.Names, d.Resemblance)
	}
}
