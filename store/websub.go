package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/wiredesk/wiredesk"
)

// SaveSubscription inserts or replaces a WebSub subscription by ID.
func (db *DB) SaveSubscription(ctx context.Context, s wiredesk.Subscription) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO websub_subscriptions
		(id, source, hub, topic, secret, state, lease_expires, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET source = excluded.source, hub = excluded.hub,
		topic = excluded.topic, secret = excluded.secret, state = excluded.state,
		lease_expires = excluded.lease_expires, updated = excluded.updated`,
		s.ID, s.Source, s.Hub, s.Topic, s.Secret, s.State, fmtTime(s.LeaseExpires), fmtTime(s.Updated))
	if err != nil {
		return fmt.Errorf("save subscription %s: %w", s.ID, err)
	}
	return nil
}

const subColumns = `id, source, hub, topic, secret, state, lease_expires, updated`

func scanSub(row interface{ Scan(...any) error }) (wiredesk.Subscription, error) {
	var s wiredesk.Subscription
	err := row.Scan(&s.ID, &s.Source, &s.Hub, &s.Topic, &s.Secret, &s.State,
		timeCol{&s.LeaseExpires}, timeCol{&s.Updated})
	return s, err
}

// Subscription returns the subscription with the given callback ID; the
// error wraps wiredesk.ErrNotFound when there is none.
func (db *DB) Subscription(ctx context.Context, id string) (wiredesk.Subscription, error) {
	s, err := scanSub(db.r.QueryRowContext(ctx,
		`SELECT `+subColumns+` FROM websub_subscriptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("subscription %s: %w", id, wiredesk.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("subscription %s: %w", id, err)
	}
	return s, nil
}

// Subscriptions returns every subscription, by source.
func (db *DB) Subscriptions(ctx context.Context) ([]wiredesk.Subscription, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+subColumns+` FROM websub_subscriptions ORDER BY source, id`)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	var out []wiredesk.Subscription
	for rows.Next() {
		s, err := scanSub(rows)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return out, nil
}
