//go:build !race

package discordsim

const raceEnabled = false
