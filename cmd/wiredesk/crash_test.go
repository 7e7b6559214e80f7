package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/internal/feedtest"
	"github.com/wiredesk/wiredesk/store"
)

// crashItem is one entry a crash-test feed offers.
type crashItem struct {
	guid, title, link, body string
	round                   int    // the round that first offered it
	group                   string // wire group, empty for an outlet's own story
	pub                     time.Time
}

// crashFeeds is a feed server whose sources grow every round: each round
// adds stories of each outlet's own and wire stories carried by three
// outlets at once, so that every poll has items to write and stories to
// fold. Every document keeps the last window items, long enough that an
// item is always fetched (the test completes a poll after every kill)
// before it leaves.
type crashFeeds struct {
	srv     *feedtest.Server
	names   []string
	window  int
	base    time.Time
	round   int
	items   map[string][]crashItem // by source, oldest first
	offered map[[2]string]crashItem
	groups  map[string][][2]string // wire group -> (source, guid) of its copies
	rng     *rand.Rand
}

func newCrashFeeds(t *testing.T, sources, window int, seed uint64) *crashFeeds {
	f := &crashFeeds{
		srv: feedtest.New(t), window: window,
		base:    time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second),
		items:   map[string][]crashItem{},
		offered: map[[2]string]crashItem{},
		groups:  map[string][][2]string{},
		rng:     rand.New(rand.NewPCG(seed, 11)),
	}
	for i := range sources {
		f.names = append(f.names, fmt.Sprintf("outlet%d", i))
	}
	return f
}

// para draws a paragraph of n words; texts from different draws rarely
// share a run of eight words, so only wire copies fold.
func (f *crashFeeds) para(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = benchWords[f.rng.IntN(len(benchWords))]
	}
	return strings.Join(w, " ")
}

func (f *crashFeeds) story(paras int) string {
	var b strings.Builder
	for range paras {
		b.WriteString("<p>" + f.para(40) + ".</p>")
	}
	return b.String()
}

// grow adds a round: own stories per source and wire groups, each copied
// verbatim into three consecutive sources under their own link and title.
func (f *crashFeeds) grow(own, wire int) {
	f.round++
	r := f.round
	seq := 0
	add := func(src string, it crashItem) {
		seq++
		it.round, it.pub = r, f.base.Add(time.Duration(r)*time.Minute+time.Duration(seq)*time.Second)
		f.items[src] = append(f.items[src], it)
		f.offered[[2]string{src, it.guid}] = it
		if it.group != "" {
			f.groups[it.group] = append(f.groups[it.group], [2]string{src, it.guid})
		}
	}
	for _, src := range f.names {
		for i := range own {
			id := fmt.Sprintf("%s-r%d-%d", src, r, i)
			add(src, crashItem{guid: id, title: "Own report " + id,
				link: "https://" + src + ".example/news/" + id, body: f.story(4)})
		}
	}
	for g := range wire {
		group := fmt.Sprintf("wire-r%d-%d", r, g)
		body := f.story(4)
		for k := range 3 {
			src := f.names[(g+k+r)%len(f.names)]
			id := src + "-" + group
			add(src, crashItem{guid: id, title: "Wire copy " + id, group: group,
				link: "https://" + src + ".example/wire/" + id, body: body})
		}
	}
	for _, src := range f.names {
		f.srv.Set("/"+src+".xml", f.doc(src))
	}
}

// etag is the validator of round r's documents.
func etag(r int) string { return `"v` + strconv.Itoa(r) + `"` }

