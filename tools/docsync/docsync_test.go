package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The repository's own pages must match their sources: this is the check CI
// relies on, and it runs with every "go test ./...".
func TestDocsMatchTheirSources(t *testing.T) {
	root := filepath.Join("..", "..")
	pages, err := Pages(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no pages under docs/")
	}
	// The Korean edition (docs/ko/) carries the same include markers, so its
	// blocks are checked and refreshed from the same tested files.
	if !slices.Contains(pages, filepath.Join("docs", "ko", "03-stream.md")) {
		t.Errorf("Pages does not list the Korean edition's pages: %q", pages)
	}
	problems, err := Sync(root, pages, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) > 0 {
		t.Log(`run "go run ./tools/docsync" to update the pages, then review the diff`)
	}
}

const goSource = `package main

// docs:start greet
func greet() {
	// docs:start inner
	println("hi")
	// docs:end inner
}

// docs:end greet

// Print a greeting.
func Example() {
	greet()
	// Output:
	// hi
	//
	// there
}
`

const archive = `exec 03-stream
cmp stdout want.stdout
-- want.stdout --
Stream created.
`

func writeFixture(t *testing.T, page string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range map[string]string{
		"x/main.go":     goSource,
		"x/t.txtar":     archive,
		"docs/page.md":  page,
		"docs/other.md": "# Other\n",
	} {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestSelectors(t *testing.T) {
	for _, tc := range []struct{ source, want string }{
		{"x/main.go#greet", "func greet() {\n\tprintln(\"hi\")\n}\n"},
		{"x/main.go#inner", "println(\"hi\")\n"},
		{"x/main.go#func:Example", "// Print a greeting.\nfunc Example() {\n\tgreet()\n}\n"},
		{"x/main.go#output:Example", "hi\n\nthere\n"},
		{"x/t.txtar#want.stdout", "Stream created.\n"},
	} {
		root := writeFixture(t, "")
		got, err := resolve(root, tc.source)
		if err != nil {
			t.Errorf("%s: %v", tc.source, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.source, got, tc.want)
		}
	}
	root := writeFixture(t, "")
	whole, err := resolve(root, "x/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(whole, "docs:") || strings.Contains(whole, "\n\n\n") {
		t.Errorf("whole file keeps markers or doubled blank lines:\n%s", whole)
	}
	for _, bad := range []string{"x/main.go#nope", "x/t.txtar#nope", "x/main.go#output:greet", "missing.go"} {
		if _, err := resolve(root, bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestSyncRewritesAndChecks(t *testing.T) {
	page := "# Page\n\n<!-- include: x/t.txtar#want.stdout -->\n```text\nstale\n```\n\n" +
		"!!! note\n    <!-- include: x/main.go#inner -->\n    ```go\n    ```\n"
	root := writeFixture(t, page)
	problems, err := Sync(root, []string{"docs/page.md"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 2 {
		t.Fatalf("check found %d problems, want 2 drifted blocks: %q", len(problems), problems)
	}
	if problems, err = Sync(root, []string{"docs/page.md"}, true); err != nil || len(problems) != 0 {
		t.Fatalf("rewrite: %v %q", err, problems)
	}
	data, err := os.ReadFile(filepath.Join(root, "docs/page.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := "# Page\n\n<!-- include: x/t.txtar#want.stdout -->\n```text\nStream created.\n```\n\n" +
		"!!! note\n    <!-- include: x/main.go#inner -->\n    ```go\n    println(\"hi\")\n    ```\n"
	if string(data) != want {
		t.Fatalf("rewritten page:\n%s\nwant:\n%s", data, want)
	}
	if problems, _ = Sync(root, []string{"docs/page.md"}, false); len(problems) != 0 {
		t.Fatalf("after rewrite: %q", problems)
	}
}

func TestSubstitution(t *testing.T) {
	page := "<!-- include: x/t.txtar#want.stdout PORT=4222 -->\n```text\n```\n"
	root := writeFixture(t, page)
	if err := os.WriteFile(filepath.Join(root, "x/t.txtar"), []byte("-- want.stdout --\nnats://127.0.0.1:$PORT ${PORT}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Sync(root, []string{"docs/page.md"}, true); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "docs/page.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "nats://127.0.0.1:4222 4222\n") {
		t.Fatalf("not substituted:\n%s", data)
	}
}

func TestHandWrittenBlocksAreRefused(t *testing.T) {
	root := writeFixture(t, "```go\nfmt.Println()\n```\n\n```sh\ngo run ./chapters/03-stream\n```\n")
	problems, err := Sync(root, []string{"docs/page.md"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "```go block without") {
		t.Fatalf("problems = %q, want one for the go block only", problems)
	}
}
