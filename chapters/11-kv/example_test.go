package main

import (
	"context"
	"io"
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

// example runs section on a fresh embedded server, as the scenario does.
func example(sections ...func(context.Context, jetstream.JetStream, io.Writer) error) {
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, section := range sections {
		if err := section(ctx, js, os.Stdout); err != nil {
			log.Fatal(err)
		}
	}
}

func Example_basics() {
	example(basics)
	// Output:
	// put alice=blue: revision 1
	// put bob=green: revision 2
	// put alice=red: revision 3
	// create carol: revision 4
	// create carol again: refused, the key exists (error 10071)
	// history of alice: PUT@3 red, PUT@5 yellow, PUT@6 purple
	// delete bob: get says key not found; keys [alice carol]
	// history of bob: PUT@2 green, DEL@7
	// purge alice: history of alice: PURGE@8
	// create bob after delete: revision 9
}

func Example_twoWriters() {
	example(twoWriters)
	// Output:
	// A and B both read visits=10 at revision 1
	// A: update to 11 from revision 1: revision 2
	// B: update to 11 from revision 1: refused, key revision mismatch (error 10071)
	// B: read again and retried: visits=12 at revision 3, no update lost
}

func Example_watchSettings() {
	example(watchSettings)
	// Output:
	// watch: log.level PUT@1 info
	// watch: log.level.http PUT@2 debug
	// watch: feature.search DEL@4
	// nil: up to date, now two changes
	// watch: log.level PUT@5 warn
	// watch: feature.search PUT@6 off
}

func Example_leases() {
	example(leases)
	// Output:
	// worker-1 takes the lock job.42 for 1s: revision 1
	// worker-2 tries: refused, the key exists
	// watch: job.42 PURGE@2, written by the server
	// worker-2 tries again: revision 3
}

func Example_projection() {
	example(projection)
	// Output:
	// event 1 on accounts.alice: change 100, balance 100
	// event 2 on accounts.bob: change 20, balance 20
	// event 3 on accounts.alice: change -30, balance 70
	// event 4 on accounts.carol: change 5, balance 5
	// event 5 on accounts.bob: change 7, balance 27
	// event 6 on accounts.alice: change -50, balance 20
	// fold: 6 events applied; alice {"balance":20,"seq":6} bob {"balance":27,"seq":5} carol {"balance":5,"seq":4}
	// fold again: 0 events applied; alice {"balance":20,"seq":6} bob {"balance":27,"seq":5} carol {"balance":5,"seq":4}
	// delete the bucket, fold: 6 events applied; alice {"balance":20,"seq":6} bob {"balance":27,"seq":5} carol {"balance":5,"seq":4}
}

// The object store: put, get, link, delete.
func Example_objects() {
	example(objects)
	// Output:
	// put report.bin: 5242880 bytes in 40 chunks, digest SHA-256=or7zFcjkKl6dHTL-97CaejCCxIA5gA-Nmie0QRt7vyg=
	// that digest is the SHA-256 of the data, in base64: true
	// stream OBJ_files holds 41 messages:
	//     1 on $O.files.M.cmVwb3J0LmJpbg== (the metadata of report.bin)
	//    40 on $O.files.C.<nuid> (the chunks of report.bin)
	// get report.bin: 5242880 bytes, equal to what was put: true
	// get latest, a link to report.bin: 5242880 bytes
	// list: report.bin (5242880 bytes), latest (link to report.bin)
	// delete report.bin: get latest now fails: object not found
	// stream OBJ_files holds 2 messages:
	//     1 on $O.files.M.bGF0ZXN0 (the metadata of latest)
	//     1 on $O.files.M.cmVwb3J0LmJpbg== (the metadata of report.bin)
}

// newFiles creates the object store files, empty.
func newFiles(ctx context.Context, js jetstream.JetStream, _ io.Writer) error {
	_, err := freshObjectStore(ctx, js, "files")
	return err
}

func Example_tamper() {
	example(newFiles, tamper)
	// Output:
	// get notes.txt with a forged digest: nats: received a corrupt object, digests do not match
}

func Example_orphans() {
	example(newFiles, orphans)
	// Output:
	// two puts to shared.txt at once: get reads "written by A"
	// stream OBJ_files holds 3 messages:
	//     1 on $O.files.C.<nuid> (orphaned: no object has this NUID)
	//     1 on $O.files.C.<nuid> (the chunks of shared.txt)
	//     1 on $O.files.M.c2hhcmVkLnR4dA== (the metadata of shared.txt)
}

// The streams behind a bucket with history 3, one with per-key TTLs, and an
// object store.
func Example_backingStreams() {
	example(func(ctx context.Context, js jetstream.JetStream, _ io.Writer) error {
		if _, err := freshBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "profiles", History: 3}); err != nil {
			return err
		}
		if _, err := freshBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "locks", LimitMarkerTTL: time.Minute}); err != nil {
			return err
		}
		return newFiles(ctx, js, nil)
	}, backingStreams)
	// Output:
	// KV_profiles: Subjects [$KV.profiles.>], Storage File, MaxMsgsPerSubject 3, MaxAge 0s, Discard DiscardNew,
	//   AllowRollup true, DenyDelete true, AllowDirect true, Duplicates 2m0s, AllowMsgTTL false, SubjectDeleteMarkerTTL 0s
	// KV_locks: Subjects [$KV.locks.>], Storage File, MaxMsgsPerSubject 1, MaxAge 0s, Discard DiscardNew,
	//   AllowRollup true, DenyDelete true, AllowDirect true, Duplicates 2m0s, AllowMsgTTL true, SubjectDeleteMarkerTTL 1m0s
	// OBJ_files: Subjects [$O.files.C.> $O.files.M.>], Storage File, MaxMsgsPerSubject -1, MaxAge 0s, Discard DiscardNew,
	//   AllowRollup true, DenyDelete false, AllowDirect true, Duplicates 2m0s, AllowMsgTTL false, SubjectDeleteMarkerTTL 0s
}
