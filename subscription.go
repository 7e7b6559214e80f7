package wiredesk

import "time"

// Subscription states.
const (
	SubPending = "pending" // asked of the hub, not yet verified
	SubActive  = "active"  // verified; the hub delivers until LeaseExpires
	SubDenied  = "denied"  // the hub refused it
	// SubUnsubscribing: its source left the config or moved to another
	// hub or topic, and the hub was asked to stop; not yet verified.
	SubUnsubscribing = "unsubscribing"
	SubEnded         = "ended" // the hub confirmed the unsubscription, or the lease ran out meanwhile
)

// Subscription is a WebSub subscription to the hub a source advertises.
type Subscription struct {
	ID           string // last segment of the callback URL; unguessable
	Source       string // Source.Name
	Hub          string
	Topic        string // the feed URL the hub knows it by (its rel="self")
	Secret       string // HMAC key of deliveries
	State        string // one of the Sub* constants
	LeaseExpires time.Time
	Updated      time.Time
}

// Delivering reports whether the hub delivers to the subscription at now:
// it is verified and its lease still runs. Its source is then pushed.
func (s Subscription) Delivering(now time.Time) bool {
	return s.State == SubActive && s.LeaseExpires.After(now)
}
