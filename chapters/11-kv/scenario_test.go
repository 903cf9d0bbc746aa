package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/rogpeppe/go-internal/txtar"
)

// With no role and no NATS_URL (TestMain unsets it), the whole scenario
// runs on an embedded server, with nothing installed, and prints what its
// transcript shows on the script's server.
func TestTheScenarioRunsOnAnEmbeddedServer(t *testing.T) {
	t.Parallel()
	archive, err := txtar.ParseFile("../../testdata/script/11-kv.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, f := range archive.Files {
		if f.Name == "demo.stdout" {
			want = f.Data
		}
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), jstest.Deadline)
	defer cancel()
	if err := run(ctx, nil, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("printed:\n%s\nwant demo.stdout of testdata/script/11-kv.txtar:\n%s", out.String(), want)
	}
}
