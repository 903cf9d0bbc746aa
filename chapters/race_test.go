//go:build race

package chapters_test

const raceEnabled = true
