package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// docs:start demo
// demo runs the seed's scenario in one process: three subscribers, each with
// its own consumer, then one publisher, then a subscriber that starts late.
func demo(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, out io.Writer) error {
	const subscribers, messages, subject = 3, 5, "my.subject.test"
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	logs := make([]strings.Builder, subscribers) // one log each, printed in order below
	errs := make([]error, subscribers)
	var wg sync.WaitGroup
	for i := range subscribers {
		cons, err := subscribe(ctx, stream, subject, jetstream.DeliverAllPolicy)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = receive(ctx, cons, &logs[i], fmt.Sprintf("[subscriber %d] ", i+1), messages)
		}()
	}
	fmt.Fprintf(out, "%d subscribers are listening on '%s', each with its own consumer.\n", subscribers, subject)

	if err := publish(ctx, js, out, subject, messages, 0); err != nil {
		cancel() // the subscribers would wait forever for the missing messages
		wg.Wait()
		return err
	}
	wg.Wait()
	for i := range logs {
		fmt.Fprint(out, logs[i].String())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	fmt.Fprintln(out, "A subscriber started after the publisher finished still gets everything:")
	late, err := subscribe(ctx, stream, subject, jetstream.DeliverAllPolicy)
	if err != nil {
		return err
	}
	return receive(ctx, late, out, "[late subscriber] ", messages)
}

// docs:end demo
