// Package dedupe detects wire copies: the same piece of agency copy (Xinhua,
// PTI, AP, ...) carried by several outlets. It owns text cleaning and the
// exact-identity keys an item is folded into a story by — a canonical URL
// and a hash of the normalised text — and is the home of near-duplicate
// fingerprints and the same-story decision.
//
// It is pure: no I/O, no SQL, no clock. Callers (the aggregator's single
// writer) decide what to do with the keys; the store persists them.
package dedupe
