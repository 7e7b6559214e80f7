package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/aggregator"
	"github.com/wiredesk/wiredesk/config"
	"github.com/wiredesk/wiredesk/publish"
	"github.com/wiredesk/wiredesk/store"
)

// loadConfig loads the config, printing every problem when it is invalid.
func (m *Main) loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err == nil {
		if err := m.applyEnv(cfg); err != nil {
			return nil, &usageError{err.Error()}
		}
		return cfg, nil
	}
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		return nil, err
	}
	fmt.Fprintf(m.Stderr, "wiredesk: invalid config:\n%v\n", err)
	return nil, &silentError{code: 1}
}

// openConfigStore loads the config at path and opens its database for a
// command that only reads (sources, items, render, explain).
func (m *Main) openConfigStore(ctx context.Context, path string) (*config.Config, *store.DB, error) {
	cfg, err := m.loadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, db, nil
}

// openStore opens the database without recording the config's sources in
// it. Syncing is for whoever polls: a reading command run after an edit
// to a feed_url, while the daemon still polls the old URL, must not reset
// the source's state behind the daemon's back (its validators cleared,
// its backoff forgotten, and the daemon's saves from the old URL dropped
// until it reloads, since a save names the URL it fetched).
func openStore(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.Storage.Path)
	if err != nil {
		return nil, err
	}
	db.Fold = cfg.Dedupe.Enabled
	db.Window = cfg.Dedupe.Window
	return db, nil
}

