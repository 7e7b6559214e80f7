// Package dedupe detects wire copies: the same piece of agency copy (Xinhua,
// PTI, AP, ...) carried by several outlets. It owns text cleaning and the
// exact-identity keys an item is folded into a story by — a canonical URL
// and a hash of the normalised text — and near-duplicate detection: Doc
// (cleaned text and its word shingles), Signature (a compact fingerprint),
// Index (sub-linear candidate lookup over a time window) and Decide (the
// same-story verdict on two texts, with a reason a user can read).
//
// It is pure: no I/O, no SQL, no clock. Callers (the aggregator's single
// writer) decide what to do with the keys; the store persists them.
package dedupe
