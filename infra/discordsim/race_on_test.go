//go:build race

package discordsim

// raceEnabled reports a -race build: disgo v0.19.6's gateway has data races
// of its own (heartbeat and listen goroutines share unguarded fields), so
// tests that run a disgo gateway skip themselves; raw-client tests cover
// the server under the race detector.
const raceEnabled = true
