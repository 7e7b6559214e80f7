// Package metrics exposes wiredesk's Prometheus metrics, every one under
// the wiredesk_ namespace.
//
// Label values come only from the config (source and topic names), from
// fixed sets (outcomes, formats, status codes) or from nothing at all:
// never URLs or error strings, so the number of series stays bounded
// however sources misbehave.
package metrics

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/wiredesk/wiredesk"
	"github.com/wiredesk/wiredesk/aggregator"
)

const namespace = "wiredesk"

// Poll outcomes, the values of the outcome label of polls_total. Errors
// are split by kind (see ErrorKind).
const (
	OutcomeNew         = "new"          // 200 with at least one new item
	OutcomeUnchanged   = "unchanged"    // 200 with nothing new
	OutcomeNotModified = "not_modified" // 304
	OutcomeGone        = "gone"         // 410
)

// Error kinds, the outcomes of failed polls (see ErrorKind).
const (
	kindTimeout  = "timeout"
	kindDNS      = "dns"
	kindConnect  = "connect"
	kindTLS      = "tls"
	kindHTTP4xx  = "http_4xx"
	kindHTTP5xx  = "http_5xx"
	kindTooLarge = "too_large"
	kindParse    = "parse"
	kindOther    = "other"
)

// Metrics holds wiredesk's collectors in a registry of its own, so tests
// and several daemons in one process do not collide in the global one.
type Metrics struct {
	reg *prometheus.Registry

	stories  prometheus.Counter
	copies   prometheus.Counter
	sources  prometheus.Gauge
	topics   prometheus.Gauge
	fetch    prometheus.Histogram     // all sources: see New
	requests *prometheus.CounterVec   // topic, format, code
	render   *prometheus.HistogramVec // format

	mu    sync.Mutex
	bySrc map[string]*sourceStats // configured sources, by name
	topic map[string]bool         // configured topic names
}

// sourceStats is one source's series, kept as plain numbers and turned
// into metrics only when scraped (see sourceCollector). client_golang's
// vectors keep an object per series, with its label pairs and, for a
// histogram, its buckets: 29 MB of a daemon's heap with 10,000 sources
// (heap profile of `wiredesk serve`). BenchmarkSourceSeries measured
// 2,790 bytes a source with vectors, 193 with these.
type sourceStats struct {
	polls        [len(outcomes)]uint64
	fetchSeconds float64
	bytes        uint64
	items        uint64
	pushes       uint64
	lastSuccess  int64 // Unix seconds; 0 for never
}

// outcomes are the values of the outcome label, in the order sourceStats
// counts them.
var outcomes = [...]string{OutcomeNew, OutcomeUnchanged, OutcomeNotModified, OutcomeGone,
	kindTimeout, kindDNS, kindConnect, kindTLS, kindHTTP4xx, kindHTTP5xx, kindTooLarge, kindParse, kindOther}

// Descriptions of the per-source series.
var (
	pollsDesc = prometheus.NewDesc(namespace+"_polls_total",
		"Polls by source and outcome: new, unchanged, not_modified, gone, or the kind of error.",
		[]string{"source", "outcome"}, nil)
	fetchSecondsDesc = prometheus.NewDesc(namespace+"_fetch_seconds_total",
		"Time spent fetching feeds, by source (over polls_total, its mean fetch time).",
		[]string{"source"}, nil)
	bytesDesc = prometheus.NewDesc(namespace+"_fetched_bytes_total",
		"Feed body bytes read (after decompression), by source.",
		[]string{"source"}, nil)
	itemsDesc = prometheus.NewDesc(namespace+"_items_stored_total",
		"Items stored for the first time, by source.",
		[]string{"source"}, nil)
	lastSuccessDesc = prometheus.NewDesc(namespace+"_last_success_timestamp_seconds",
		"Unix time of the last poll of a source that ended ok or not modified.",
		[]string{"source"}, nil)
	pushesDesc = prometheus.NewDesc(namespace+"_push_deliveries_total",
		"WebSub deliveries ingested, by source.",
		[]string{"source"}, nil)
)

// New returns the metrics of a daemon whose database is at dbPath (its
// size, with the write-ahead log, is reported at each scrape; "" for none).
func New(dbPath string) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		stories: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "stories_started_total",
			Help: "New items that started a story of their own.",
		}),
		copies: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "copies_attached_total",
			Help: "New items that joined an existing story: wire copies and the same article elsewhere.",
		}),
		sources: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "sources",
			Help: "Sources configured.",
		}),
		topics: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "topics",
			Help: "Topics configured.",
		}),
		// Fetch times as a distribution over all sources, and per source
		// only their sum (fetch_seconds_total): a histogram by source
		// is twelve series a source, 120,000 with 10,000 sources, and
		// made a scrape 12 MB of text.
		fetch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "fetch_duration_seconds",
			Help:    "Time from sending a feed request to reading the last byte of its body, over all sources.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "topic_requests_total",
			Help: "Topic feed requests by topic, format (rss, atom, json) and status code (304s included).",
		}, []string{"topic", "format", "code"}),
		render: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "render_duration_seconds",
			Help:    "Time to render a topic feed, by format: renders only, not the answers served from the feed cache.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"format"}),
		bySrc: map[string]*sourceStats{},
		topic: map[string]bool{},
	}
	// The runtime's series too go under the namespace (wiredesk_go_...),
	// so that everything this endpoint exports is wiredesk's.
	prometheus.WrapRegistererWithPrefix(namespace+"_", m.reg).MustRegister(collectors.NewGoCollector())
	m.reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: namespace}),
		sourceCollector{m}, m.stories, m.copies, m.fetch,
		m.sources, m.topics, m.requests, m.render,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "database_size_bytes",
			Help: "Size of the SQLite database file plus its write-ahead log.",
		}, func() float64 { return float64(fileSize(dbPath) + fileSize(dbPath+"-wal")) }),
	)
	return m
}

