package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// docs:start objects
// objects puts 5 MiB into the object store files, shows how it is stored
// and checked, gets it back, links it and deletes it.
func objects(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	obs, err := freshObjectStore(ctx, js, "files")
	if err != nil {
		return err
	}
	data := testData(5 << 20) // 5 MiB, the same on every run
	info, err := obs.PutBytes(ctx, "report.bin", data)
	if err != nil {
		return fmt.Errorf("put report.bin: %w", err)
	}
	sum := sha256.Sum256(data)
	fmt.Fprintf(out, "put report.bin: %d bytes in %d chunks, digest %s\n", info.Size, info.Chunks, info.Digest)
	fmt.Fprintf(out, "that digest is the SHA-256 of the data, in base64: %t\n",
		info.Digest == "SHA-256="+base64.URLEncoding.EncodeToString(sum[:]))
	if err := printSubjects(ctx, js, out, obs); err != nil {
		return err
	}

	got, err := obs.GetBytes(ctx, "report.bin") // checks the digest at the end
	if err != nil {
		return fmt.Errorf("get report.bin: %w", err)
	}
	fmt.Fprintf(out, "get report.bin: %d bytes, equal to what was put: %t\n", len(got), bytes.Equal(got, data))

	// A link is a name for another object; Get follows it.
	if _, err := obs.AddLink(ctx, "latest", info); err != nil {
		return fmt.Errorf("link latest: %w", err)
	}
	got, err = obs.GetBytes(ctx, "latest")
	if err != nil {
		return fmt.Errorf("get latest: %w", err)
	}
	fmt.Fprintf(out, "get latest, a link to report.bin: %d bytes\n", len(got))
	if err := printList(ctx, obs, out); err != nil {
		return err
	}

	// Delete purges the chunks and leaves a marker in the metadata.
	if err := obs.Delete(ctx, "report.bin"); err != nil {
		return fmt.Errorf("delete report.bin: %w", err)
	}
	_, err = obs.GetBytes(ctx, "latest")
	if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("get latest after deleting report.bin: %v, want ErrObjectNotFound", err)
	}
	fmt.Fprintln(out, "delete report.bin: get latest now fails: object not found")
	return printSubjects(ctx, js, out, obs)
}

// docs:end objects

// docs:start tamper
// tamper changes the digest in an object's metadata and shows that Get
// notices.
func tamper(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	obs, err := js.ObjectStore(ctx, "files")
	if err != nil {
		return fmt.Errorf("object store files: %w", err)
	}
	if _, err := obs.PutString(ctx, "notes.txt", "meeting at 10"); err != nil {
		return fmt.Errorf("put notes.txt: %w", err)
	}
	if err := forgeDigest(ctx, js, "files", "notes.txt"); err != nil {
		return err
	}
	_, err = obs.GetString(ctx, "notes.txt")
	if !errors.Is(err, jetstream.ErrDigestMismatch) {
		return fmt.Errorf("get notes.txt after tampering: %v, want ErrDigestMismatch", err)
	}
	fmt.Fprintf(out, "get notes.txt with a forged digest: %v\n", err)
	return nil
}

// forgeDigest replaces the metadata of an object, a JSON message on
// $O.<bucket>.M.<base64 of the name>, with one whose digest is wrong.
func forgeDigest(ctx context.Context, js jetstream.JetStream, bucket, name string) error {
	stream, err := js.Stream(ctx, "OBJ_"+bucket)
	if err != nil {
		return fmt.Errorf("stream OBJ_%s: %w", bucket, err)
	}
	subject := "$O." + bucket + ".M." + base64.URLEncoding.EncodeToString([]byte(name))
	msg, err := stream.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		return fmt.Errorf("read the metadata of %s: %w", name, err)
	}
	var meta jetstream.ObjectInfo
	if err := json.Unmarshal(msg.Data, &meta); err != nil {
		return fmt.Errorf("decode the metadata of %s: %w", name, err)
	}
	other := sha256.Sum256([]byte("something else"))
	meta.Digest = "SHA-256=" + base64.URLEncoding.EncodeToString(other[:])
	data, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("encode the metadata: %w", err)
	}
	forged := nats.NewMsg(subject)
	forged.Data = data
	forged.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject) // replace the old one, as Put does
	if _, err := js.PublishMsg(ctx, forged); err != nil {
		return fmt.Errorf("publish the forged metadata: %w", err)
	}
	return nil
}

