package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestMain(m *testing.M) {
	// The Examples show the embedded default, whatever the reader's shell says.
	os.Unsetenv("NATS_URL")
	os.Exit(m.Run())
}

// With no role and no NATS_URL, the whole scenario runs on an embedded server.
func Example() {
	if err := run(context.Background(), nil, os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Created stream "example_stream" as chapter 03 does (it did not exist yet).
	// Published: Message 1 on my.subject.kitchen (stream example_stream, seq 1)
	// Published: Message 2 on my.subject.garden (stream example_stream, seq 2)
	// Published: Message 3 on my.subject.kitchen (stream example_stream, seq 3)
	// Published: Message 4 on my.subject.garden (stream example_stream, seq 4)
	// Published: Message 5 on my.subject.kitchen (stream example_stream, seq 5)
	// Six consumers on the same five stored messages, each created with its own -from:
	//   -from all                  seq 1 2 3 4 5
	//   -from seq:3                seq 3 4 5
	//   -from time:(seq 3's time)  seq 3 4 5
	//   -from last                 seq 5
	//   -from last-per-subject     seq 4 5
	//   -from new                  nothing
	// Published: Message 6 on my.subject.garden (stream example_stream, seq 6)
	// Next message for each of the six: seq 6 6 6 6 6 6. -from sets only where a consumer starts.
	// Two durable consumers on the same stream:
	//   reader-a reads and acks seq 1 2 3 4
	//   reader-b reads and acks seq 1 2
	//   reader-a has acked up to seq 4, with 2 still to read
	//   reader-b has acked up to seq 2, with 4 still to read
	// An ordered consumer reads the stream in order, without acks:
	//   seq 1 2 3 4 5 6 through consumer ordered_1
	// Consumer ordered_1 deleted on the server.
	// Published: Message 7 on my.subject.kitchen (stream example_stream, seq 7)
	//   seq 7 through consumer ordered_2: the client made it to go on after seq 6
	// Created stream "accounts" for the accounts' events (subjects accounts.*).
	// Deposited 100 to alice: balance 100 (seq 1)
	// Deposited 20 to bob: balance 20 (seq 2)
	// Withdrew 30 from alice: balance 70 (seq 3)
	// Balances, from the last event of each account (DeliverLastPerSubject):
	//   bob: 20 (seq 2)
	//   alice: 70 (seq 3)
	// Two tellers read alice at seq 3 (balance 70) and both withdraw 50:
	//   teller 1: Withdrew 50 from alice: balance 20 (seq 4)
	//   teller 2: rejected, the account changed after it was read: alice was read at seq 3 (wrong last sequence: 4, error 10071)
	//   teller 2 reads alice again at seq 4: alice has 20, cannot withdraw 50
	// alice's 3 events replayed from the first (DeliverAll): +100 -30 -50 = 20, the balance of her last event
}

// onExampleStream runs show on a fresh embedded server with chapter 03's
// example_stream: the setup the Examples below share.
func onExampleStream(show func(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream) error) {
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
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := js.CreateStream(ctx, examplestream.Config())
	if err != nil {
		log.Fatal(err)
	}
	if err := show(ctx, js, stream); err != nil {
		log.Fatal(err)
	}
}

// Two durable consumers on the five messages, each read to its own point.
func Example_twoReaders() {
	onExampleStream(func(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream) error {
		if err := publish(ctx, js, io.Discard, 5); err != nil {
			return err
		}
		return demoTwoReaders(ctx, stream, os.Stdout)
	})
	// Output:
	// Two durable consumers on the same stream:
	//   reader-a reads and acks seq 1 2 3 4
	//   reader-b reads and acks seq 1 2
	//   reader-a has acked up to seq 4, with 1 still to read
	//   reader-b has acked up to seq 2, with 3 still to read
}

// A redelivery changes the order in which messages are processed. Fetch
// three, give the first back (Nak), ack the other two, publish a fourth:
// the next fetch starts with the first message again, on its second delivery.
func Example_redeliveryOrder() {
	onExampleStream(func(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream) error {
		for i := 1; i <= 3; i++ {
			if _, err := js.Publish(ctx, kitchen, fmt.Appendf(nil, "Message %d", i)); err != nil {
				return err
			}
		}
		cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			return err
		}
		process := func(n int) ([]jetstream.Msg, error) {
			batch, err := cons.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				return nil, err
			}
			var msgs []jetstream.Msg
			for msg := range batch.Messages() {
				meta, err := msg.Metadata()
				if err != nil {
					return nil, err
				}
				fmt.Printf("processing %s (seq %d, delivery %d)\n", msg.Data(), meta.Sequence.Stream, meta.NumDelivered)
				msgs = append(msgs, msg)
			}
			return msgs, batch.Error()
		}

		first, err := process(3)
		if err != nil {
			return err
		}
		if err := first[0].Nak(); err != nil {
			return err
		}
		// The server handles one consumer's acks and naks in the order they
		// arrive: once it confirms these two acks, it has also taken the Nak.
		for _, msg := range first[1:] {
			if err := msg.DoubleAck(ctx); err != nil {
				return err
			}
		}
		fmt.Println("Nak seq 1, ack seq 2 and 3, publish Message 4")
		if _, err := js.Publish(ctx, kitchen, []byte("Message 4")); err != nil {
			return err
		}
		again, err := process(2)
		for _, msg := range again {
			if err := msg.DoubleAck(ctx); err != nil {
				return err
			}
		}
		return err
	})
	// Output:
	// processing Message 1 (seq 1, delivery 1)
	// processing Message 2 (seq 2, delivery 1)
	// processing Message 3 (seq 3, delivery 1)
	// Nak seq 1, ack seq 2 and 3, publish Message 4
	// processing Message 1 (seq 1, delivery 2)
	// processing Message 4 (seq 4, delivery 1)
}

