package main

import (
	"context"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"
)

// defaultMemoryLimit is the Go runtime's soft memory limit, above the
// live heap (see memoryLimitFor), unless GOMEMLIMIT says otherwise.
const defaultMemoryLimit = 192 << 20

// memoryLimitFor is the soft memory limit for a live heap of live bytes.
// The limit is there for transient peaks: several large feeds parsed at
// once. The live heap grows with the configuration, mostly the
// near-duplicate index (85 MB for 10,000 sources in a 72-hour window),
// and a fixed limit that it outgrew would keep the collector running back
// to back, at up to half the CPU, so the limit keeps half of the default
// above it.
func memoryLimitFor(live int64) int64 {
	return max(defaultMemoryLimit, live+defaultMemoryLimit/2)
}

// followLiveHeap sets the soft memory limit from the live heap every
// period until ctx is done. The runtime measures the live heap at each
// collection, so reading it costs nothing.
func followLiveHeap(ctx context.Context, period time.Duration) {
	sample := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		rtmetrics.Read(sample)
		if sample[0].Value.Kind() == rtmetrics.KindUint64 {
			debug.SetMemoryLimit(memoryLimitFor(int64(sample[0].Value.Uint64())))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
