package publish

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"time"

	"github.com/wiredesk/wiredesk"
)

// StateLister lists the polling state of every known source;
// *store.DB satisfies it. The status page shows it next to each source.
type StateLister interface {
	SourceStates(ctx context.Context) ([]wiredesk.SourceState, error)
}

// latestOnIndex is how many recent stories the status page lists.
const latestOnIndex = 20

// statusTopic is one topic on the status page.
type statusTopic struct {
	topicURLs
	Stories int // what its feed lists now
}

// statusSource is one configured source and how its polling goes.
type statusSource struct {
	Name, FeedURL string
	State         wiredesk.SourceState
	Polled        bool // State.LastFetch is set
}

// statusStory is a recent story with the outlets that ran it.
type statusStory struct {
	Title, URL string
	Source     string // the primary copy's source
	Outlets    int
	Updated    time.Time
}

// statusPage is the landing page: what a person opens to see that all is
// well. It is rendered per request (it shows live state) from a handful
// of queries: one per topic, one for the sources, one for the latest
// stories.
type statusPage struct {
	Topics  []statusTopic
	Sources []statusSource
	Latest  []statusStory
	Errors  int // sources whose last poll failed
	OPML    string
	Base    string // base URL, for the footer links
	Version string
	Now     time.Time
}

func (s *Server) renderIndex(ctx context.Context, version string) ([]byte, error) {
	cfg := s.config()
	l := s.layout(false)
	page := statusPage{OPML: l.opmlURL(), Base: s.baseURL(), Version: version, Now: s.now().UTC()}
	for _, tu := range s.topicURLs(l) {
		stories, err := s.curate(ctx, tu.Topic, cfg.sources)
		if err != nil {
			return nil, fmt.Errorf("render index: %w", err)
		}
		page.Topics = append(page.Topics, statusTopic{topicURLs: tu, Stories: len(stories)})
	}

	states := map[string]wiredesk.SourceState{}
	if s.States != nil {
		list, err := s.States.SourceStates(ctx)
		if err != nil {
			return nil, fmt.Errorf("render index: %w", err)
		}
		for _, st := range list {
			states[st.Source] = st
		}
	}
	names := make([]string, 0, len(cfg.sources))
	for _, src := range cfg.sources {
		st := states[src.Name]
		page.Sources = append(page.Sources, statusSource{
			Name: src.Name, FeedURL: httpURL(src.FeedURL), State: st, Polled: !st.LastFetch.IsZero(),
		})
		if st.Status == wiredesk.StatusError || st.Status == wiredesk.StatusGone {
			page.Errors++
		}
		names = append(names, src.Name)
	}

	if len(names) > 0 {
		latest, err := s.finder.Stories(ctx, wiredesk.StoryFilter{Sources: names, Limit: latestOnIndex})
		if err != nil {
			return nil, fmt.Errorf("render index: latest stories: %w", err)
		}
		for _, st := range latest {
			page.Latest = append(page.Latest, statusStory{
				Title:   plainTitle(st.Primary.Title),
				URL:     httpURL(st.Primary.URL),
				Source:  st.Primary.Source,
				Outlets: len(st.Sources()),
				Updated: st.Updated,
			})
		}
	}

	var buf bytes.Buffer
	if err := statusTmpl.Execute(&buf, page); err != nil {
		return nil, fmt.Errorf("render index: %w", err)
	}
	return buf.Bytes(), nil
}

// ago says how long before now t was (or how long after, for a next
// poll), the way a person reads it.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + span(-d)
	}
	if d < time.Minute {
		return "just now"
	}
	return span(d) + " ago"
}

