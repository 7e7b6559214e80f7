package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/config"
)

// sourceTimeLayout prints times in the sources table: UTC to the minute,
// short enough to leave the last error most of an 80-column line.
const sourceTimeLayout = "2006-01-02 15:04Z"

// tableWidth is the terminal width the sources table aims at; only the
// LAST ERROR column is cut to fit it.
const tableWidth = 80

// minErrWidth keeps some of the last error when long names leave no room;
// the line is then wider than tableWidth.
const minErrWidth = 16

// sourceJSON is the contract of `wiredesk sources --json`. Times are
// RFC 3339 UTC, or null when the event has not happened.
type sourceJSON struct {
	Name       string  `json:"name"`
	URL        string  `json:"url,omitempty"` // empty for sources no longer configured
	InConfig   bool    `json:"in_config"`
	Status     string  `json:"status"` // ok, not_modified, error, gone or new
	HTTPStatus int     `json:"http_status"`
	LastPoll   *string `json:"last_poll"`
	LastOK     *string `json:"last_success"`
	NextRun    *string `json:"next_run"` // null when gone: it is not polled
	// Why next_run is what it is: schedule, backoff, retry-after,
	// "adaptive 2h0m0s", "feed ttl 1h0m0s", "cache-control 30m0s",
	// skipHours/skipDays; empty before the first poll.
	NextReason string `json:"next_reason"`
	// NotBefore is the feed's own lower bound on the next poll.
	NotBefore *string `json:"not_before"`
	Interval  string  `json:"adaptive_interval,omitempty"`
	Failures  int     `json:"failures"`
	LastError string  `json:"last_error"`
}

// sourceRow is one source's stored state joined with its configuration.
type sourceRow struct {
	wiredesk.SourceState
	url      string
	inConfig bool
}

// urlChanged reports whether the config names another feed_url than the
// one the stored state was earned on. Reading commands do not sync, so
// the state resets only when the config is next loaded to poll.
func (r sourceRow) urlChanged() bool {
	return r.inConfig && r.FeedURL != "" && r.FeedURL != r.url
}

// urlChangedReason is next_reason for a source whose feed_url was edited.
const urlChangedReason = "feed_url changed: its state resets and it is polled at once when the config is next loaded (SIGHUP, restart, or wiredesk poll of it)"

