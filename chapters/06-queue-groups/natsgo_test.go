package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The page quotes nats.go's jetstream/README.md. Its words are nats.go's,
// not ours, and may change with an upgrade: this test reads the README of
// the nats.go this module builds with, and fails if a quote is gone.
func TestNatsGoREADMESaysWhatThePageQuotes(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", "github.com/nats-io/nats.go").Output()
	if err != nil {
		t.Fatalf("find the nats.go module: %v", err)
	}
	dir, version, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if version != "v1.55.0" {
		t.Fatalf("nats.go %s; the page quotes the README of v1.55.0", version)
	}
	data, err := os.ReadFile(filepath.Join(dir, "jetstream", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(data)), " ") // the README wraps its lines
	for _, quote := range []string{
		"For most use cases, we recommend using pull consumers",
		"Push consumers are supported mainly for the purpose of ease of migration from `nats` package.",
		"Both `Messages()` and `Consume()` methods perform similar optimizations and for most cases can be used interchangeably.",
		"There is an advantage of using `Messages()` instead of `Consume()` for work-queue scenarios, where messages should be fetched one by one",
	} {
		if !strings.Contains(readme, quote) {
			t.Errorf("nats.go %s's jetstream/README.md no longer says: %q", version, quote)
		}
	}
}
