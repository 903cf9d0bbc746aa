package embedded_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// storeAStream connects to url and creates a file stream, so that the
// server writes to its store directory.
func storeAStream(t *testing.T, url string) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "kept", Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "kept", []byte("a message")); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Info(ctx); err != nil {
		t.Fatal(err)
	}
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// The page "Running a real server" says: with NATS_URL unset a chapter
// starts a server with a temporary store and removes it when it exits.
// URLOrStart("") is that path; the temporary directory is made under
// $TMPDIR, pointed here at a directory of the test's own.
func TestURLOrStartRemovesItsTemporaryStore(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	url, stop, err := embedded.URLOrStart("")
	if err != nil {
		t.Fatal(err)
	}
	storeAStream(t, url)
	stores, err := filepath.Glob(filepath.Join(tmp, "jetstream-tutorial-*", "jetstream"))
	if err != nil {
		t.Fatal(err)
	}
	if len(stores) != 1 {
		t.Fatalf("found %d stores under TMPDIR while the server runs (%q), want 1", len(stores), stores)
	}
	stop()
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind after stop: %s", e.Name())
	}
}

// Stop removes the store that Start created, and only that one: a store
// directory given in Options stays, with the streams in it.
func TestStopRemovesOnlyTheStoreStartCreated(t *testing.T) {
	t.Run("created by Start", func(t *testing.T) {
		s, err := embedded.Start(embedded.Options{})
		if err != nil {
			t.Fatal(err)
		}
		storeAStream(t, s.URL())
		dir := s.StoreDir()
		if !exists(t, filepath.Join(dir, "jetstream")) {
			t.Fatalf("no jetstream folder in %s while the server runs", dir)
		}
		s.Stop()
		if exists(t, dir) {
			t.Fatalf("%s is still there after Stop", dir)
		}
	})
	t.Run("given in Options", func(t *testing.T) {
		dir := t.TempDir()
		s, err := embedded.Start(embedded.Options{StoreDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		storeAStream(t, s.URL())
		s.Stop()
		if !exists(t, filepath.Join(dir, "jetstream")) {
			t.Fatalf("the store in %s is gone after Stop; a given store must stay", dir)
		}
	})
}

// A non-empty URL is used as it is: no server starts, and stop does nothing.
func TestURLOrStartUsesAGivenURL(t *testing.T) {
	url, stop, err := embedded.URLOrStart("nats://127.0.0.1:4222")
	if err != nil {
		t.Fatal(err)
	}
	if url != "nats://127.0.0.1:4222" {
		t.Fatalf("URLOrStart returned %q, want the given URL", url)
	}
	stop()
}
