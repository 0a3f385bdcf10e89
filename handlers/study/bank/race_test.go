//go:build race

package bank

// raceEnabled: timings under the race detector mean nothing.
const raceEnabled = true