func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// statusTmpl is the status page. Everything shown comes from feeds or the
// config (titles, error messages); html/template escapes each value for
// its context, so a title "<script>" is shown as written, never run, and
// URLs go through httpURL first so that only http(s) links are made.
var statusTmpl = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": ago,
	"iso": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wiredesk</title>
{{- range .Topics}}{{$t := .Topic.Title}}{{range .Feeds}}
<link rel="alternate" {{.TypeAttr}} title="{{$t}} ({{.Format}})" href="{{.URL}}">
{{- end}}{{end}}
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:1rem 1.5rem;color:#1d1d1f}
h1{margin:.2rem 0}h2{margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eee;vertical-align:top}
th{font-weight:600;color:#555}.num{text-align:right}
.ok,.not_modified{color:#137333}.error,.gone{color:#b3261e;font-weight:600}.new{color:#666}
.err{color:#b3261e;font-size:.9em;word-break:break-word}.muted{color:#777}.feeds a{margin-right:.5rem}
.summary{padding:.5rem .8rem;border-radius:.4rem;background:#e6f4ea}.summary.bad{background:#fce8e6}
</style>
</head>
<body>
<h1>wiredesk</h1>
<p class="summary{{if .Errors}} bad{{end}}" id="summary">{{len .Sources}} source{{if ne (len .Sources) 1}}s{{end}}, {{len .Topics}} topic{{if ne (len .Topics) 1}}s{{end}}.
{{- if .Errors}} {{.Errors}} source{{if ne .Errors 1}}s{{end}} failing.{{else}} All sources polling normally.{{end}}</p>

<h2>Topics</h2>
<p>Subscribe in any feed reader, or import <a href="{{.OPML}}">all of them (OPML)</a>.</p>
<table id="topics">
<tr><th>Topic</th><th class="num">Stories</th><th>Subscribe</th></tr>
{{- range .Topics}}
<tr><td><strong>{{.Topic.Title}}</strong>{{with .Topic.Description}}<br><span class="muted">{{.}}</span>{{end}}</td>
<td class="num">{{.Stories}}</td>
<td class="feeds">{{range .Feeds}}<a href="{{.URL}}" {{.TypeAttr}}>{{.Format}}</a>{{end}}</td></tr>
{{- else}}
<tr><td colspan="3">No topics are configured.</td></tr>
{{- end}}
</table>

<h2>Sources</h2>
<table id="sources">
<tr><th>Source</th><th>Status</th><th>Last poll</th><th>Next poll</th></tr>
{{- $now := .Now}}
{{- range .Sources}}
<tr><td>{{if .FeedURL}}<a href="{{.FeedURL}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}</td>
<td><span class="{{or .State.Status "new"}}">{{or .State.Status "new"}}</span>{{with .State.HTTPStatus}} <span class="muted">({{.}})</span>{{end}}
{{- with .State.LastError}}<br><span class="err">{{.}}</span>{{end}}</td>
<td>{{if .Polled}}<time datetime="{{iso .State.LastFetch}}" title="{{iso .State.LastFetch}}">{{ago $now .State.LastFetch}}</time>{{else}}<span class="muted">not yet</span>{{end}}</td>
<td>{{if not .State.NextRun.IsZero}}<time datetime="{{iso .State.NextRun}}" title="{{iso .State.NextRun}}">{{ago $now .State.NextRun}}</time>{{end}}</td></tr>
{{- else}}
<tr><td colspan="4">No sources are configured.</td></tr>
{{- end}}
</table>

<h2>Latest stories</h2>
<ol id="latest">
{{- range .Latest}}
<li>{{if .URL}}<a href="{{.URL}}">{{.Title}}</a>{{else}}{{.Title}}{{end}}
<span class="muted">&mdash; {{.Source}}, {{if gt .Outlets 1}}ran in {{.Outlets}} outlets{{else}}1 outlet{{end}}, <time datetime="{{iso .Updated}}" title="{{iso .Updated}}">{{ago $now .Updated}}</time></span></li>
{{- else}}
<li class="muted">Nothing stored yet.</li>
{{- end}}
</ol>
<footer class="muted">wiredesk {{.Version}} &middot; {{iso .Now}} &middot; <a href="{{.Base}}/metrics">metrics</a> &middot; <a href="{{.Base}}/healthz">health</a></footer>
</body>
</html>
`))
