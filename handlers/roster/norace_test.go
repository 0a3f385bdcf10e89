//go:build !race

package roster

const raceEnabled = false