// openSyncedStore opens the database and records sources, the ones about
// to be polled, in it.
func openSyncedStore(ctx context.Context, cfg *config.Config, sources []wiredesk.Source) (*store.DB, error) {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := db.SyncSources(ctx, sources); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (m *Main) runCheck(_ context.Context, args []string) error {
	var path string
	fs := m.newFlagSet("check", &path)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := m.loadConfig(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s: ok (%d sources, %d topics)\n", path, len(cfg.Sources), len(cfg.Topics))
	return nil
}

func (m *Main) runPoll(ctx context.Context, args []string) error {
	var path, only, cpuProfile string
	fs := m.newFlagSet("poll", &path)
	fs.StringVar(&only, "source", "", "poll only the source `NAME`")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the poll to `FILE` (for go tool pprof)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cpuProfile != "" {
		stop, err := startCPUProfile(cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	cfg, err := m.loadConfig(path)
	if err != nil {
		return err
	}
	sources := cfg.Sources
	if only != "" {
		src, ok := cfg.Source(only)
		if !ok {
			return &usageError{fmt.Sprintf("poll: no source named %q in %s", only, path)}
		}
		sources = []wiredesk.Source{src}
	}
	// Only the sources polled: `poll --source a` beside a running daemon
	// must not sync (and so reset) another source whose URL was edited.
	db, err := openSyncedStore(ctx, cfg, sources)
	if err != nil {
		return err
	}
	defer db.Close()

	lines, err := m.poll(ctx, cfg, db, sources, only != "")
	for _, l := range lines {
		fmt.Fprintln(m.Stdout, l)
	}
	// One source failing is reported above and is not a failed command;
	// only a store that cannot be written is.
	return err
}

// startCPUProfile profiles the process into file until stop is called.
func startCPUProfile(file string) (stop func(), err error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// poll polls sources now and returns one line per source, in order. A
// source named on the command line (byName) is polled whatever its
// status: that is how a gone source is retried. Otherwise a source that
// answered 410 Gone is skipped until its URL changes: RFC 9110 §15.5.11
// says the removal is on purpose, so polling it on every run is noise.
func (m *Main) poll(ctx context.Context, cfg *config.Config, db *store.DB, sources []wiredesk.Source, byName bool) ([]string, error) {
	p := newPoller(cfg, db, m.Logger)
	if byName {
		r, err := p.PollOnce(ctx, sources[0])
		return []string{r.String()}, err
	}
	lines := make([]string, len(sources))
	due, err := skipGone(ctx, db, sources, lines)
	if err != nil {
		return nil, err
	}
	results, err := p.PollAll(ctx, due)
	// Results come in input order: they fill the slots skipGone left empty.
	slot := 0
	for _, r := range results {
		for lines[slot] != "" {
			slot++
		}
		lines[slot] = r.String()
	}
	return lines, err
}

// skipGone returns the sources to poll, leaving out those whose stored
// status is gone; for each of those it fills the source's slot of lines,
// so that the output keeps config order. Slots left empty are the polled
// sources', in order.
func skipGone(ctx context.Context, db *store.DB, sources []wiredesk.Source, lines []string) ([]wiredesk.Source, error) {
	// One query for all: a query per source was a tenth of an unchanged
	// cycle's CPU time over 2,000 sources.
	states, err := db.SourceStates(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]wiredesk.SourceState, len(states))
	for _, st := range states {
		byName[st.Source] = st
	}
	var poll []wiredesk.Source
	for i, src := range sources {
		st := byName[src.Name]
		if st.Status != wiredesk.StatusGone {
			poll = append(poll, src)
			continue
		}
		code := st.HTTPStatus
		if code == 0 {
			code = http.StatusGone
		}
		lines[i] = fmt.Sprintf("%s: gone (%d) since %s; not polled (run `wiredesk poll --source %s` to retry)",
			src.Name, code, st.LastFetch.UTC().Format(time.RFC3339), src.Name)
	}
	return poll, nil
}

// newPoller builds the poller from the [poll] settings.
func newPoller(cfg *config.Config, db aggregator.Store, logger *slog.Logger) *aggregator.Poller {
	p := aggregator.NewPoller(db, cfg.Sources)
	p.DefaultSchedule = cfg.Poll.Schedule
	p.Concurrency = cfg.Poll.Concurrency
	p.PerHost = cfg.Poll.PerHost
	p.Timeout = cfg.Poll.Timeout
	p.MaxBody = cfg.Poll.MaxBody
	p.Adaptive = cfg.Poll.Adaptive
	p.MinInterval = cfg.Poll.MinInterval
	p.MaxInterval = cfg.Poll.MaxInterval
	p.Jitter = cfg.Poll.Jitter
	p.Dedupe = cfg.Dedupe.Enabled
	p.Window = cfg.Dedupe.Window
	if cfg.Dedupe.Threshold > 0 {
		p.Threshold = cfg.Dedupe.Threshold
	}
	// Used only where Pushed is set: the daemon with public_url, and
	// wiredesk sources showing the safety net.
	p.PushFallback = cfg.WebSub.Fallback
	p.Logger = logger
	return p
}

// itemJSON is the contract of `wiredesk items --json`.
type itemJSON struct {
	ID        int64  `json:"id"`
	Source    string `json:"source"`
	URL       string `json:"url"`
	GUID      string `json:"guid"`
	Title     string `json:"title"`
	Published string `json:"published"`
	Story     int64  `json:"story"`
	Primary   bool   `json:"primary"`
}

func (m *Main) runItems(ctx context.Context, args []string) error {
	var path, topicName string
	var asJSON bool
	var limit int
	fs := m.newFlagSet("items", &path)
	fs.StringVar(&topicName, "topic", "", "only items from the sources of topic `NAME`")
	fs.BoolVar(&asJSON, "json", false, "print a JSON array")
	fs.IntVar(&limit, "limit", 50, "print at most `N` items (0: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if limit < 0 {
		return &usageError{"items: --limit must not be negative"}
	}
	cfg, err := m.loadConfig(path)
	if err != nil {
		return err
	}
	filter := wiredesk.ItemFilter{Limit: limit}
	if topicName != "" {
		topic, ok := cfg.Topic(topicName)
		if !ok {
			return &usageError{fmt.Sprintf("items: no topic named %q in %s", topicName, path)}
		}
		filter.Sources = topic.SourceNames(cfg.Sources)
		if filter.Sources == nil {
			filter.Sources = []string{}
		}
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	items, err := db.Items(ctx, filter)
	if err != nil {
		return err
	}
	if asJSON {
		return m.printItemsJSON(items)
	}
	return m.printItemsTable(items)
}

func (m *Main) printItemsJSON(items []wiredesk.Item) error {
	out := make([]itemJSON, 0, len(items))
	for _, it := range items {
		out = append(out, itemJSON{
			ID: it.ID, Source: it.Source, URL: it.URL, GUID: it.GUID, Title: it.Title,
			Published: it.Published.UTC().Format(time.RFC3339),
			Story:     it.StoryID, Primary: it.Primary,
		})
	}
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func (m *Main) printItemsTable(items []wiredesk.Item) error {
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PUBLISHED\tSOURCE\tSTORY\tTITLE")
	for _, it := range items {
		story := fmt.Sprint(it.StoryID)
		if it.Primary {
			story += "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Published.UTC().Format("2006-01-02 15:04"),
			it.Source, story, truncate(it.Title, 80))
	}
	return tw.Flush()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (m *Main) runRender(ctx context.Context, args []string) error {
	var path, out string
	fs := m.newFlagSet("render", &path)
	fs.StringVar(&out, "out", "", "write the feeds into `DIR` (created if missing)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if out == "" {
		return &usageError{"render: --out DIR is required"}
	}
	cfg, db, err := m.openConfigStore(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	srv := newPublisher(cfg, db, m.Logger)
	if err := srv.WriteFiles(ctx, out); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %d topic feeds to %s\n", len(cfg.Topics), out)
	return nil
}

// newPublisher builds the publishing server over db.
func newPublisher(cfg *config.Config, db *store.DB, logger *slog.Logger) *publish.Server {
	srv := publish.NewServer(db, cfg.Topics, cfg.Sources, cfg.Server.BaseURL)
	srv.Logger = logger
	srv.Health = db.Ping
	srv.States = db
	srv.Hub = cfg.Publish.WebSubHub
	return srv
}

func (m *Main) runVersion(args []string) error {
	var path string
	fs := m.newFlagSet("version", &path)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wiredesk %s (%s)\n", wiredesk.Version, runtime.Version())
	return nil
}
