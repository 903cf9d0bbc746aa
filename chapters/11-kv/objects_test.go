package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// newObjectStore starts a server and creates an object store on it.
func newObjectStore(t *testing.T, cfg jetstream.ObjectStoreConfig) (jetstream.JetStream, jetstream.ObjectStore) {
	t.Helper()
	_, js := jstest.Connect(t, jstest.Server(t))
	obs, err := js.CreateObjectStore(jstest.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return js, obs
}

// chunkSubjects returns how many messages each chunk subject of the store
// holds, and how many chunks that makes.
func chunkSubjects(t *testing.T, js jetstream.JetStream, bucket string) (map[string]uint64, uint64) {
	t.Helper()
	ctx := jstest.Context(t)
	stream, err := js.Stream(ctx, "OBJ_"+bucket)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter("$O."+bucket+".C.>"))
	if err != nil {
		t.Fatal(err)
	}
	var chunks uint64
	for _, n := range info.State.Subjects {
		chunks += n
	}
	return info.State.Subjects, chunks
}

// An object is chunks of 128 KiB unless ChunkSize says otherwise, all on
// one subject named by the object's NUID, plus one metadata message. A
// chunk must fit in a message (1 MiB by default); an empty object has no
// chunk, and its digest is the SHA-256 of nothing.
func TestAnObjectIsChunksAndOneMetadataMessage(t *testing.T) {
	t.Parallel()
	js, obs := newObjectStore(t, jetstream.ObjectStoreConfig{Bucket: "files"})
	ctx := jstest.Context(t)
	for _, c := range []struct {
		name      string
		size      int
		chunkSize uint32
		chunks    uint32
	}{{"five-mib", 5 << 20, 0, 40}, {"five-million", 5_000_000, 0, 39}, {"big-chunks", 5 << 20, 1 << 20, 5}, {"empty", 0, 0, 0}} {
		data := testData(c.size)
		info, err := obs.Put(ctx, jetstream.ObjectMeta{Name: c.name, Opts: &jetstream.ObjectMetaOptions{ChunkSize: c.chunkSize}}, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		sum := sha256.Sum256(data)
		if info.Chunks != c.chunks || info.Digest != "SHA-256="+base64.URLEncoding.EncodeToString(sum[:]) {
			t.Errorf("%s: %d chunks, digest %s; want %d and the SHA-256 of the data", c.name, info.Chunks, info.Digest, c.chunks)
		}
		subjects, _ := chunkSubjects(t, js, "files")
		if got := subjects["$O.files.C."+info.NUID]; got != uint64(c.chunks) {
			t.Errorf("%s: %d messages on its chunk subject, want %d", c.name, got, c.chunks)
		}
	}
	_, err := obs.Put(ctx, jetstream.ObjectMeta{Name: "huge-chunks", Opts: &jetstream.ObjectMetaOptions{ChunkSize: 2 << 20}}, bytes.NewReader(testData(3<<20)))
	if err == nil || !strings.Contains(err.Error(), "maximum payload exceeded") {
		t.Fatalf("chunks of 2 MiB: %v, want maximum payload exceeded", err)
	}
}

// Get checks the digest when the reader reaches the end: a forged digest
// fails there (the scenario's tamper), and a reader that stops early
// never finds out.
func TestGetChecksTheDigestOnlyAtTheEnd(t *testing.T) {
	t.Parallel()
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	if _, err := freshObjectStore(ctx, js, "files"); err != nil {
		t.Fatal(err)
	}
	if err := tamper(ctx, js, io.Discard); err != nil {
		t.Fatal(err)
	}
	obs, err := js.ObjectStore(ctx, "files")
	if err != nil {
		t.Fatal(err)
	}
	r, err := obs.Get(ctx, "notes.txt")
	if err != nil {
		t.Fatal(err)
	}
	start := make([]byte, 7)
	if _, err := io.ReadFull(r, start); err != nil || string(start) != "meeting" {
		t.Fatalf("the first bytes: %q, %v", start, err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("close before the end: %v, want no error", err)
	}
}

// Putting an object again under its name writes new chunks, then purges the
// old ones. Delete purges the chunks and leaves a metadata marker; a
// second Delete succeeds again, but deleting a name that never existed
// fails, unlike a key's Delete.
func TestOverwriteAndDeletePurgeTheChunks(t *testing.T) {
	t.Parallel()
	js, obs := newObjectStore(t, jetstream.ObjectStoreConfig{Bucket: "files"})
	ctx := jstest.Context(t)
	if _, err := obs.PutBytes(ctx, "report.bin", testData(5<<20)); err != nil {
		t.Fatal(err)
	}
	small, err := obs.PutString(ctx, "report.bin", "now short")
	if err != nil {
		t.Fatal(err)
	}
	subjects, chunks := chunkSubjects(t, js, "files")
	if len(subjects) != 1 || subjects["$O.files.C."+small.NUID] != 1 || chunks != 1 {
		t.Fatalf("after the overwrite: chunk subjects %v, want only the new object's one chunk", subjects)
	}
	if err := obs.Delete(ctx, "report.bin"); err != nil {
		t.Fatal(err)
	}
	if _, chunks := chunkSubjects(t, js, "files"); chunks != 0 {
		t.Fatalf("%d chunks after Delete, want 0", chunks)
	}
	if _, err := obs.GetInfo(ctx, "report.bin"); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Fatalf("info after Delete: %v, want ErrObjectNotFound", err)
	}
	if info, err := obs.GetInfo(ctx, "report.bin", jetstream.GetObjectInfoShowDeleted()); err != nil || !info.Deleted {
		t.Fatalf("info of the deleted object with ShowDeleted: %v", err)
	}
	if err := obs.Delete(ctx, "report.bin"); err != nil {
		t.Fatalf("a second Delete: %v, want nil", err)
	}
	if err := obs.Delete(ctx, "never.bin"); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Fatalf("delete of an object that never existed: %v, want ErrObjectNotFound", err)
	}
}

