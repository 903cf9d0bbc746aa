package main

// kill -9 and the persist mode: a child process with an embedded server
// publishes, one message at a time, prints each PubAck, and kills itself
// with SIGKILL right after the last one. The test starts a server on the
// same store and compares. DURABILITY_SLOW=1 repeats each case 20 times.

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// killRun is what one child acknowledged before its SIGKILL, and what the
// store held when a server started on it again.
type killRun struct {
	acked, stored uint64
}

func (r killRun) lost() uint64 { return r.acked - min(r.stored, r.acked) }

// killAfterPublishing runs a child that publishes count messages to a
// file_stream in persist mode, then SIGKILLs itself; it returns how many
// were acknowledged and how many the store holds afterwards.
func killAfterPublishing(t *testing.T, persist jetstream.PersistModeType, count int) killRun {
	t.Helper()
	c := child{Store: t.TempDir(), Persist: persist, Count: count, Kill: true}
	out, err := startChild(t, c).Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v, want killed by SIGKILL", err)
	}
	acked := ackedSeqs(t, out)
	if len(acked) != count || acked[count-1] != uint64(count) {
		t.Fatalf("child printed %d PubAcks, want %d, the last for seq %d", len(acked), count, count)
	}
	s := jstest.ServerWith(t, embedded.Options{StoreDir: c.Store})
	defer s.Stop()
	_, js := jstest.Connect(t, s)
	stream, err := js.Stream(jstest.Context(t), fileStream)
	if err != nil {
		t.Fatalf("%s after the kill: %v", fileStream, err)
	}
	state := stream.CachedInfo().State
	if state.Msgs != state.LastSeq {
		t.Fatalf("%s after the kill: %d messages up to seq %d, want no gaps", fileStream, state.Msgs, state.LastSeq)
	}
	return killRun{acked: uint64(count), stored: state.Msgs}
}

// runs is how many times a kill test repeats: once, or 20 times with
// DURABILITY_SLOW=1.
func runs() int {
	if os.Getenv("DURABILITY_SLOW") == "1" {
		return 20
	}
	return 1
}

// C14: in the default persist mode, the file store writes each message to
// its file before the PubAck. A killed process loses nothing acknowledged:
// what it wrote is in the operating system's page cache, which the kill does
// not touch.
func TestC14_Kill9LosesNothingAcknowledgedInTheDefaultPersistMode(t *testing.T) {
	for range runs() {
		r := killAfterPublishing(t, jetstream.DefaultPersistMode, 1000)
		if r.lost() > 0 {
			t.Errorf("%d messages acknowledged, %d stored after kill -9: %d lost", r.acked, r.stored, r.lost())
		}
	}
}

// C14: AsyncPersistMode sends the PubAck before the message is written to
// its file; the file store writes a few milliseconds later. A killed
// process loses what it acknowledged in between. One run is usually
// enough to see it; the test allows ten.
func TestC14_Kill9LosesAcknowledgedMessagesInAsyncPersistMode(t *testing.T) {
	var lossy, tries int
	for tries < max(10, runs()) && (lossy == 0 || tries < runs()) {
		tries++
		r := killAfterPublishing(t, jetstream.AsyncPersistMode, 1000)
		t.Logf("run %d: %d acknowledged, %d stored after kill -9", tries, r.acked, r.stored)
		if r.lost() > 0 {
			lossy++
		}
	}
	if lossy == 0 {
		t.Fatalf("no acknowledged message lost in %d runs: AsyncPersistMode kept them all", tries)
	}
	t.Logf("acknowledged messages lost in %d of %d runs", lossy, tries)
}

// AsyncPersistMode is for file streams with one replica: nats-server
// refuses it on a memory stream and on a replicated one (10052), even on a
// single server, which would refuse the replicas anyway.
func TestAsyncPersistModeIsForFileStreamsWithOneReplica(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	memory := memoryConfig
	memory.PersistMode = jetstream.AsyncPersistMode
	replicated := fileConfig
	replicated.PersistMode, replicated.Replicas = jetstream.AsyncPersistMode, 3
	for _, refused := range []struct {
		cfg  jetstream.StreamConfig
		want string
	}{
		{memory, "async persist mode is only supported on file storage"},
		{replicated, "async persist mode is not supported on replicated streams"},
	} {
		_, err := js.CreateStream(jstest.Context(t), refused.cfg)
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != 10052 || apiErr.Description != refused.want {
			t.Errorf("%s (%s storage, %d replicas) in AsyncPersistMode: %v, want error 10052, %q",
				refused.cfg.Name, storageName(refused.cfg.Storage), refused.cfg.Replicas, err, refused.want)
		}
	}
}
