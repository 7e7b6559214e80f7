// Package feedtest serves feed documents from an httptest server for tests:
// conditional GET with ETag and Last-Modified, and a record of every request
// so tests can assert what a poller sent.
package feedtest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Doc is one document the server answers with.
type Doc struct {
	Body         string
	ContentType  string // default application/rss+xml
	ETag         string // quoted, e.g. `"v1"`; empty sends none
	LastModified string // http.TimeFormat; empty sends none
	Status       int    // default 200
	// Hang, when set, holds every request open until the client gives
	// up, after telling Arrived (if not nil) that it came.
	Hang    bool
	Arrived chan<- string
}

// Request is what the server saw of one request.
type Request struct {
	Path            string
	IfNoneMatch     string
	IfModifiedSince string
	UserAgent       string
	Status          int // what the server answered
}

// Server is an httptest server of feed documents.
type Server struct {
	*httptest.Server

	mu   sync.Mutex
	docs map[string]Doc
	reqs []Request
}

// New starts a server that is closed when the test ends.
func New(tb testing.TB) *Server {
	s := &Server{docs: map[string]Doc{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Set serves doc at path from now on.
func (s *Server) Set(path string, doc Doc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[path] = doc
}

// Requests returns the requests seen for path, oldest first.
func (s *Server) Requests(path string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.reqs {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	doc, ok := s.docs[r.URL.Path]
	s.mu.Unlock()
	status := s.respond(w, r, doc, ok)
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{
		Path:            r.URL.Path,
		IfNoneMatch:     r.Header.Get("If-None-Match"),
		IfModifiedSince: r.Header.Get("If-Modified-Since"),
		UserAgent:       r.Header.Get("User-Agent"),
		Status:          status,
	})
	s.mu.Unlock()
}

func (s *Server) respond(w http.ResponseWriter, r *http.Request, doc Doc, ok bool) int {
	if !ok {
		http.NotFound(w, r)
		return http.StatusNotFound
	}
	if doc.Hang {
		if doc.Arrived != nil {
			select {
			case doc.Arrived <- r.URL.Path:
			default:
			}
		}
		<-r.Context().Done()
		return 0
	}
	if doc.ETag != "" {
		w.Header().Set("ETag", doc.ETag)
	}
	if doc.LastModified != "" {
		w.Header().Set("Last-Modified", doc.LastModified)
	}
	// RFC 9110 §13.1.2: If-None-Match takes precedence over If-Modified-Since.
	if inm := r.Header.Get("If-None-Match"); inm != "" && doc.ETag != "" {
		if inm == doc.ETag {
			w.WriteHeader(http.StatusNotModified)
			return http.StatusNotModified
		}
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" && ims == doc.LastModified {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	ct := doc.ContentType
	if ct == "" {
		ct = "application/rss+xml; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	status := doc.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write([]byte(doc.Body))
	return status
}