// A link may not point to another link, nor replace an object.
func TestALinkPointsToAnObjectNotToALink(t *testing.T) {
	t.Parallel()
	_, obs := newObjectStore(t, jetstream.ObjectStoreConfig{Bucket: "files"})
	ctx := jstest.Context(t)
	report, err := obs.PutString(ctx, "report.bin", "data")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs.PutString(ctx, "other.bin", "more"); err != nil {
		t.Fatal(err)
	}
	latest, err := obs.AddLink(ctx, "latest", report)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs.AddLink(ctx, "newest", latest); err == nil {
		t.Fatal("a link to a link: no error")
	}
	if _, err := obs.AddLink(ctx, "other.bin", report); err == nil {
		t.Fatal("a link over an object: no error")
	}
}

// An object store with MaxBytes refuses an object that does not fit (10077),
// and Put purges the chunks it had written.
func TestAFullObjectStoreRefusesAndCleansUp(t *testing.T) {
	t.Parallel()
	js, obs := newObjectStore(t, jetstream.ObjectStoreConfig{Bucket: "small", MaxBytes: 1 << 20})
	ctx := jstest.Context(t)
	_, err := obs.PutBytes(ctx, "big.bin", testData(5<<20))
	if apiCode(err) != codeStoreFailed {
		t.Fatalf("5 MiB into 1 MiB: %v, want error %d", err, codeStoreFailed)
	}
	jstest.Eventually(t, func() error {
		if _, chunks := chunkSubjects(t, js, "small"); chunks != 0 {
			return errors.New("chunks are left")
		}
		return nil
	})
}

// PutFile names the object by the path as given; the object put role
// names it by the file's base name.
func TestTheObjectPutRoleNamesTheObjectByTheBaseName(t *testing.T) {
	t.Parallel()
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	path := filepath.Join(t.TempDir(), "report.bin")
	if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	obs, err := ensureObjects(ctx, js, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	info, err := obs.PutFile(ctx, path)
	if err != nil || info.Name != path {
		t.Fatalf("PutFile named it %q (%v), want the path %q", info.Name, err, path)
	}
	var out bytes.Buffer
	if err := objectPutRole(ctx, js, &out, path); err != nil {
		t.Fatal(err)
	}
	if _, err := obs.GetInfo(ctx, "report.bin"); err != nil {
		t.Fatalf("the role's object report.bin: %v\n%s", err, out.String())
	}
}

// The object roles carry a file both ways byte for byte; a get whose digest
// does not match, or of an object that does not exist, writes no file.
func TestTheObjectRolesRoundTripAFile(t *testing.T) {
	t.Parallel()
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	dir := t.TempDir()
	data := testData(5 << 20)
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := objectPutRole(ctx, js, &out, filepath.Join(dir, "big.bin")); err != nil {
		t.Fatal(err)
	}
	if err := objectGetRole(ctx, js, &out, "big.bin", filepath.Join(dir, "copy.bin")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "copy.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the copy differs (%v)", err)
	}
	if err := forgeDigest(ctx, js, objectsBucket, "big.bin"); err != nil {
		t.Fatal(err)
	}
	if err := objectGetRole(ctx, js, &out, "big.bin", filepath.Join(dir, "forged.bin")); err == nil ||
		!strings.Contains(err.Error(), "does not match its SHA-256 digest; nothing written") {
		t.Fatalf("get with a forged digest: %v", err)
	}
	if err := objectGetRole(ctx, js, &out, "missing.bin", filepath.Join(dir, "missing.bin")); err == nil ||
		!strings.Contains(err.Error(), "example_objects has no such object") {
		t.Fatalf("get of a missing object: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d files in the directory, want big.bin and copy.bin only", len(entries))
	}
}
