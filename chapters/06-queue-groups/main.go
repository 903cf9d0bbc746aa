// Chapter 06 is load balancing, the seed's "Queue Groups (로드 밸런싱)":
// task_publisher.py and worker.py in Go. The workers share one durable
// consumer, so each task goes to one worker, and a task a worker never
// acknowledged goes to another.
//
//	go run ./chapters/06-queue-groups                          two workers, five tasks, embedded
//	go run ./chapters/06-queue-groups worker -name worker-1    one worker, until Ctrl+C
//	go run ./chapters/06-queue-groups publish [-count 5]       five tasks, one a second
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
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
)

const (
	// queueGroup is the seed's queue name. Here it names the one consumer
	// that every worker shares.
	queueGroup = "workers"
	// tasksSubject keeps tasks apart from chapter 04's messages on
	// my.subject.test; example_stream captures it through my.subject.*.
	tasksSubject = "my.subject.tasks"
)

const usage = `usage: 06-queue-groups [-server URL]                                    (the whole scenario)
       06-queue-groups publish [-server URL] [-count N] [-interval D] [-subject S]
       06-queue-groups worker [-server URL] [-name NAME] [-count N] [-work D] [-ack-wait D]`

func main() {
	ctx, stop := signals()
	defer stop()
	os.Exit(cli.Exit("06-queue-groups", run(ctx, os.Args[1:], os.Stdout)))
}

// signals returns a context that Ctrl+C (SIGINT) or SIGTERM ends, so that a
// worker stops through its normal path: give back the task in hand, drain.
func signals() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	role := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("06-queue-groups "+role, flag.ContinueOnError)
	serverURL := fs.String("server", os.Getenv("NATS_URL"), "NATS server URL; empty starts an embedded server (default $NATS_URL)")
	var (
		count    *int
		subject  *string
		interval *time.Duration
		name     *string
		work     *time.Duration
		ackWait  *time.Duration
	)
	switch role {
	case "demo":
	case "publish":
		count = fs.Int("count", 5, "tasks to publish")
		interval = fs.Duration("interval", time.Second, "pause between publishes (the seed's asyncio.sleep(1))")
		subject = fs.String("subject", tasksSubject, "subject to publish the tasks to")
	case "worker":
		name = fs.String("name", fmt.Sprintf("worker-%d", os.Getpid()), "name printed before each task this worker takes")
		count = fs.Int("count", 0, "stop after N tasks (0: run until Ctrl+C)")
		work = fs.Duration("work", 0, "simulated work per task")
		ackWait = fs.Duration("ack-wait", 30*time.Second, "how long a task stays with a worker that neither acks it nor reports progress; one setting shared by all workers (the last one started sets it)")
	default:
		return cli.Usagef(usage, "unknown role %q", role)
	}
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}
	switch {
	case count != nil && *count < 0:
		return cli.Usagef(usage, "-count must not be negative")
	case interval != nil && *interval < 0:
		return cli.Usagef(usage, "-interval must not be negative")
	case name != nil && strings.TrimSpace(*name) == "":
		return cli.Usagef(usage, "-name must not be empty")
	case work != nil && *work < 0:
		return cli.Usagef(usage, "-work must not be negative")
	case ackWait != nil && *ackWait < time.Millisecond:
		return cli.Usagef(usage, "-ack-wait must be at least 1ms")
	}

	url, stopServer, err := embedded.URLOrStart(*serverURL)
	if err != nil {
		return err
	}
	defer stopServer()
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(url, "06-queue-groups "+role, closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}
	stream, err := examplestream.Ensure(ctx, js, stdout)
	if err != nil {
		return err
	}

	switch role {
	case "publish":
		return publish(ctx, js, stdout, *subject, *count, *interval)
	case "worker":
		return workerRole(ctx, stream, stdout, worker{name: *name, limit: *count, work: *work}, *ackWait)
	default:
		return demo(ctx, js, stream, stdout)
	}
}
