//go:build !race

package chapters_test

const raceEnabled = false
