// Chapter 11 is the key-value and object stores: state and files kept in
// streams. The seed promises "data storage" (데이터 저장 기능) and event
// sourcing, and never shows either store.
//
//	go run ./chapters/11-kv                          the whole scenario, embedded
//	go run ./chapters/11-kv put KEY VALUE            write a key of example_kv
//	go run ./chapters/11-kv get KEY                  print its value
//	go run ./chapters/11-kv watch                    current values, then changes, until Ctrl+C
//	go run ./chapters/11-kv object put FILE          store a file in example_objects
//	go run ./chapters/11-kv object get NAME FILE     write an object to a file
//	go run ./chapters/11-kv count                    lost updates: read-then-put against compare-and-swap
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
)

const usage = `usage: 11-kv [-server URL]                                (the whole scenario)
       11-kv put [-server URL] KEY VALUE
       11-kv get [-server URL] KEY
       11-kv watch [-server URL] [-count N]
       11-kv object put [-server URL] FILE
       11-kv object get [-server URL] NAME FILE
       11-kv count [-server URL] [-writers N] [-increments N]`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("11-kv", run(ctx, os.Args[1:], os.Stdout)))
}

// command is one role with its arguments, parsed.
type command struct {
	role      string   // demo, put, get, watch, object put, object get, count
	args      []string // the positional arguments
	serverURL string
	count     int // watch: stop after this many entries (0: until Ctrl+C)
	writers   int // count
	increment int // count: increments per writer
}

// positional is how many arguments each role takes.
var positional = map[string]int{
	"demo": 0, "put": 2, "get": 1, "watch": 0, "object put": 1, "object get": 2, "count": 0,
}

func parse(args []string) (command, error) {
	c := command{role: "demo"}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c.role, args = args[0], args[1:]
		if c.role == "object" {
			if len(args) == 0 || strings.HasPrefix(args[0], "-") {
				return c, cli.Usagef(usage, "object needs put or get")
			}
			c.role, args = "object "+args[0], args[1:]
		}
	}
	want, ok := positional[c.role]
	if !ok {
		return c, cli.Usagef(usage, "unknown role %q", c.role)
	}
	fs := flag.NewFlagSet("11-kv "+c.role, flag.ContinueOnError)
	fs.StringVar(&c.serverURL, "server", os.Getenv("NATS_URL"), "NATS server URL; empty starts an embedded server (default $NATS_URL)")
	switch c.role {
	case "watch":
		fs.IntVar(&c.count, "count", 0, "stop after N entries (0: run until Ctrl+C)")
	case "count":
		fs.IntVar(&c.writers, "writers", 4, "concurrent writers")
		fs.IntVar(&c.increment, "increments", 50, "increments per writer")
	}
	if err := cli.Parse(fs, usage, args); err != nil {
		return c, err
	}
	c.args = fs.Args()
	switch {
	case len(c.args) != want:
		return c, cli.Usagef(usage, "%s takes %d arguments, got %d", c.role, want, len(c.args))
	case c.count < 0:
		return c, cli.Usagef(usage, "-count must not be negative")
	case c.role == "count" && (c.writers < 1 || c.increment < 1):
		return c, cli.Usagef(usage, "-writers and -increments must be at least 1")
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	c, err := parse(args)
	if err != nil {
		return err
	}
	url, stopServer, err := embedded.URLOrStart(c.serverURL)
	if err != nil {
		return err
	}
	defer stopServer()
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(url, "11-kv "+c.role, closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}

	switch c.role {
	case "put":
		return putRole(ctx, js, stdout, c.args[0], c.args[1])
	case "get":
		return getRole(ctx, js, stdout, c.args[0])
	case "watch":
		return watchRole(ctx, nc, js, stdout, c.count)
	case "object put":
		return objectPutRole(ctx, js, stdout, c.args[0])
	case "object get":
		return objectGetRole(ctx, js, stdout, c.args[0], c.args[1])
	case "count":
		return countRole(ctx, js, stdout, c.writers, c.increment)
	default:
		return demo(ctx, js, stdout)
	}
}
