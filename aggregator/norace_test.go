//go:build !race

package aggregator_test

// raceEnabled scales the heaviest hostile cases down under -race, whose
// instrumentation makes inflating and storing them several times slower.
const raceEnabled = false
