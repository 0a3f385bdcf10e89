//go:build race

package roster

// raceEnabled: timings under the race detector mean nothing (and take 50 times longer).
const raceEnabled = true