func fileSize(path string) int64 {
	if path == "" {
		return 0
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Registry is where the collectors live, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// SetConfig records the configured source and topic names and drops the
// series of those no longer configured, so a reload that removes a source
// does not leave its last values exported for ever.
func (m *Metrics) SetConfig(sources []wiredesk.Source, topics []wiredesk.Topic) {
	m.mu.Lock()
	defer m.mu.Unlock()
	bySrc := make(map[string]*sourceStats, len(sources))
	for _, src := range sources {
		st := m.bySrc[src.Name]
		if st == nil {
			st = &sourceStats{}
		}
		bySrc[src.Name] = st
	}
	topic := make(map[string]bool, len(topics))
	for _, t := range topics {
		topic[t.Name] = true
	}
	for name := range m.topic {
		if !topic[name] {
			m.requests.DeletePartialMatch(prometheus.Labels{"topic": name})
		}
	}
	m.bySrc, m.topic = bySrc, topic
	m.sources.Set(float64(len(sources)))
	m.topics.Set(float64(len(topics)))
}

func (m *Metrics) isTopic(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.topic[name]
}

// ObservePoll records one poll's result. A source that is not configured
// (polled by a tool, or removed by a reload while its poll ran) is not
// given series of its own.
func (m *Metrics) ObservePoll(r aggregator.Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.bySrc[r.Source]
	if st == nil {
		return
	}
	m.stories.Add(float64(r.Stats.Stories))
	m.copies.Add(float64(r.Stats.Copies))
	i := slices.Index(outcomes[:], Outcome(r))
	if i < 0 {
		i = slices.Index(outcomes[:], kindOther) // TestErrorKind keeps the list whole
	}
	st.polls[i]++
	if r.FetchDuration > 0 {
		sec := r.FetchDuration.Seconds()
		m.fetch.Observe(sec)
		st.fetchSeconds += sec
	}
	st.bytes += uint64(max(r.Bytes, 0))
	st.items += uint64(max(r.Stats.New, 0))
	if r.Status == wiredesk.StatusOK || r.Status == wiredesk.StatusNotModified {
		st.lastSuccess = time.Now().Unix()
	}
}

// ObservePush records a WebSub delivery ingested for source: its bytes
// and the items it stored count with the polled ones, so
// items_stored_total stays the whole intake of a source.
func (m *Metrics) ObservePush(source string, stats wiredesk.IngestStats, bytes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.bySrc[source]
	if st == nil {
		return
	}
	m.stories.Add(float64(stats.Stories))
	m.copies.Add(float64(stats.Copies))
	st.pushes++
	st.bytes += uint64(max(bytes, 0))
	st.items += uint64(max(stats.New, 0))
}

// sourceCollector exports the per-source series. A series appears once
// it has something to say, as a vector's would on first use: polls for
// the outcomes seen, fetch times once timed, bytes, items and pushes once
// non-zero, the last success once there was one.
type sourceCollector struct{ m *Metrics }

func (c sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{pollsDesc, fetchSecondsDesc, bytesDesc, itemsDesc, lastSuccessDesc, pushesDesc} {
		ch <- d
	}
}

func (c sourceCollector) Collect(ch chan<- prometheus.Metric) {
	// Copy under the lock and send without it: the registry consumes
	// the channel at its own pace, and polls must not wait for a scrape.
	type snap struct {
		name string
		sourceStats
	}
	c.m.mu.Lock()
	snaps := make([]snap, 0, len(c.m.bySrc))
	for name, st := range c.m.bySrc {
		snaps = append(snaps, snap{name, *st})
	}
	c.m.mu.Unlock()

	for _, s := range snaps {
		src := labelPair("source", s.name)
		srcOnly := []*dto.LabelPair{src}
		for i, n := range s.polls {
			if n > 0 {
				ch <- &sample{desc: pollsDesc, labels: []*dto.LabelPair{outcomeLabels[i], src}, value: float64(n)}
			}
		}
		for _, v := range [...]struct {
			desc *prometheus.Desc
			n    float64
		}{{fetchSecondsDesc, s.fetchSeconds}, {bytesDesc, float64(s.bytes)}, {itemsDesc, float64(s.items)}, {pushesDesc, float64(s.pushes)}} {
			if v.n > 0 {
				ch <- &sample{desc: v.desc, labels: srcOnly, value: v.n}
			}
		}
		if s.lastSuccess != 0 {
			ch <- &sample{desc: lastSuccessDesc, labels: srcOnly, value: float64(s.lastSuccess), gauge: true}
		}
	}
}

// sample is one per-source series as scraped. It writes its label pairs
// as they are, made once per source and scrape and shared by the
// source's series, where prometheus.MustNewConstMetric makes and checks
// them anew for every series: with 10,000 sources, 15 of the 49 MB a
// scrape allocated (BenchmarkScrape). The pairs are sorted by name, which
// spares the registry a sorted copy, and never modified.
type sample struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	value  float64
	gauge  bool // else a counter
}

func (s *sample) Desc() *prometheus.Desc { return s.desc }

func (s *sample) Write(m *dto.Metric) error {
	m.Label = s.labels
	if s.gauge {
		m.Gauge = &dto.Gauge{Value: &s.value}
	} else {
		m.Counter = &dto.Counter{Value: &s.value}
	}
	return nil
}

// outcomeLabels are the outcome label pairs, by index in outcomes.
var outcomeLabels = func() (pairs [len(outcomes)]*dto.LabelPair) {
	for i, o := range outcomes {
		pairs[i] = labelPair("outcome", o)
	}
	return pairs
}()

func labelPair(name, value string) *dto.LabelPair {
	return &dto.LabelPair{Name: &name, Value: &value}
}

// Outcome is the outcome label of a poll result.
func Outcome(r aggregator.Result) string {
	switch r.Status {
	case wiredesk.StatusOK:
		if r.Stats.New > 0 {
			return OutcomeNew
		}
		return OutcomeUnchanged
	case wiredesk.StatusNotModified:
		return OutcomeNotModified
	case wiredesk.StatusGone:
		return OutcomeGone
	}
	return ErrorKind(r.Err)
}

// ErrorKind sorts a poll error into a small fixed set, fit for a label:
// timeout, dns, connect, tls, http_4xx, http_5xx, too_large, parse, other.
func ErrorKind(err error) string {
	var (
		se   *aggregator.StatusError
		dns  *net.DNSError
		op   *net.OpError
		cert *tls.CertificateVerificationError
		rec  tls.RecordHeaderError
		unk  x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
		ne   net.Error
	)
	switch {
	case err == nil:
		return kindOther
	case errors.As(err, &se):
		if se.Code >= 500 {
			return kindHTTP5xx
		}
		return kindHTTP4xx
	case errors.Is(err, wiredesk.ErrBodyTooLarge):
		return kindTooLarge
	case errors.Is(err, wiredesk.ErrNotFeed):
		return kindParse
	case errors.As(err, &dns):
		return kindDNS
	case errors.As(err, &cert), errors.As(err, &rec), errors.As(err, &unk),
		errors.As(err, &host), errors.As(err, &inv):
		return kindTLS
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return kindTimeout
	case errors.As(err, &op) && op.Op == "dial":
		return kindConnect
	}
	return kindOther
}

// Formats a topic feed is served in, by file extension.
var formats = map[string]string{".rss": "rss", ".atom": "atom", ".json": "json"}

// Middleware counts the requests for topic feeds (paths
// /feeds/{topic}.{rss,atom,json}) by topic, format and status code.
// Other paths pass through untouched.
// An unconfigured topic name is counted as "unknown": the label values
// must not grow with what strangers request.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		topic, format, ok := feedPath(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if !m.isTopic(topic) {
			topic = "unknown"
		}
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		m.requests.WithLabelValues(topic, format, strconv.Itoa(rec.code)).Inc()
	})
}

