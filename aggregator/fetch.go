package aggregator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wiredesk/wiredesk"
)

// acceptFeeds prefers feed media types (RSS 2.0, RFC 4287 §7, JSON Feed
// 1.1) over generic XML and JSON, then anything, per RFC 9110 §12.5.1.
const acceptFeeds = "application/rss+xml, application/atom+xml, application/feed+json, " +
	"application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"

// StatusError is the error of a fetch answered with a status other than
// 2xx or 304 (RFC 9110 §15), so that callers can tell a missing feed (404,
// 410) from a failing server with errors.As.
type StatusError struct {
	Code   int    // HTTP status code
	Status string // status line text, as "404 Not Found"; may be empty
	URL    string // the feed URL requested
	// RetryAfter is when the server asked to be tried again (Retry-After,
	// RFC 9110 §10.2.3, on a 429, 503 or other 3xx/5xx), in UTC and at
	// most MaxRetryAfter ahead; zero if it sent none or an unusable one.
	RetryAfter time.Time
}

// Error returns "fetch URL: STATUS", with the Retry-After time if any.
func (e *StatusError) Error() string {
	status := e.Status
	if status == "" {
		status = strings.TrimSpace(strconv.Itoa(e.Code) + " " + http.StatusText(e.Code))
	}
	s := "fetch " + e.URL + ": " + status
	if !e.RetryAfter.IsZero() {
		s += " (the server asks to retry after " + e.RetryAfter.UTC().Format(time.RFC3339) + ")"
	}
	return s
}

// Gone reports whether the feed was removed for good: 410 Gone (RFC 9110
// §15.5.11) means the publisher took it down on purpose.
func (e *StatusError) Gone() bool { return e.Code == http.StatusGone }

// MaxRetryAfter caps a Retry-After: a server asking for more than a week
// (or a date years ahead, often a clock or template error) is retried
// after a week, so that a source is never silenced indefinitely by one
// response. The 410 status, not Retry-After, is how a feed says "never".
const MaxRetryAfter = 7 * 24 * time.Hour

// parseRetryAfter reads a Retry-After header value, delta-seconds or an
// HTTP-date (RFC 9110 §10.2.3), as an absolute UTC time after now, capped
// at now+MaxRetryAfter. It returns zero for an absent, malformed or past
// value.
func parseRetryAfter(v string, now time.Time) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	var at time.Time
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return time.Time{}
		}
		at = now.Add(time.Duration(min(secs, int64(MaxRetryAfter/time.Second))) * time.Second)
	} else if t, err := http.ParseTime(v); err == nil {
		at = t
	} else {
		return time.Time{}
	}
	if !at.After(now) {
		return time.Time{}
	}
	if limit := now.Add(MaxRetryAfter); at.After(limit) {
		at = limit
	}
	return at.UTC()
}

// response is the outcome of one conditional GET.
type response struct {
	status       int           // HTTP status code
	etag         string        // ETag response header
	lastModified string        // Last-Modified response header
	finalURL     string        // after redirects
	charset      string        // charset parameter of Content-Type; may be empty
	body         []byte        // nil on a 304
	bytes        int64         // len(body), kept once body is dropped
	elapsed      time.Duration // request sent to body read
	fresh        time.Duration // Cache-Control max-age or Expires; 0 if none
	hub, self    string        // WebSub links from the Link header
}

// newClient builds the shared client. It sets no overall Timeout and no
// response-header timeout: every fetch carries its own deadline (Timeout,
// read when the fetch starts) through its context, covering the body, so
// the client stays valid when fields change after NewPoller.
func (p *Poller) newClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 10 * time.Second
	// The transport's default keeps 2 idle connections a host, so with
	// PerHost above 2 most requests to a busy host closed their
	// connection and dialled a new one. The per-host slots already bound
	// the connections to a host; idle ones still close after
	// IdleConnTimeout (90 s), long before an hourly poll.
	tr.MaxIdleConnsPerHost = tr.MaxIdleConns
	return &http.Client{Transport: tr, CheckRedirect: p.checkRedirect}
}

// checkRedirect follows at most MaxRedirects hops, and only to http(s).
// A loop is named as such: "too many redirects" would send the operator
// looking for a long chain.
func (p *Poller) checkRedirect(req *http.Request, via []*http.Request) error {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to non-http URL %s", req.URL.Redacted())
	}
	for _, prev := range via {
		if prev.URL.String() == req.URL.String() {
			return fmt.Errorf("redirect loop: %s redirects back to %s after %d hops",
				via[len(via)-1].URL.Redacted(), req.URL.Redacted(), len(via))
		}
	}
	if len(via) > p.MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", p.MaxRedirects)
	}
	return nil
}

