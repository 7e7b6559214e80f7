package aggregator

import (
	"context"
	"errors"
	"fmt"
	"io"
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
}

// Error returns "fetch URL: STATUS".
func (e *StatusError) Error() string {
	status := e.Status
	if status == "" {
		status = strings.TrimSpace(strconv.Itoa(e.Code) + " " + http.StatusText(e.Code))
	}
	return "fetch " + e.URL + ": " + status
}

// response is the outcome of one conditional GET.
type response struct {
	status       int    // HTTP status code
	etag         string // ETag response header
	lastModified string // Last-Modified response header
	finalURL     string // after redirects
	body         []byte // nil on a 304
}

// newClient builds the shared client. It sets no overall Timeout and no
// response-header timeout: every fetch carries its own deadline (Timeout,
// read when the fetch starts) through its context, covering the body, so
// the client stays valid when fields change after NewPoller.
func (p *Poller) newClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 10 * time.Second
	return &http.Client{Transport: tr, CheckRedirect: p.checkRedirect}
}

// checkRedirect follows at most MaxRedirects hops, and only to http(s).
func (p *Poller) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > p.MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", p.MaxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to non-http URL %s", req.URL.Redacted())
	}
	return nil
}

// fetch performs a conditional GET of feedURL with the validators in
// state (RFC 9110 §13.1.1, §13.1.3). A 304 is a result, not an error.
// It waits for a per-host slot, then a global one, before the clock of
// its Timeout starts, so that queueing never counts against a source.
func (p *Poller) fetch(ctx context.Context, feedURL string, state wiredesk.SourceState) (response, error) {
	u, err := url.Parse(feedURL)
	if err != nil {
		return response{}, fmt.Errorf("fetch %s: %w", feedURL, err)
	}
	release, err := p.acquire(ctx, u.Host)
	if err != nil {
		return response{}, fmt.Errorf("fetch %s: %w", feedURL, err)
	}
	defer release()

	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
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
	return readResponse(resp, feedURL, p.MaxBody)
}

// readResponse turns a response into a result, reading at most maxBody
// bytes of (decompressed) body.
func readResponse(resp *http.Response, feedURL string, maxBody int64) (response, error) {
	r := response{
		status:       resp.StatusCode,
		etag:         resp.Header.Get("ETag"),
		lastModified: resp.Header.Get("Last-Modified"),
		finalURL:     resp.Request.URL.String(),
	}
	if resp.StatusCode == http.StatusNotModified {
		drain(resp.Body)
		return r, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		drain(resp.Body)
		return r, &StatusError{Code: resp.StatusCode, Status: resp.Status, URL: feedURL}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return r, fmt.Errorf("fetch %s: read body: %w", feedURL, err)
	}
	if int64(len(body)) > maxBody {
		return r, fmt.Errorf("fetch %s: %w (over %d bytes)", feedURL, wiredesk.ErrBodyTooLarge, maxBody)
	}
	r.body = body
	return r, nil
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
