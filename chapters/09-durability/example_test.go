package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if config := os.Getenv(childEnv); config != "" { // a child process (process_test.go)
		var c child
		err := json.Unmarshal([]byte(config), &c)
		if err == nil {
			err = runChild(c)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "child: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// The Examples show the embedded default, whatever the reader's shell says.
	os.Unsetenv("NATS_URL")
	os.Exit(m.Run())
}

// With no role, the whole chapter runs on an embedded server that the demo
// restarts halfway, on the same store directory.
func Example() {
	if err := run(context.Background(), nil, os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// == File and memory storage across a restart (파일 저장 / 메모리 저장) ==
	// file_stream (file storage): published Message 1 to 3; consumer "reader" received and acked 2 of them.
	// memory_stream (memory storage): published Message 1 to 3; consumer "reader" received and acked 2 of them.
	// Restarting the server on the same store directory.
	// file_stream after the restart: 3 messages; consumer "reader" has acked up to seq 2, 1 message still to deliver.
	// memory_stream after the restart: stream not found (error 10059). Its messages, its consumer and its definition are gone.
	//
	// == Publishing with a message ID (dedupe) ==
	// Published Message 3 again with message ID "message-3": duplicate of seq 3, not stored again (file_stream still holds 3 messages).
	// The stream remembers message IDs for its duplicates window, 2m0s here, and the restart did not make it forget.
	//
	// == Expected last sequence ==
	// Published Message 4 expecting the last sequence to be 3: stored as seq 4.
	// Published Message 5 expecting the last sequence to be 3 again: refused with error 10071, "wrong last sequence: 4".
	//
	// == Acknowledgements ==
	// seq 5 "task 1", delivery 1: Ack: sent without waiting, so a lost ack goes unnoticed.
	// seq 6 "task 2", delivery 1: DoubleAck: the server confirmed it.
	// seq 7 "task 3", delivery 1: InProgress (still working: AckWait starts again), then DoubleAck.
	// seq 8 "task 4", delivery 1: Nak: deliver it again.
	// seq 8 "task 4", delivery 2: TermWithReason: never deliver it again.
	// seq 9 "task 5", delivery 1: Nak (it fails every time).
	// seq 9 "task 5", delivery 2: Nak (it fails every time).
	// seq 9 "task 5", delivery 3: Nak (it fails every time).
	// MAX_DELIVERIES advisory: seq 9 was delivered 3 times; the server will not deliver it again.
	// Consumer "tasks": 0 messages waiting for an answer, 0 to deliver.
	// Seq 9 is still in file_stream ("task 5"): the advisory says where to find it.
}