func (f *crashFeeds) doc(src string) feedtest.Doc {
	items := f.items[src]
	if n := len(items) - f.window; n > 0 && items[n-1].round == f.round {
		// An item never offered would count as lost.
		panic("crash test: a round adds more items than a document shows")
	}
	if len(items) > f.window {
		items = items[len(items)-f.window:]
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>` + src + `</title><link>https://` + src + `.example/</link><description>crash test</description>
`)
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		fmt.Fprintf(&b, "<item><title>%s</title><link>%s</link><guid isPermaLink=\"false\">%s</guid>"+
			"<pubDate>%s</pubDate><description><![CDATA[%s]]></description>"+
			"<content:encoded><![CDATA[%s]]></content:encoded></item>\n",
			it.title, it.link, it.guid, it.pub.Format(time.RFC1123Z), it.body[:strings.Index(it.body, "</p>")+4], it.body)
	}
	b.WriteString("</channel></rss>\n")
	return feedtest.Doc{Body: b.String(), ETag: etag(f.round),
		LastModified: f.base.Add(time.Duration(f.round) * time.Minute).Format(http.TimeFormat)}
}

// fetched counts, per source, the full (200) responses served so far.
func (f *crashFeeds) fetched() map[string]int {
	n := map[string]int{}
	for _, src := range f.names {
		for _, r := range f.srv.Requests("/" + src + ".xml") {
			if r.Status == http.StatusOK {
				n[src]++
			}
		}
	}
	return n
}

func (f *crashFeeds) requests() int {
	n := 0
	for _, src := range f.names {
		n += len(f.srv.Requests("/" + src + ".xml"))
	}
	return n
}

// writeCrashConfig polls every source every second, all at once.
func writeCrashConfig(t *testing.T, f *crashFeeds) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `[storage]
path = "wiredesk.db"

[server]
listen = "127.0.0.1:0"
base_url = "http://wiredesk.test"
shutdown_timeout = "5s"

[log]
format = "text"

[poll]
schedule = "@every 1s"
timeout = "20s"
concurrency = %d
per_host = %d
`, len(f.names), len(f.names))
	for _, src := range f.names {
		fmt.Fprintf(&b, "\n[[source]]\nname = %q\nurl = %q\ntags = [\"world\"]\n", src, f.srv.URL+"/"+src+".xml")
	}
	b.WriteString("\n[[topic]]\nname = \"world\"\ntitle = \"World wire\"\ntags = [\"world\"]\nlimit = 100\n")
	path := filepath.Join(t.TempDir(), "wiredesk.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// walPending returns how many frames at the end of a WAL file no commit
// frame closes: pages of a transaction that was being written when the
// process died, which recovery must ignore. The WAL format: a 32-byte
// header (page size at 8, salts at 16 and 20), then frames of a 24-byte
// header (commit size at 4, non-zero on a commit frame; salts at 8 and
// 12) and a page. Frames whose salts differ are left over from before the
// last WAL reset.
func walPending(path string) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil || len(b) < 32 {
		return 0, err
	}
	pageSize := int(binary.BigEndian.Uint32(b[8:12]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pending := 0
	for off := 32; off+24+pageSize <= len(b); off += 24 + pageSize {
		h := b[off : off+24]
		if !bytes.Equal(h[8:16], b[16:24]) {
			break
		}
		if binary.BigEndian.Uint32(h[4:8]) != 0 {
			pending = 0
		} else {
			pending++
		}
	}
	return pending, nil
}

// killStats tallies where the kills landed.
type killStats struct {
	kills, beforeFetch, inFlight, between, afterAll, walTorn int
	partial                                                  int // kills that left 0 < committed sources < all
}

func (k killStats) String() string {
	return fmt.Sprintf("%d kills: %d before any fetch, %d with a source fetched but not committed, "+
		"%d between commits, %d after every source committed; %d left some sources committed and others not; "+
		"%d left uncommitted frames in the WAL", k.kills, k.beforeFetch, k.inFlight, k.between,
		k.afterAll, k.partial, k.walTorn)
}

// Every round after the first adds roundOwn stories of its own to each
// source and roundWire wire stories carried by three sources each.
const roundOwn, roundWire = 8, 6

// TestSIGKILLDuringIngest kills the real binary with SIGKILL at random
// moments of its start-up polls, many times over, and after each kill
// checks what issue 4 promises: the database opens and passes an integrity
// check; each source's fetch is stored whole or not at all, and its ETag
// only with its items; after the next poll every item offered is stored
// once and every wire story is one story.
//
// WIREDESK_CRASH_KILLS sets the number of kills (default 50) and
// WIREDESK_CRASH_SEED the random seed.
func TestSIGKILLDuringIngest(t *testing.T) {
	bin := buildBinary(t)
	kills := envInt(t, "WIREDESK_CRASH_KILLS", 50)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("WIREDESK_CRASH_SEED"); s != "" {
		seed = uint64(envInt(t, "WIREDESK_CRASH_SEED", 0))
	}
	t.Logf("seed %d (rerun with WIREDESK_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	feeds := newCrashFeeds(t, 6, 80, seed)
	cfgPath := writeCrashConfig(t, feeds)
	dbPath := filepath.Join(filepath.Dir(cfgPath), "wiredesk.db")
	start := time.Now()

	// Round 1 is the initial load, round 2 the size of every later one;
	// runs killed only once all is stored measure the ingest window the
	// kills aim at.
	var window time.Duration
	for _, n := range []int{50, roundOwn} {
		feeds.grow(n, max(20*n/100, roundWire))
		window = crashRound(t, bin, cfgPath, feeds, -1)
		checkCrashStore(t, dbPath, feeds)
		t.Logf("round %d: ingest window %v (first request to last commit)", feeds.round, window.Round(time.Millisecond))
	}

	var ks killStats
	for i := 0; i < kills && !t.Failed(); i++ {
		feeds.grow(roundOwn, roundWire)
		before := feeds.fetched()
		at := time.Duration(rng.Int64N(int64(window) * 11 / 10))
		crashRound(t, bin, cfgPath, feeds, at)
		pending, err := walPending(dbPath + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		ks.kills++
		if pending > 0 {
			ks.walTorn++
		}
		ks.tally(checkAtomic(t, dbPath, feeds), before, feeds.fetched())
		if code, out, errOut := run(t, "poll", "--config", cfgPath); code != 0 || strings.Contains(out, "error") {
			t.Fatalf("poll after kill %d: exit %d\n%s%s", i+1, code, out, errOut)
		}
		checkCrashStore(t, dbPath, feeds)
	}
	t.Logf("%v in %v; %d items offered, %d wire groups", ks, time.Since(start).Round(time.Millisecond),
		len(feeds.offered), len(feeds.groups))
	if kills >= 20 && ks.inFlight+ks.partial == 0 {
		t.Errorf("no kill landed during ingest: %v", ks)
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// tally files a kill by the source fetches and commits it interrupted.
func (k *killStats) tally(committed map[string]bool, before, after map[string]int) {
	n, inFlight, fetched := 0, false, false
	for src, c := range committed {
		if c {
			n++
		}
		if after[src] > before[src] {
			fetched = true
			inFlight = inFlight || !c
		}
	}
	switch {
	case inFlight:
		k.inFlight++
	case !fetched:
		k.beforeFetch++
	case n == len(committed):
		k.afterAll++
	default:
		k.between++
	}
	if n > 0 && n < len(committed) {
		k.partial++
	}
}

// crashRound starts `wiredesk serve`, which polls every source at start,
// and SIGKILLs it killAfter past the first feed request of the round.
// With a negative killAfter it waits for every source's commit instead,
// kills then, and returns the time from first request to last commit.
func crashRound(t *testing.T, bin, cfgPath string, feeds *crashFeeds, killAfter time.Duration) time.Duration {
	t.Helper()
	reqs := feeds.requests()
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	var log syncBuffer
	startAndWaitServing(t, cmd, &log)
	deadline := time.Now().Add(30 * time.Second)
	wait := func(cond func() bool, what string) {
		for !cond() {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("%s within 30s:\n%s", what, log.String())
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	wait(func() bool { return feeds.requests() > reqs }, "no feed request")
	first := time.Now()
	if killAfter >= 0 {
		time.Sleep(killAfter)
	} else {
		wait(func() bool { return allPolled(log.String(), feeds.names) }, "not every source polled")
	}
	took := time.Since(first)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("serve exited 0 after SIGKILL:\n%s", log.String())
	}
	return took
}

// allPolled reports whether the log has a full (200) poll of every
// source. A count of "polled" lines would not do: a source's next tick
// (a 304, a second later) may log before a slower source has committed.
func allPolled(log string, names []string) bool {
	ok := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		if _, rest, found := strings.Cut(line, "msg=polled source="); found && strings.Contains(rest, " status=ok ") {
			name, _, _ := strings.Cut(rest, " ")
			ok[name] = true
		}
	}
	for _, src := range names {
		if !ok[src] {
			return false
		}
	}
	return true
}

// checkAtomic opens the database a kill left and checks it: integrity,
// and for each source either the whole of this round's fetch with its
// ETag, or none of it with the previous ETag. It reports which sources
// committed this round.
func checkAtomic(t *testing.T, dbPath string, feeds *crashFeeds) map[string]bool {
	t.Helper()
	checkIntegrity(t, dbPath)
	db, err := store.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	items, err := db.Items(t.Context(), wiredesk.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, it := range items {
		if o, ok := feeds.offered[[2]string{it.Source, it.GUID}]; ok && o.round == feeds.round {
			stored[it.Source]++
		}
	}
	want := map[string]int{}
	for k, o := range feeds.offered {
		if o.round == feeds.round {
			want[k[0]]++
		}
	}
	committed := map[string]bool{}
	for _, src := range feeds.names {
		st, err := db.SourceState(t.Context(), src)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case st.ETag == etag(feeds.round) && stored[src] == want[src]:
			committed[src] = true
		case st.ETag == etag(feeds.round-1) && stored[src] == 0:
			committed[src] = false
		default:
			t.Errorf("round %d, %s: ETag %s with %d of %d new items stored: a fetch was stored in part",
				feeds.round, src, st.ETag, stored[src], want[src])
		}
	}
	return committed
}

// checkCrashStore asserts that every item offered so far is stored once,
// nothing else is, every wire group is one story, every other item its
// own story, and no two stories share a primary copy.
func checkCrashStore(t *testing.T, dbPath string, feeds *crashFeeds) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	items, err := db.Items(ctx, wiredesk.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	story := map[[2]string]int64{}
	primaries := map[int64]int{}
	for _, it := range items {
		if it.Primary {
			primaries[it.StoryID]++
		}
		k := [2]string{it.Source, it.GUID}
		if _, dup := story[k]; dup {
			t.Errorf("item %s/%s stored twice", it.Source, it.GUID)
		}
		if _, ok := feeds.offered[k]; !ok {
			t.Errorf("item %s/%s stored but never offered", it.Source, it.GUID)
		}
		story[k] = it.StoryID
	}
	for _, id := range story {
		if primaries[id] != 1 {
			t.Errorf("story %d has %d primary copies, want 1", id, primaries[id])
			primaries[id] = 1 // report it once
		}
	}
	ownStories := map[int64]bool{}
	for k, o := range feeds.offered {
		id, ok := story[k]
		switch {
		case !ok:
			t.Errorf("round %d: item %s/%s (offered in round %d) was lost", feeds.round, k[0], k[1], o.round)
		case o.group == "":
			ownStories[id] = true
		}
	}
	for g, copies := range feeds.groups {
		ids := map[int64]bool{}
		for _, k := range copies {
			ids[story[k]] = true
			if ownStories[story[k]] {
				t.Errorf("wire copy %s/%s shares a story with an outlet's own report", k[0], k[1])
			}
		}
		if len(ids) != 1 {
			t.Errorf("round %d: wire group %s is in %d stories, want 1", feeds.round, g, len(ids))
		}
	}
	checkPrimaries(t, ctx, db, len(feeds.offered)-3*len(feeds.groups)+len(feeds.groups))
}

// checkPrimaries asserts there are want stories, each with a primary copy
// of its own.
func checkPrimaries(t *testing.T, ctx context.Context, db *store.DB, want int) {
	t.Helper()
	stories, err := db.Stories(ctx, wiredesk.StoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stories) != want {
		t.Errorf("%d stories, want %d (one per wire group and per own report)", len(stories), want)
	}
	primary := map[int64]int64{}
	for _, s := range stories {
		if s.Primary.ID == 0 {
			t.Errorf("story %d has no primary copy", s.ID)
			continue
		}
		if other, dup := primary[s.Primary.ID]; dup {
			t.Errorf("stories %d and %d share primary item %d", other, s.ID, s.Primary.ID)
		}
		primary[s.Primary.ID] = s.ID
	}
}

// TestSIGTERMDuringPollResumes completes what TestServeSignals checks
// (a prompt, clean exit while a poll hangs): the next start of `serve`
// polls the abandoned source again and stores its items, and nothing the
// first run stored is lost.
func TestSIGTERMDuringPollResumes(t *testing.T) {
	bin := buildBinary(t)
	feeds := startFeeds(t)
	arrived := make(chan string, 1)
	feeds.Set("/hang.xml", feedtest.Doc{Hang: true, Arrived: arrived})
	cfgPath := writeConfig(t, feeds)
	appendSource(t, cfgPath, "hang", feeds.URL+"/hang.xml")
	setShutdownTimeout(t, cfgPath, "1s")
	dbPath := filepath.Join(filepath.Dir(cfgPath), "wiredesk.db")

	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	var log syncBuffer
	startAndWaitServing(t, cmd, &log)
	for _, d := range feedDocs {
		waitLog(t, &log, "msg=polled source="+d.source+" ")
	}
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatalf("the hanging source was never polled:\n%s", log.String())
	}
	stopServe(t, cmd, &log)
	checkIntegrity(t, dbPath)
	if got := storedGUIDs(t, dbPath); count(got) != 6 || got["hang"] != nil {
		t.Fatalf("after SIGTERM: stored %v, want the 6 items of alpha, beta and gamma", got)
	}

	// The source answers now; the next start polls it, and only it (the
	// others are not due for an hour).
	feeds.Set("/hang.xml", feedtest.Doc{Body: rssDoc("hang", 5), ETag: `"h1"`})
	cmd = exec.Command(bin, "serve", "--config", cfgPath)
	var log2 syncBuffer
	startAndWaitServing(t, cmd, &log2)
	waitLog(t, &log2, "msg=polled source=hang ")
	stopServe(t, cmd, &log2)
	if !strings.Contains(log2.String(), "status=ok") {
		t.Errorf("restart did not store the abandoned source:\n%s", log2.String())
	}
	got := storedGUIDs(t, dbPath)
	if count(got) != 11 || len(got["hang"]) != 5 {
		t.Errorf("after restart: stored %v, want alpha, beta, gamma's 6 items and hang's 5", got)
	}
	for _, d := range feedDocs {
		if n := len(feeds.Requests(d.path)); n != 1 {
			t.Errorf("%s: %d requests, want 1 (polled on the first start only)", d.path, n)
		}
	}
}

// stopServe sends SIGTERM and expects exit 0 within the 1s shutdown
// timeout plus slack for a loaded machine.
func stopServe(t *testing.T, cmd *exec.Cmd, log *syncBuffer) {
	t.Helper()
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, log.String())
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v to stop after SIGTERM", d)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 20s after SIGTERM\n%s", log.String())
	}
}

// storedGUIDs returns the stored items' GUIDs by source.
func storedGUIDs(t *testing.T, dbPath string) map[string][]string {
	t.Helper()
	db, err := store.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	items, err := db.Items(t.Context(), wiredesk.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, it := range items {
		out[it.Source] = append(out[it.Source], it.GUID)
	}
	return out
}

func count(m map[string][]string) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}
