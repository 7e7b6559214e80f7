package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wiredesk/wiredesk"
)

// cacheControl lets caches and readers reuse a feed for a minute; after
// that they revalidate cheaply with the ETag or Last-Modified.
const cacheControl = "public, max-age=60"

func (s *Server) serveFeed(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	dot := strings.LastIndexByte(file, '.')
	if dot <= 0 {
		http.NotFound(w, r)
		return
	}
	f, ok := ParseFormat(file[dot:])
	if !ok {
		http.NotFound(w, r)
		return
	}
	e, err := s.cached(r.Context(), file[:dot], f)
	if errors.Is(err, wiredesk.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if s.Hub != "" {
		// WebSub §4: a publisher SHOULD advertise the hub and the topic
		// URL in Link headers too, which a subscriber reads before (or
		// without) parsing the body.
		w.Header().Set("Link", "<"+s.Hub+`>; rel="hub", <`+s.layout(false).feedURL(file[:dot], f)+`>; rel="self"`)
	}
	serveRendered(w, r, f.ContentType(), e)
}

// serveRendered answers from a cached feed: the gzip representation when
// the client accepts it, each with its own ETag; a conditional request
// whose validator matches gets 304 without a byte of body.
func serveRendered(w http.ResponseWriter, r *http.Request, contentType string, e *rendered) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", cacheControl)
	h.Add("Vary", "Accept-Encoding")
	body, tag := e.body, e.etag
	if e.gz != nil && acceptsGzip(r.Header.Values("Accept-Encoding")) {
		body, tag = e.gz, e.gzETag
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", `"`+tag+`"`)
	http.ServeContent(w, r, "", e.updated, bytes.NewReader(body))
}

func (s *Server) serveOPML(w http.ResponseWriter, r *http.Request) {
	body, err := s.renderOPML(s.layout(false))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	serveBytes(w, r, "text/x-opml; charset=utf-8", body, time.Time{})
}

func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	body, err := s.renderIndex(r.Context(), wiredesk.Version)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	// Live status: never served from a cache without asking.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(body)
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.Health != nil {
		// A health probe that hangs is as bad as one that fails.
		timeout := s.HealthTimeout
		if timeout <= 0 {
			timeout = 2 * time.Second
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if err := s.Health(ctx); err != nil {
			// The error names files and internals; it goes to the log,
			// not to whoever can reach the port.
			s.logger().ErrorContext(r.Context(), "health check", "error", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("unhealthy\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ok\n"))
}

// serverError logs err and answers 500 without revealing it.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.logger().ErrorContext(r.Context(), "serve", "path", r.URL.Path, "error", err)
	http.Error(w, "internal server error", http.StatusInternalServerError)
}

// serveBytes answers with body under a strong ETag derived from its bytes
// (RFC 9110 §8.8.3) and, when modTime is set, Last-Modified. It gzips the
// body when the client accepts it; the gzip representation has its own
// ETag, since strong validators must differ between representations.
// http.ServeContent evaluates the preconditions in RFC 9110 §13.2.2 order
// (If-None-Match before If-Modified-Since), answers HEAD and 304.
func serveBytes(w http.ResponseWriter, r *http.Request, contentType string, body []byte, modTime time.Time) {
	tag := etagOf(body)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", cacheControl)
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Values("Accept-Encoding")) {
		if zipped, err := gzipBytes(body); err == nil {
			body = zipped
			tag += "-gzip"
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", `"`+tag+`"`)
	http.ServeContent(w, r, "", modTime, bytes.NewReader(body))
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// acceptsGzip reads Accept-Encoding (RFC 9110 §12.5.3): gzip is acceptable
// if listed (or x-gzip, or matched by "*") with a non-zero quality.
func acceptsGzip(values []string) bool {
	star := false
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			q := quality(params)
			switch coding {
			case "gzip", "x-gzip":
				return q > 0
			case "*":
				star = q > 0
			}
		}
	}
	return star
}

// quality parses the q parameter of an Accept-Encoding member; missing or
// malformed means 1.
func quality(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 1
		}
		return q
	}
	return 1
}
