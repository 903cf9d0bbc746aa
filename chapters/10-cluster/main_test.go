package main

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// The cluster tests mostly wait: for elections, for a restarted node. So run
// them all at once rather than go test's default of one per core, unless
// -parallel says otherwise.
func TestMain(m *testing.M) {
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		if err := flag.Set("test.parallel", "4"); err != nil {
			fmt.Fprintln(os.Stderr, "set -test.parallel:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}
