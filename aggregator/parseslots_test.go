package aggregator

import (
	"context"
	"testing"
	"time"
)

// TestParseSlots checks that every slot parses while the writer is idle
// and that one is held back for it while it has work.
func TestParseSlots(t *testing.T) {
	// taken tries to take a slot within a short wait.
	taken := func(s *parseSlots) (func(), bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		release, err := s.acquire(ctx)
		return release, err == nil
	}
	tests := []struct {
		name    string
		n       int
		writing bool
		want    int // slots that can be taken at once
	}{
		{"idle writer: every slot", 2, false, 2},
		{"busy writer: one held back", 2, true, 1},
		{"busy writer on 4 cores", 4, true, 3},
		{"one slot stays one", 1, true, 1},
		{"zero means one", 0, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newParseSlots(tt.n)
			if tt.writing {
				defer s.write()()
			}
			got := 0
			for {
				release, ok := taken(s)
				if !ok {
					break
				}
				defer release()
				got++
			}
			if got != tt.want {
				t.Errorf("took %d slots, want %d", got, tt.want)
			}
		})
	}
}

// TestParseSlotsWriterDone checks that a parse waiting for the slot held
// back for the writer gets it when the writer's queue empties.
func TestParseSlotsWriterDone(t *testing.T) {
	s := newParseSlots(2)
	done := s.write()
	if _, err := s.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := s.acquire(context.Background())
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("second parse started while the writer was busy (err %v)", err)
	case <-time.After(20 * time.Millisecond):
	}
	done()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("second parse still waiting after the writer went idle")
	}
}
