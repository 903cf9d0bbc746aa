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

// C05: the server's own processing is narrow. It can copy a stream's
// messages into another and rename their subjects on the way (sourcing
// with a subject transform), republish each stored message on another
// subject, and, on a counter stream, add up increments. It does not convert,
// window or join payloads: that is what programs like toFahrenheit are for.
func TestC05_TheServersOwnProcessingIsNarrow(t *testing.T) {
	// About a second of waiting, spent alongside the other tests.
	t.Parallel()
	nc, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)

	t.Run("sourcing copies and renames", func(t *testing.T) {
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
	})

	t.Run("republish", func(t *testing.T) {
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "readings", Subjects: []string{"readings.*"},
			RePublish: &jetstream.RePublish{Source: "readings.*", Destination: "live.{{wildcard(1)}}"}}); err != nil {
			t.Fatal(err)
		}
		live, err := nc.SubscribeSync("live.*")
		if err != nil {
			t.Fatal(err)
		}
		defer live.Unsubscribe()
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "readings.kitchen", []byte("21.5")); err != nil {
			t.Fatal(err)
		}
		msg, err := live.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Subject != "live.kitchen" || string(msg.Data) != "21.5" {
			t.Fatalf("republished %s %q, want live.kitchen \"21.5\"", msg.Subject, msg.Data)
		}
	})

	t.Run("a counter stream adds up increments", func(t *testing.T) {
		visits, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "visits", Subjects: []string{"visits.*"}, AllowMsgCounter: true})
		if err != nil {
			t.Fatal(err)
		}
		// An increment is a message with the header Nats-Incr and no body; the
		// PubAck carries the new total.
		var totals []string
		for _, incr := range []string{"5", "3", "-2"} {
			msg := nats.NewMsg("visits.home")
			msg.Header.Set("Nats-Incr", incr)
			ack, err := js.PublishMsg(ctx, msg)
			if err != nil {
				t.Fatal(err)
			}
			totals = append(totals, ack.Value)
		}
		if want := []string{"5", "8", "6"}; !slices.Equal(totals, want) {
			t.Fatalf("running totals %q, want %q", totals, want)
		}
		last, err := visits.GetLastMsgForSubject(ctx, "visits.home")
		if err != nil {
			t.Fatal(err)
		}
		if string(last.Data) != `{"val":"6"}` {
			t.Fatalf("the last message holds %s, want the total {\"val\":\"6\"}", last.Data)
		}
		// Only sums: a body is refused (10170), and so is a message without an increment (10169).
		withBody := nats.NewMsg("visits.home")
		withBody.Header.Set("Nats-Incr", "1")
		withBody.Data = []byte("1")
		if _, err := js.PublishMsg(ctx, withBody); !hasCode(err, 10170) {
			t.Fatalf("an increment with a body: %v, want error 10170", err)
		}
		if _, err := js.Publish(ctx, "visits.home", []byte("7")); !hasCode(err, 10169) {
			t.Fatalf("a plain message on a counter stream: %v, want error 10169", err)
		}
	})

	t.Run("a schedule samples a subject's last message", func(t *testing.T) {
		sensors, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "sensors", Subjects: []string{"sensor.*", "schedule.*", "sampled.*"}, AllowMsgSchedules: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, reading := range []string{"21", "22", "23"} {
			if _, err := js.Publish(ctx, "sensor.temp", []byte(reading)); err != nil {
				t.Fatal(err)
			}
		}
		// Every second, the server stores sensor.temp's last message again,
		// on sampled.temp.
		schedule := nats.NewMsg("schedule.temp")
		schedule.Header.Set("Nats-Schedule", "@every 1s")
		schedule.Header.Set("Nats-Schedule-Target", "sampled.temp")
		schedule.Header.Set("Nats-Schedule-Source", "sensor.temp")
		if _, err := js.PublishMsg(ctx, schedule); err != nil {
			t.Fatal(err)
		}
		sampled := func(want string) {
			t.Helper()
			jstest.Eventually(t, func() error {
				msg, err := sensors.GetLastMsgForSubject(ctx, "sampled.temp")
				if err != nil {
					return err
				}
				if string(msg.Data) != want || msg.Header.Get("Nats-Scheduler") != "schedule.temp" {
					return fmt.Errorf("sampled.temp holds %q from %q, want %q from schedule.temp", msg.Data, msg.Header.Get("Nats-Scheduler"), want)
				}
				return nil
			})
		}
		sampled("23")
		if _, err := js.Publish(ctx, "sensor.temp", []byte("24")); err != nil {
			t.Fatal(err)
		}
		sampled("24")
	})
}
