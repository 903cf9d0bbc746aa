package main

import (
	"context"
	"log"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// The Examples show the embedded default, whatever the reader's shell says.
	os.Unsetenv("NATS_URL")
	os.Exit(m.Run())
}

// With no role and no NATS_URL, both patterns run in one process on an
// embedded server.
func Example() {
	if err := run(context.Background(), nil, os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Created stream "example_stream" as chapter 03 does (it did not exist yet).
	// 1. Core request-reply: no stream; the request's own reply subject carries the answer.
	// replier-1 is listening on 'service.uppercase' in the queue group "repliers".
	// replier-1 received request: Hello, Consumers!
	// replier-1 sending response: Response from replier-1 : HELLO, CONSUMERS!
	// Received response: Response from replier-1 : HELLO, CONSUMERS!
	// 2. The seed's pattern: the request is stored in the stream, the answer goes to a reply-to header.
	// replier-1 is listening on 'my.subject.requests' through the durable consumer "repliers".
	// Published request with its inbox in the reply-to header: Hello, Consumers! (stream example_stream, seq 1)
	// replier-1 received request: Hello, Consumers! (seq 1)
	// replier-1 sending response: Response from replier-1 : HELLO, CONSUMERS!
	// Received response: Response from replier-1 : HELLO, CONSUMERS!
	// Collected all responses: 1 of 1
	// The consumer "repliers" has acked up to seq 1: no replier is given this request again.
	// 3. The pitfall: nc.Request on my.subject.requests, which example_stream captures, is answered by the stream.
	// Received response: {"stream":"example_stream","seq":2}
	// 4. Two repliers answer three requests:
	//    sharing the consumer "repliers": 3 responses, one per request (load balancing)
	//    a consumer each (-fanout):       6 responses, one per replier per request (fan-out)
}
