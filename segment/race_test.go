//go:build race

package segment

// raceEnabled: the test binary was built with -race.
const raceEnabled = true
