// Package cli is the command-line contract every chapter keeps: a usage
// error exits 2 with a usage line, any other error exits 1 with one line
// that says what failed and what to do, and success exits 0.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// UsageError is a mistake in the command line itself.
type UsageError struct {
	Usage string // the usage line, such as "usage: 03-stream [-recreate]"
	Msg   string // what was wrong; empty when the reader asked for -h
}

func (e *UsageError) Error() string {
	if e.Msg == "" {
		return e.Usage
	}
	return e.Msg + "\n" + e.Usage
}

// Usagef reports a usage error with the given usage line.
func Usagef(usage, format string, args ...any) error {
	return &UsageError{Usage: usage, Msg: fmt.Sprintf(format, args...)}
}

// Parse parses args with fs, turning flag errors into a UsageError. The flag
// set must use flag.ContinueOnError; its own messages are silenced so that
// the reader sees exactly one message and one usage line.
func Parse(fs *flag.FlagSet, usage string, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &UsageError{Usage: usage + "\n" + Defaults(fs)}
		}
		return &UsageError{Usage: usage, Msg: err.Error()}
	}
	return nil
}

// Defaults renders the flag set's flags, as flag.PrintDefaults would.
func Defaults(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return strings.TrimRight(b.String(), "\n")
}

// Exit prints err for the reader and returns the process exit code:
// 0 for nil, 2 for a usage error, 1 otherwise. A program stopped with
// Ctrl+C (a canceled context) exits 0: stopping is what the reader asked.
func Exit(program string, err error) int {
	var usage *UsageError
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return 0
	case errors.As(err, &usage):
		if usage.Msg == "" { // -h: help was asked for, so it goes to stdout
			fmt.Println(usage.Usage)
			return 0
		}
		fmt.Fprintf(os.Stderr, "%s: %s\n%s\n", program, usage.Msg, usage.Usage)
		return 2
	default:
		fmt.Fprintf(os.Stderr, "%s: %v\n", program, err)
		return 1
	}
}
