// Chapter 08 is retention (보존 정책): what makes a stream let go of a
// message. The seed lists three policies, limits (한계 기반 보존), interest
// (관심 기반 보존) and work queue (작업 대기열 보존), and shows none at work.
// This chapter runs them side by side.
//
//	go run ./chapters/08-retention                                 the three policies side by side, always on its own embedded server
//	go run ./chapters/08-retention show                            what example_stream holds now
//	go run ./chapters/08-retention swap -retention workqueue       DELETES example_stream and recreates it with that retention
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/nats-io/nats.go/jetstream"
)

const usage = `usage: 08-retention                                                    (the three policies side by side, on its own embedded server)
       08-retention show [-server URL]
       08-retention swap -retention limits|interest|workqueue [-server URL]    (deletes example_stream)`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("08-retention", run(ctx, os.Args[1:], os.Stdout)))
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	role := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("08-retention "+role, flag.ContinueOnError)
	var (
		serverURL     string
		retentionName *string
	)
	switch role {
	case "demo":
	case "show", "swap":
		fs.StringVar(&serverURL, "server", os.Getenv("NATS_URL"), "NATS server URL; empty starts an embedded server (default $NATS_URL)")
		if role == "swap" {
			retentionName = fs.String("retention", "", "the retention example_stream gets: limits, interest or workqueue")
		}
	default:
		return cli.Usagef(usage, "unknown role %q", role)
	}
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}
	var retention jetstream.RetentionPolicy
	if role == "swap" {
		if retention, err = parseRetention(*retentionName); err != nil {
			return cli.Usagef(usage, "%v", err)
		}
		if serverURL == "" {
			// An embedded server would take the changed stream with it on exit.
			return cli.Usagef(usage, "swap changes example_stream on a running server: set NATS_URL or pass -server")
		}
	}
	if role == "demo" && os.Getenv("NATS_URL") != "" {
		// The demo creates streams named limits, interest and workqueue. On the
		// reader's server they would stay, and a second run would find them full.
		fmt.Fprintln(os.Stderr, "08-retention: the demo creates its own streams, so it starts its own embedded server; NATS_URL is for the show and swap roles")
	}

	url, stopServer, err := embedded.URLOrStart(serverURL)
	if err != nil {
		return err
	}
	defer stopServer()
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(url, "08-retention "+role, closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}

	switch role {
	case "show":
		return show(ctx, js, stdout)
	case "swap":
		return swap(ctx, js, stdout, retention)
	default:
		return demo(ctx, js, stdout)
	}
}

func parseRetention(name string) (jetstream.RetentionPolicy, error) {
	for _, p := range policies {
		if p.name == name {
			return p.retention, nil
		}
	}
	if name == "" {
		return 0, errors.New("-retention is required: limits, interest or workqueue")
	}
	return 0, fmt.Errorf("-retention %q: want limits, interest or workqueue", name)
}

func retentionName(r jetstream.RetentionPolicy) string {
	for _, p := range policies {
		if p.retention == r {
			return p.name
		}
	}
	return r.String()
}
