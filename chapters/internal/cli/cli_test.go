package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"testing"
)

func TestExitCodes(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Int("count", 1, "how many")
	badFlag := Parse(fs, "usage: x [-count N]", []string{"-count", "many"})
	help := Parse(flag.NewFlagSet("x", flag.ContinueOnError), "usage: x", []string{"-h"})
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"success", nil, 0},
		{"Ctrl+C", fmt.Errorf("receive: %w", context.Canceled), 0},
		{"bad flag", badFlag, 2},
		{"explicit usage error", Usagef("usage: x", "unknown role %q", "y"), 2},
		{"help", help, 0},
		{"runtime error", errors.New("cannot connect"), 1},
	} {
		if got := Exit("x", tc.err); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}
