package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestMain(m *testing.M) {
	// The Examples show the embedded default, whatever the reader's shell says.
	os.Unsetenv("NATS_URL")
	os.Exit(m.Run())
}

// startExample starts an embedded server and connects to it.
func startExample() (*nats.Conn, jetstream.JetStream, func()) {
	s, err := embedded.Start(embedded.Options{})
	if err != nil {
		log.Fatal(err)
	}
	nc, err := nats.Connect(s.URL())
	if err != nil {
		log.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	return nc, js, func() { nc.Close(); s.Stop() }
}

// With no role and no NATS_URL, the three policies run side by side on an
// embedded server.
func Example() {
	if err := run(context.Background(), nil, os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// The same steps on three streams that differ only in their retention policy:
	//                                         limits    interest  workqueue
	// 1. Publish Message 1 and 2; no consumer yet.
	//    PubAck sequences                     1 2       1 2       1 2
	//    stored                               2         0         2
	// 2. Add a durable consumer "reader".     created   created   created
	// 3. Publish Message 3 and 4.
	//    PubAck sequences                     3 4       3 4       3 4
	//    stored                               4         2         4
	// 4. Add a second one, "auditor".         created   created   refused
	// 5. "reader" fetches, acks nothing yet.
	//    received                             4         2         4
	//    stored                               4         2         4
	// 6. "reader" acks what it received.
	//    acked                                4         2         4
	//    stored                               4         2         0
	// 7. "auditor" fetches and acks.
	//    acked                                4         2         -
	//    stored                               4         0         0
	// The workqueue stream refused "auditor":
	//   multiple non-filtered consumers not allowed on workqueue stream (10099)
}

// Two limits streams that keep at most three messages get five each.
// DiscardOld keeps the newest three; DiscardNew keeps the first three and
// refuses the rest.
func Example_discard() {
	_, js, stop := startExample()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, discard := range []jetstream.DiscardPolicy{jetstream.DiscardOld, jetstream.DiscardNew} {
		name := discard.String()
		stream, err := limitedStream(ctx, js, name, discard)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s, MaxMsgs 3:\n", name)
		for i := 1; i <= 5; i++ {
			if err := publishOrRefused(ctx, js, os.Stdout, name, fmt.Sprintf("Message %d", i)); err != nil {
				log.Fatal(err)
			}
		}
		info, err := stream.Info(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("  The stream keeps seq %d to %d.\n", info.State.FirstSeq, info.State.LastSeq)
	}
	// Output:
	// DiscardOld, MaxMsgs 3:
	//   Message 1 stored at seq 1
	//   Message 2 stored at seq 2
	//   Message 3 stored at seq 3
	//   Message 4 stored at seq 4
	//   Message 5 stored at seq 5
	//   The stream keeps seq 3 to 5.
	// DiscardNew, MaxMsgs 3:
	//   Message 1 stored at seq 1
	//   Message 2 stored at seq 2
	//   Message 3 stored at seq 3
	//   Message 4 refused: maximum messages exceeded (10077)
	//   Message 5 refused: maximum messages exceeded (10077)
	//   The stream keeps seq 1 to 3.
}

// Interest retention counts consumers, not subscribers. A core subscriber
// receives a message live, but the stream stores nothing for it. A durable
// consumer holds messages even while no program reads from it.
func Example_interest() {
	nc, js, stop := startExample()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := policyStream(ctx, js, "interest", jetstream.InterestPolicy)
	if err != nil {
		log.Fatal(err)
	}
	live, err := nc.SubscribeSync("retention.interest")
	if err != nil {
		log.Fatal(err)
	}
	if err := nc.Flush(); err != nil { // the subscription is on the server before the publish
		log.Fatal(err)
	}
	ack, err := js.Publish(ctx, "retention.interest", []byte("Message 1"))
	if err != nil {
		log.Fatal(err)
	}
	msg, err := live.NextMsg(5 * time.Second)
	if err != nil {
		log.Fatal(err)
	}
	n, err := stored(ctx, stream)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("With only a core subscriber: PubAck seq %d, the subscriber got %q, stored %d.\n", ack.Sequence, msg.Data, n)

	if _, err := durable(ctx, stream, "offline"); err != nil {
		log.Fatal(err)
	}
	ack, err = js.Publish(ctx, "retention.interest", []byte("Message 2"))
	if err != nil {
		log.Fatal(err)
	}
	if n, err = stored(ctx, stream); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("With a durable consumer nobody reads: PubAck seq %d, stored %d.\n", ack.Sequence, n)
	// Output:
	// With only a core subscriber: PubAck seq 1, the subscriber got "Message 1", stored 0.
	// With a durable consumer nobody reads: PubAck seq 2, stored 1.
}

// A work queue hands each message to one consumer, so it refuses consumers
// that would share subjects, skip old messages, or not ack.
func Example_workQueueRules() {
	_, js, stop := startExample()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:      "jobs",
		Subjects:  []string{"jobs.*"},
		Retention: jetstream.WorkQueuePolicy,
	})
	if err != nil {
		log.Fatal(err)
	}
	try := func(what string, cfg jetstream.ConsumerConfig) {
		if _, err := stream.CreateConsumer(ctx, cfg); err != nil {
			fmt.Printf("%-40s refused: %s\n", what, refusal(err))
			return
		}
		fmt.Printf("%-40s created\n", what)
	}
	try("email on jobs.email", jetstream.ConsumerConfig{Durable: "email", FilterSubject: "jobs.email"})
	try("sms on jobs.sms", jetstream.ConsumerConfig{Durable: "sms", FilterSubject: "jobs.sms"})
	try("email-2 on jobs.email", jetstream.ConsumerConfig{Durable: "email-2", FilterSubject: "jobs.email"})
	try("everything on jobs.*", jetstream.ConsumerConfig{Durable: "everything", FilterSubject: "jobs.*"})
	try("report on jobs.report, DeliverNew", jetstream.ConsumerConfig{Durable: "report", FilterSubject: "jobs.report", DeliverPolicy: jetstream.DeliverNewPolicy})
	try("report on jobs.report, AckNone", jetstream.ConsumerConfig{Durable: "report", FilterSubject: "jobs.report", AckPolicy: jetstream.AckNonePolicy})
	try("report on jobs.report", jetstream.ConsumerConfig{Durable: "report", FilterSubject: "jobs.report"})

	fmt.Println("After deleting email, sms and report:")
	for _, name := range []string{"email", "sms", "report"} {
		if err := stream.DeleteConsumer(ctx, name); err != nil {
			log.Fatal(err)
		}
	}
	try("all, no filter", jetstream.ConsumerConfig{Durable: "all"})
	try("all-2, no filter", jetstream.ConsumerConfig{Durable: "all-2"})
	// Output:
	// email on jobs.email                      created
	// sms on jobs.sms                          created
	// email-2 on jobs.email                    refused: filtered consumer not unique on workqueue stream (10100)
	// everything on jobs.*                     refused: filtered consumer not unique on workqueue stream (10100)
	// report on jobs.report, DeliverNew        refused: consumer must be deliver all on workqueue stream (10101)
	// report on jobs.report, AckNone           refused: consumer in pull mode requires explicit ack policy on workqueue stream (10084)
	// report on jobs.report                    created
	// After deleting email, sms and report:
	// all, no filter                           created
	// all-2, no filter                         refused: multiple non-filtered consumers not allowed on workqueue stream (10099)
}
