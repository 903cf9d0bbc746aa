// Core request-reply: a replier answers each request on its subject, and the
// requester waits for the first answer. No stream is involved. It uses the
// server NATS_URL names (default localhost:4222).
package main

import (
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	log.SetFlags(0) // an error is one plain line
	url := os.Getenv("NATS_URL")
	if url == "" {
		url = nats.DefaultURL
	}
	nc, err := nats.Connect(url)
	if err != nil {
		log.Fatalf("connect to %s: %v (start a server with: nats-server -js)", url, err)
	}
	defer nc.Close()

	// The replier: Respond publishes the answer to the request's reply subject.
	// Repliers in the queue group "greeters" share the requests.
	sub, err := nc.QueueSubscribe("greet.*", "greeters", func(req *nats.Msg) {
		name := strings.TrimPrefix(req.Subject, "greet.")
		if err := req.Respond([]byte("hello, " + name)); err != nil {
			log.Printf("respond to %s: %v", req.Subject, err)
		}
	})
	if err != nil {
		log.Fatalf("subscribe to greet.*: %v", err)
	}

	// The requester: Request returns the first answer, or an error after the timeout.
	for _, name := range []string{"alice", "bob"} {
		reply, err := nc.Request("greet."+name, nil, 2*time.Second)
		if err != nil {
			log.Fatalf("request greet.%s: %v (is a replier subscribed?)", name, err)
		}
		fmt.Printf("greet.%s answered: %s\n", name, reply.Data)
	}

	// With no replier left, the server says so at once: no waiting out the timeout.
	if err := sub.Unsubscribe(); err != nil {
		log.Fatalf("unsubscribe: %v", err)
	}
	_, err = nc.Request("greet.carol", nil, 2*time.Second)
	if !errors.Is(err, nats.ErrNoResponders) {
		log.Fatalf("request greet.carol with no replier: %v, want nats.ErrNoResponders", err)
	}
	fmt.Printf("greet.carol: %v\n", err)
}