func (m *Main) runSources(ctx context.Context, args []string) error {
	var path string
	var asJSON bool
	fs := m.newFlagSet("sources", &path)
	fs.BoolVar(&asJSON, "json", false, "print a JSON array")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, db, err := m.openConfigStore(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	states, err := db.SourceStates(ctx)
	if err != nil {
		return err
	}
	if cfg.Server.PublicURL != "" {
		// As the daemon does: a source with a verified subscription whose
		// lease runs is polled only as the safety net.
		subs, err := db.Subscriptions(ctx)
		if err != nil {
			return err
		}
		pushed := map[string]bool{}
		for _, s := range subs {
			if s.Delivering(time.Now()) {
				pushed[s.Source] = true
			}
		}
		p := newPoller(cfg, nil, m.Logger)
		p.Pushed = func(source string) bool { return pushed[source] }
		for i, st := range states {
			states[i] = p.SafetyNetView(st)
		}
	}
	rows := joinSources(cfg, states)
	if asJSON {
		return writeSourcesJSON(m.Stdout, rows)
	}
	return writeSourcesTable(m.Stdout, rows)
}

// joinSources returns the configured sources in config order, then the
// ones only the database remembers (removed from the config; their items
// are kept), by name.
func joinSources(cfg *config.Config, states []wiredesk.SourceState) []sourceRow {
	byName := make(map[string]wiredesk.SourceState, len(states))
	for _, st := range states {
		byName[st.Source] = st
	}
	rows := make([]sourceRow, 0, len(states))
	configured := make(map[string]bool, len(cfg.Sources))
	for _, src := range cfg.Sources {
		st, ok := byName[src.Name]
		if !ok {
			st = wiredesk.SourceState{Source: src.Name}
		}
		configured[src.Name] = true
		rows = append(rows, sourceRow{SourceState: st, url: src.FeedURL, inConfig: true})
	}
	for _, st := range states {
		if !configured[st.Source] {
			rows = append(rows, sourceRow{SourceState: st})
		}
	}
	return rows
}

// statusName spells the stored status for people: a never-polled source
// has the empty status.
func statusName(status string) string {
	if status == wiredesk.StatusNew {
		return "new"
	}
	return status
}

func writeSourcesJSON(w io.Writer, rows []sourceRow) error {
	out := make([]sourceJSON, 0, len(rows))
	for _, r := range rows {
		j := sourceJSON{
			Name: r.Source, URL: r.url, InConfig: r.inConfig,
			Status: statusName(r.Status), HTTPStatus: r.HTTPStatus,
			LastPoll: jsonTime(r.LastFetch), LastOK: jsonTime(r.LastSuccess),
			NextRun:  jsonTime(r.NextRun),
			Failures: r.ConsecutiveFailures, LastError: r.LastError,
			NextReason: r.NextReason, NotBefore: jsonTime(r.NotBefore),
		}
		if r.Interval > 0 {
			j.Interval = r.Interval.String()
		}
		if r.Status == wiredesk.StatusGone {
			j.NextRun = nil
		}
		if r.urlChanged() {
			j.NextReason = urlChangedReason
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// tableCells are one row of the sources table, LAST ERROR last.
func tableCells(r sourceRow) []string {
	last := "never"
	if !r.LastFetch.IsZero() {
		last = r.LastFetch.UTC().Format(sourceTimeLayout)
	}
	next := "now" // never polled, or no schedule yet: due at once
	switch {
	case r.urlChanged():
		next = "on reload"
	case r.Status == wiredesk.StatusGone:
		next = "-"
	case !r.NextRun.IsZero():
		next = r.NextRun.UTC().Format(sourceTimeLayout)
		// The usual reasons go without saying (FAILURES shows a
		// backoff); a feed's own ask or adaptation is worth the width.
		switch r.NextReason {
		case "", "schedule", "backoff":
		default:
			next += " (" + strings.Fields(r.NextReason)[0] + ")"
		}
	}
	// One line per source: a multi-line error must not break the table.
	lastErr := strings.Join(strings.Fields(r.LastError), " ")
	// The row names the source, so the fetch URL the error starts with
	// (usually the source's own) would only push the reason off the line.
	lastErr = fetchPrefix.ReplaceAllString(lastErr, "")
	return []string{r.Source, last, statusName(r.Status),
		strconv.Itoa(r.ConsecutiveFailures), next, lastErr}
}

// fetchPrefix is how the aggregator's fetch errors begin.
var fetchPrefix = regexp.MustCompile(`^fetch \S+: `)

var sourceHeader = []string{"NAME", "LAST POLL", "STATUS", "FAILURES", "NEXT RUN", "LAST ERROR"}

// writeSourcesTable prints the configured sources, then, after a blank
// line, those the database holds but the config no longer names.
func writeSourcesTable(w io.Writer, rows []sourceRow) error {
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cells[i] = tableCells(r)
	}
	errWidth := lastColumnWidth(append([][]string{sourceHeader}, cells...))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	writeRow(tw, sourceHeader, errWidth)
	for i, c := range cells {
		if !rows[i].inConfig && (i == 0 || rows[i-1].inConfig) {
			// A tabwriter cell-less line ends the column block; the
			// removed sources are aligned among themselves.
			fmt.Fprintln(tw, "\nnot in config (stored items are kept):")
		}
		writeRow(tw, c, errWidth)
	}
	return tw.Flush()
}

func writeRow(w io.Writer, cells []string, errWidth int) {
	last := len(cells) - 1
	fmt.Fprintf(w, "%s\t%s\n", strings.Join(cells[:last], "\t"), truncate(cells[last], errWidth))
}

// lastColumnWidth is what tableWidth leaves the last column once the
// others are as wide as their widest cell plus padding, but at least
// minErrWidth.
func lastColumnWidth(rows [][]string) int {
	widths := make([]int, len(sourceHeader)-1)
	for _, r := range rows {
		for i := range widths {
			widths[i] = max(widths[i], len([]rune(r[i]))+2)
		}
	}
	used := 0
	for _, w := range widths {
		used += w
	}
	return max(tableWidth-used, minErrWidth)
}