// ObserveRender records one render of a topic feed in format ("rss",
// "atom" or "json"). Timing the requests instead would mostly time
// answers from the feed cache.
func (m *Metrics) ObserveRender(format string, d time.Duration) {
	m.render.WithLabelValues(format).Observe(d.Seconds())
}

// RestoreLastSuccess sets each configured source's last success from the
// stored states where it has none yet, so that after a restart an alert
// on time() - last_success still sees the sources that then fail.
func (m *Metrics) RestoreLastSuccess(states []wiredesk.SourceState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, st := range states {
		if s := m.bySrc[st.Source]; s != nil && s.lastSuccess == 0 && !st.LastSuccess.IsZero() {
			s.lastSuccess = st.LastSuccess.Unix()
		}
	}
}

// feedPath splits /feeds/{topic}.{ext} into topic and format.
func feedPath(p string) (topic, format string, ok bool) {
	const prefix = "/feeds/"
	if len(p) <= len(prefix) || p[:len(prefix)] != prefix {
		return "", "", false
	}
	file := p[len(prefix):]
	for ext, f := range formats {
		if len(file) > len(ext) && file[len(file)-len(ext):] == ext {
			return file[:len(file)-len(ext)], f, true
		}
	}
	return "", "", false
}

// statusRecorder remembers the status code a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.code, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