// The ordered consumer reads six messages, loses its consumer on the
// server, and goes on with a new one after the last message it handed over.
func Example_orderedConsumer() {
	onExampleStream(func(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream) error {
		if err := publish(ctx, js, io.Discard, 6); err != nil {
			return err
		}
		return demoOrdered(ctx, js, stream, os.Stdout)
	})
	// Output:
	// An ordered consumer reads the stream in order, without acks:
	//   seq 1 2 3 4 5 6 through consumer ordered_1
	// Consumer ordered_1 deleted on the server.
	// Published: Message 7 on my.subject.kitchen (stream example_stream, seq 7)
	//   seq 7 through consumer ordered_2: the client made it to go on after seq 6
}

// Two accounts kept as event logs, and two tellers who read the same state.
func Example_accounts() {
	onExampleStream(func(ctx context.Context, js jetstream.JetStream, _ jetstream.Stream) error {
		return demoAccounts(ctx, js, os.Stdout)
	})
	// Output:
	// Created stream "accounts" for the accounts' events (subjects accounts.*).
	// Deposited 100 to alice: balance 100 (seq 1)
	// Deposited 20 to bob: balance 20 (seq 2)
	// Withdrew 30 from alice: balance 70 (seq 3)
	// Balances, from the last event of each account (DeliverLastPerSubject):
	//   bob: 20 (seq 2)
	//   alice: 70 (seq 3)
	// Two tellers read alice at seq 3 (balance 70) and both withdraw 50:
	//   teller 1: Withdrew 50 from alice: balance 20 (seq 4)
	//   teller 2: rejected, the account changed after it was read: alice was read at seq 3 (wrong last sequence: 4, error 10071)
	//   teller 2 reads alice again at seq 4: alice has 20, cannot withdraw 50
	// alice's 3 events replayed from the first (DeliverAll): +100 -30 -50 = 20, the balance of her last event
}
