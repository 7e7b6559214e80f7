package store

import (
	"errors"
	"testing"
	"time"

	"github.com/wiredesk/wiredesk"
)

func TestSubscriptions(t *testing.T) {
	db, _ := openTest(t)
	ctx := t.Context()
	if _, err := db.Subscription(ctx, "nope"); !errors.Is(err, wiredesk.ErrNotFound) {
		t.Fatalf("missing: got %v", err)
	}
	s := wiredesk.Subscription{ID: "abc", Source: "pti", Hub: "https://hub.example/", Topic: "https://pti.example/feed",
		Secret: "s3cret", State: wiredesk.SubPending, Updated: t0}
	if err := db.SaveSubscription(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.State, s.LeaseExpires = wiredesk.SubActive, t0.Add(24*time.Hour)
	if err := db.SaveSubscription(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.Subscription(ctx, "abc")
	if err != nil || got != s {
		t.Errorf("got %+v, %v; want %+v", got, err, s)
	}
	all, err := db.Subscriptions(ctx)
	if err != nil || len(all) != 1 || all[0] != s {
		t.Errorf("list: %+v, %v", all, err)
	}
}