// fetch performs a conditional GET of feedURL with the validators in
// state (RFC 9110 §13.1.1, §13.1.3). A 304 is a result, not an error.
// It waits for a per-host slot, then a global one, before the clock of
// its Timeout starts, so that queueing never counts against a source.
// The slots are still held when it returns: the caller releases them once
// the body has somewhere to go (see fetchAndParse), so that at most
// Concurrency bodies wait in memory however many sources are due.
func (p *Poller) fetch(ctx context.Context, feedURL string, state wiredesk.SourceState) (response, func(), error) {
	u, err := url.Parse(feedURL)
	if err != nil {
		return response{}, func() {}, fmt.Errorf("fetch %s: %w", feedURL, err)
	}
	release, err := p.acquire(ctx, u.Host)
	if err != nil {
		return response{}, func() {}, fmt.Errorf("fetch %s: %w", feedURL, err)
	}
	r, err := p.fetchTimed(ctx, feedURL, state)
	return r, release, err
}

// fetchTimed is fetch under its total deadline, Timeout.
func (p *Poller) fetchTimed(ctx context.Context, feedURL string, state wiredesk.SourceState) (response, error) {

	timeout := p.Timeout
	fetchCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	r, err := p.get(fetchCtx, feedURL, state)
	r.elapsed = time.Since(start)
	if err != nil && ctx.Err() == nil && fetchCtx.Err() != nil {
		// Our own total deadline, not the caller's: a slow or trickling
		// server. Say so plainly rather than "context deadline exceeded".
		err = fmt.Errorf("fetch %s: timed out: no complete response within the %s timeout: %w",
			feedURL, timeout, context.DeadlineExceeded)
	}
	return r, err
}

// get sends the request and reads the response under ctx's deadline.
func (p *Poller) get(ctx context.Context, feedURL string, state wiredesk.SourceState) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, feedURL, nil)
	if err != nil {
		return response{}, fmt.Errorf("fetch %s: %w", feedURL, err)
	}
	// Accept-Encoding is left to the transport, which then negotiates gzip
	// and decompresses transparently.
	req.Header.Set("User-Agent", wiredesk.UserAgent())
	req.Header.Set("Accept", acceptFeeds)
	if state.ETag != "" {
		req.Header.Set("If-None-Match", state.ETag)
	}
	if state.LastModified != "" {
		req.Header.Set("If-Modified-Since", state.LastModified)
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("fetch %s: %w", feedURL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	return readResponse(resp, feedURL, p.MaxBody, p.Now())
}

// readResponse turns a response into a result, reading at most maxBody
// bytes of (decompressed) body. now dates a relative Retry-After.
func readResponse(resp *http.Response, feedURL string, maxBody int64, now time.Time) (response, error) {
	r := response{
		status:       resp.StatusCode,
		etag:         resp.Header.Get("ETag"),
		lastModified: resp.Header.Get("Last-Modified"),
		finalURL:     resp.Request.URL.String(),
		fresh:        freshFor(resp.Header, now),
	}
	r.hub, r.self = linkHeader(resp.Header)
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil {
		r.charset = params["charset"]
	}
	if resp.StatusCode == http.StatusNotModified {
		drain(resp.Body)
		return r, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		drain(resp.Body)
		return r, &StatusError{Code: resp.StatusCode, Status: resp.Status, URL: feedURL,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return r, fmt.Errorf("fetch %s: read body: %w", feedURL, err)
	}
	if int64(len(body)) > maxBody {
		// The cap counts decompressed bytes (the transport inflates gzip
		// before we read), so a gzip bomb stops here too.
		return r, fmt.Errorf("fetch %s: %w: over the %s cap (max_body, counted after decompression)",
			feedURL, wiredesk.ErrBodyTooLarge, byteSize(maxBody))
	}
	r.body = body
	return r, nil
}

// byteSize formats n bytes for people: "10MB", "512KB", "1000 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// maxDrain bounds what is read of a body nobody wants (an error page)
// before closing it; anything longer costs a new connection instead.
const maxDrain = 64 << 10

// drain reads what is left of a body that is about to be closed: the
// transport reuses a keep-alive connection only once its response was
// read to the end, and error pages of busy hosts would otherwise cost a
// new connection (and TLS handshake) on every poll.
func drain(body io.Reader) {
	_, _ = io.CopyN(io.Discard, body, maxDrain)
}

// unwrapURLError drops the *url.Error layer, whose message repeats the
// method and URL the caller already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// acquire takes a slot for host (PerHost politeness), then one of the
// Concurrency slots, honouring ctx while waiting. The order matters: a
// fetch queued behind its host never holds a global slot that another
// host could use.
func (p *Poller) acquire(ctx context.Context, host string) (release func(), err error) {
	hostSem, global := p.semaphores(host)
	select {
	case hostSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case global <- struct{}{}:
	case <-ctx.Done():
		<-hostSem
		return nil, ctx.Err()
	}
	return func() { <-global; <-hostSem }, nil
}

// semaphores returns the host's semaphore and the global one, creating
// them on first use so that fields set after NewPoller take effect.
func (p *Poller) semaphores(host string) (hostSem, global chan struct{}) {
	p.semMu.Lock()
	defer p.semMu.Unlock()
	if p.global == nil {
		p.global = make(chan struct{}, max(p.Concurrency, 1))
		p.hosts = map[string]chan struct{}{}
	}
	hostSem = p.hosts[host]
	if hostSem == nil {
		hostSem = make(chan struct{}, max(p.PerHost, 1))
		p.hosts[host] = hostSem
	}
	return hostSem, p.global
}
