package main

import (
	"fmt"
	"log"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A window of three: three publishes await their PubAck, and the fourth
// waits for a place, then is refused once its stall wait is over. Here a
// subscriber that never answers stands in for a stream that has not
// answered yet; a stream that answers frees a place with each PubAck.
func Example_fullWindow() {
	s, err := embedded.Start(embedded.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Stop()
	nc, err := nats.Connect(s.URL())
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Subscribe("perf.silent", func(*nats.Msg) {}); err != nil {
		log.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		log.Fatal(err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(3))
	if err != nil {
		log.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		_, err := js.PublishAsync("perf.silent", []byte("x"), jetstream.WithStallWait(50*time.Millisecond))
		outcome := "sent"
		if err != nil {
			outcome = err.Error()
		}
		fmt.Printf("publish %d: %s; awaiting their PubAck: %d\n", i, outcome, js.PublishAsyncPending())
	}
	// Output:
	// publish 1: sent; awaiting their PubAck: 1
	// publish 2: sent; awaiting their PubAck: 2
	// publish 3: sent; awaiting their PubAck: 3
	// publish 4: nats: stalled with too many outstanding async published messages; awaiting their PubAck: 3
}
