package main

import (
	"context"
	"fmt"
	"log"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// pipelineStreams creates the two streams of the pipeline: readings in
// Celsius come in on celsius.*, converted ones go out on fahrenheit.*.
func pipelineStreams(ctx context.Context, js jetstream.JetStream) (in, out jetstream.Stream, err error) {
	if in, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "celsius", Subjects: []string{"celsius.*"}}); err != nil {
		return nil, nil, err
	}
	if out, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "fahrenheit", Subjects: []string{"fahrenheit.*"}}); err != nil {
		return nil, nil, err
	}
	return in, out, nil
}

// toFahrenheit is the whole "stream processing": application code that
// reads n readings from a consumer, converts each, and publishes the result
// to the other stream. It acks a reading only once the result is stored, and
// gives each result a message ID, so that a reading processed twice (after a
// crash before its ack) is stored once.
func toFahrenheit(ctx context.Context, js jetstream.JetStream, readings jetstream.Consumer, n int) ([]string, error) {
	var lines []string
	batch, err := readings.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return nil, err
	}
	for msg := range batch.Messages() {
		meta, err := msg.Metadata()
		if err != nil {
			return nil, err
		}
		celsius, err := strconv.ParseFloat(string(msg.Data()), 64)
		if err != nil {
			return nil, fmt.Errorf("reading seq %d: %w", meta.Sequence.Stream, err)
		}
		sensor := strings.TrimPrefix(msg.Subject(), "celsius.")
		result := strconv.FormatFloat(celsius*9/5+32, 'f', 1, 64)
		id := fmt.Sprintf("celsius-%d", meta.Sequence.Stream) // the same input gives the same ID
		if _, err := js.Publish(ctx, "fahrenheit."+sensor, []byte(result), jetstream.WithMsgID(id)); err != nil {
			return nil, err
		}
		if err := msg.DoubleAck(ctx); err != nil {
			return nil, err
		}
		lines = append(lines, fmt.Sprintf("%s %s -> fahrenheit.%s %s", msg.Subject(), msg.Data(), sensor, result))
	}
	return lines, batch.Error()
}

// JetStream stores and delivers. A pipeline between two streams is a
// program: a consumer on one, a publish to the other.
func Example_pipeline() {
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
	in, out, err := pipelineStreams(ctx, js)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range [][2]string{{"kitchen", "21.5"}, {"garden", "12"}, {"kitchen", "22"}} {
		if _, err := js.Publish(ctx, "celsius."+r[0], []byte(r[1])); err != nil {
			log.Fatal(err)
		}
	}
	readings, err := in.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "to-fahrenheit"})
	if err != nil {
		log.Fatal(err)
	}
	done, err := toFahrenheit(ctx, js, readings, 3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Join(done, "\n"))
	info, err := out.Info(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("stream fahrenheit holds %d messages\n", info.State.Msgs)
	// Output:
	// celsius.kitchen 21.5 -> fahrenheit.kitchen 70.7
	// celsius.garden 12 -> fahrenheit.garden 53.6
	// celsius.kitchen 22 -> fahrenheit.kitchen 71.6
	// stream fahrenheit holds 3 messages
}

// C05: "stream processing" is application code. Readings published to one
// stream reach the other only while the program runs; then the second
// stream holds the converted values. Processing the same readings again
// (as after a crash before the acks) stores nothing twice.
func TestC05_ProcessingIsApplicationCode(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	in, out, err := pipelineStreams(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"0", "100", "-40"} {
		if _, err := js.Publish(ctx, "celsius.lab", []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	count := func() uint64 {
		info, err := out.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	if n := count(); n != 0 {
		t.Fatalf("before the program runs, fahrenheit holds %d messages, want 0", n)
	}
	for run := 1; run <= 2; run++ { // the second run: every reading again
		readings, err := in.CreateConsumer(ctx, jetstream.ConsumerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := toFahrenheit(ctx, js, readings, 3); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 3 {
			t.Fatalf("after run %d, fahrenheit holds %d messages, want 3", run, n)
		}
	}
	var got []string
	for seq := uint64(1); seq <= 3; seq++ {
		msg, err := out.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msg.Subject+" "+string(msg.Data))
	}
	if want := []string{"fahrenheit.lab 32.0", "fahrenheit.lab 212.0", "fahrenheit.lab -40.0"}; !slices.Equal(got, want) {
		t.Fatalf("fahrenheit holds %q, want %q", got, want)
	}
}

// C05: what the server itself can do between streams is copy and rename:
// a stream that sources another, with a subject transform, gets the same
// payloads on new subjects. Computing on the payloads is left to programs.
func TestC05_TheServerOnlyCopiesAndRenames(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	if _, _, err := pipelineStreams(ctx, js); err != nil {
		t.Fatal(err)
	}
	copied, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "copied",
		Sources: []*jetstream.StreamSource{{
			Name:              "celsius",
			SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "celsius.*", Destination: "copied.{{wildcard(1)}}"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "celsius.kitchen", []byte("21.5")); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, func() error { // sourcing is asynchronous
		msg, err := copied.GetMsg(ctx, 1)
		if err != nil {
			return err
		}
		if msg.Subject != "copied.kitchen" || string(msg.Data) != "21.5" {
			return fmt.Errorf("copied holds %s %q, want copied.kitchen \"21.5\"", msg.Subject, msg.Data)
		}
		return nil
	})
}
