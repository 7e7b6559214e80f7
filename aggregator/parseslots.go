package aggregator

import (
	"context"
	"sync"
)

// parseSlots hands out the slots of documents being parsed: n of them,
// one less while the single writer has work. In a busy cycle (every item
// new) the writer sets the pace and keeps a core of its own; a parser on
// every core had it share that core, and the cycle ran longer. In a
// quiet one (a few new items among many unchanged feeds) the writer is
// mostly idle, and every core parses.
type parseSlots struct {
	mu      sync.Mutex
	n       int           // slots, at least 1
	used    int           // taken
	writing int           // fetches with items waiting for the writer or in it
	freed   chan struct{} // closed, and replaced, when a slot may have come free
}

func newParseSlots(n int) *parseSlots {
	return &parseSlots{n: max(n, 1), freed: make(chan struct{})}
}

// limit is how many slots may be taken now; s.mu is held.
func (s *parseSlots) limit() int {
	if s.writing > 0 {
		return max(s.n-1, 1)
	}
	return s.n
}

// acquire takes a slot, waiting for one while all are taken or ctx ends.
// A parse already running when the writer gets work is not stopped: the
// cores even out as parses finish.
func (s *parseSlots) acquire(ctx context.Context) (release func(), err error) {
	for {
		s.mu.Lock()
		if s.used < s.limit() {
			s.used++
			s.mu.Unlock()
			return s.release, nil
		}
		freed := s.freed
		s.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *parseSlots) release() {
	s.mu.Lock()
	s.used--
	s.wake()
	s.mu.Unlock()
}

// write records that a fetch's items joined the writer's queue; done
// records that they left it, saved or not.
func (s *parseSlots) write() (done func()) {
	s.mu.Lock()
	s.writing++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.writing--
		if s.writing == 0 {
			s.wake()
		}
		s.mu.Unlock()
	}
}

// wake lets every waiter look again; s.mu is held. Waiters are the polls
// running at once, a few dozen at most.
func (s *parseSlots) wake() {
	close(s.freed)
	s.freed = make(chan struct{})
}