// docs:end tamper

// printSubjects prints what the object store's stream holds, subject by
// subject: the chunks of each object on $O.<bucket>.C.<the object's NUID>,
// and the metadata of each name on $O.<bucket>.M.<the name in base64>.
func printSubjects(ctx context.Context, js jetstream.JetStream, out io.Writer, obs jetstream.ObjectStore) error {
	status, err := obs.Status(ctx)
	if err != nil {
		return fmt.Errorf("status of the object store: %w", err)
	}
	bucket := status.Bucket()
	owners := map[string]string{} // NUID -> name of a live object
	list, err := obs.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		return fmt.Errorf("list the objects: %w", err)
	}
	for _, o := range list {
		owners[o.NUID] = o.Name
	}
	stream, err := js.Stream(ctx, "OBJ_"+bucket)
	if err != nil {
		return fmt.Errorf("stream OBJ_%s: %w", bucket, err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter("$O."+bucket+".>"))
	if err != nil {
		return fmt.Errorf("stream OBJ_%s: %w", bucket, err)
	}
	chunks, metas := "$O."+bucket+".C.", "$O."+bucket+".M."
	var lines []string
	for subject, n := range info.State.Subjects {
		if nuid, ok := strings.CutPrefix(subject, chunks); ok {
			owner := "orphaned: no object has this NUID"
			if name, ok := owners[nuid]; ok {
				owner = "the chunks of " + name
			}
			lines = append(lines, fmt.Sprintf("  %3d on %s<nuid> (%s)", n, chunks, owner))
			continue
		}
		name, err := base64.URLEncoding.DecodeString(strings.TrimPrefix(subject, metas))
		if err != nil {
			return fmt.Errorf("subject %s: %w", subject, err)
		}
		lines = append(lines, fmt.Sprintf("  %3d on %s (the metadata of %s)", n, subject, name))
	}
	sort.Strings(lines)
	fmt.Fprintf(out, "stream OBJ_%s holds %d messages:\n%s\n", bucket, info.State.Msgs, strings.Join(lines, "\n"))
	return nil
}

// printList prints the objects' names and sizes (a link has none).
func printList(ctx context.Context, obs jetstream.ObjectStore, out io.Writer) error {
	list, err := obs.List(ctx)
	if err != nil {
		return fmt.Errorf("list the objects: %w", err)
	}
	var items []string
	for _, o := range list {
		if o.Opts != nil && o.Opts.Link != nil {
			items = append(items, fmt.Sprintf("%s (link to %s)", o.Name, o.Opts.Link.Name))
			continue
		}
		items = append(items, fmt.Sprintf("%s (%d bytes)", o.Name, o.Size))
	}
	fmt.Fprintf(out, "list: %s\n", strings.Join(items, ", "))
	return nil
}

// freshObjectStore deletes the object store if it exists and creates it,
// so that the scenario prints the same on every run.
func freshObjectStore(ctx context.Context, js jetstream.JetStream, bucket string) (jetstream.ObjectStore, error) {
	if err := js.DeleteObjectStore(ctx, bucket); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) && !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("delete object store %s: %w", bucket, err)
	}
	obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: bucket})
	if err != nil {
		return nil, fmt.Errorf("create object store %s: %w", bucket, err)
	}
	return obs, nil
}

// testData returns n pseudo-random bytes, the same on every call: data
// that does not compress, and that a test can make again to compare.
func testData(n int) []byte {
	rng := rand.NewChaCha8([32]byte{'c', 'h', 'a', 'p', 't', 'e', 'r', ' ', '1', '1'})
	data := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(data[i:], rng.Uint64())
	}
	return data[:n]
}
