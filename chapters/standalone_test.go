package chapters_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/rogpeppe/go-internal/txtar"
)

// Every chapter page opens with a standalone program: one file,
// chapters/NN-name/standalone/main.go, that a reader pastes into a module of
// their own. These tests hold each one to that promise.

// The only modules a standalone program may import, besides the standard
// library: the two a reader's go.mod requires.
var readerModules = map[string]string{
	"github.com/nats-io/nats.go":        "v1.55.0",
	"github.com/nats-io/nats-server/v2": "v2.15.2",
}

// standalone is one chapter's standalone program.
type standalone struct {
	chapter string // such as 04-pubsub
	source  string // chapters/04-pubsub/standalone/main.go, relative to chapters/
}

// binary is the program as TestMain built it.
func (s standalone) binary() string { return filepath.Join(binDir, s.chapter+"-standalone") }

// transcript is the script whose standalone.stdout the page shows.
func (s standalone) transcript() string {
	return filepath.Join("..", "testdata", "script", s.chapter+"-standalone.txtar")
}

func standalones(t *testing.T) []standalone {
	t.Helper()
	chapters, err := filepath.Glob("[0-9][0-9]-*")
	if err != nil {
		t.Fatal(err)
	}
	var found []standalone
	for _, chapter := range chapters {
		source := filepath.Join(chapter, "standalone", "main.go")
		if _, err := os.Stat(source); err != nil {
			t.Errorf("%s has no standalone program: write %s", chapter, source)
			continue
		}
		found = append(found, standalone{chapter, source})
	}
	return found
}

// A standalone program is one file that imports only the standard library,
// nats.go and nats-server: Go forbids another module to import the
// tutorial's chapters/internal packages, and a reader has nothing else.
func TestStandaloneProgramsImportOnlyPublicModules(t *testing.T) {
	for _, s := range standalones(t) {
		files, err := filepath.Glob(filepath.Join(filepath.Dir(s.source), "*"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 1 {
			t.Errorf("%s: the standalone program must be one file, main.go; found %v", s.chapter, files)
		}
		file, err := parser.ParseFile(token.NewFileSet(), s.source, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		if file.Name.Name != "main" {
			t.Errorf("%s: package %s, want main", s.source, file.Name.Name)
		}
		for _, spec := range file.Imports {
			path, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Split(path, "/")[0], ".") {
				continue // the standard library
			}
			if moduleOf(path) == "" {
				t.Errorf("%s imports %s: a reader's module has only the standard library, nats.go and nats-server", s.source, path)
			}
		}
	}
}

// moduleOf returns the reader module that provides the package path, or "".
func moduleOf(path string) string {
	for module := range readerModules {
		if path == module || strings.HasPrefix(path, module+"/") {
			return module
		}
	}
	return ""
}

// Each standalone program builds in a fresh module outside this repository,
// whose go.mod requires nothing but nats.go and nats-server at the pinned
// versions: what a reader gets after "go mod init" and "go get".
func TestStandaloneProgramsBuildInAFreshModule(t *testing.T) {
	repoSum, err := os.ReadFile(filepath.Join("..", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range standalones(t) {
		t.Run(s.chapter, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var goMod strings.Builder
			goMod.WriteString("module example.com/reader\n\ngo 1.26\n\nrequire (\n")
			for _, module := range slices.Sorted(maps.Keys(readerModules)) {
				fmt.Fprintf(&goMod, "\t%s %s\n", module, readerModules[module])
			}
			goMod.WriteString(")\n")
			source, err := os.ReadFile(s.source)
			if err != nil {
				t.Fatal(err)
			}
			for name, data := range map[string][]byte{
				"go.mod":  []byte(goMod.String()),
				"go.sum":  repoSum, // the checksums of the same versions; tidy keeps the ones it needs
				"main.go": source,
			} {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			goCmd(t, dir, "mod", "tidy")
			goCmd(t, dir, "build", "-o", filepath.Join(dir, "program"), ".")

			var tidied struct {
				Require []struct {
					Path, Version string
					Indirect      bool
				}
			}
			if err := json.Unmarshal(goCmd(t, dir, "mod", "edit", "-json"), &tidied); err != nil {
				t.Fatal(err)
			}
			for _, req := range tidied.Require {
				if !req.Indirect && readerModules[req.Path] != req.Version {
					t.Errorf("after go mod tidy, the reader's module requires %s %s directly", req.Path, req.Version)
				}
			}
		})
	}
}

// goCmd runs the go command in dir, outside this repository's module, and
// returns its standard output.
func goCmd(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s in a fresh module: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// The page shows a standalone program's output from its transcript,
// testdata/script/NN-name-standalone.txtar, whose standalone.stdout the
// program prints on a fresh embedded server (TestTranscripts checks that).
// Against a fresh nats-server binary, as a reader runs it, it prints the
// same, twice in a row, and exits 0.
func TestStandaloneProgramsOnARealServer(t *testing.T) {
	requireRealServer(t)
	for _, s := range standalones(t) {
		t.Run(s.chapter, func(t *testing.T) {
			url := startRealServer(t)
			for run := 1; run <= 2; run++ {
				runStandalone(t, s, url, fmt.Sprintf("run %d", run))
			}
		})
	}
}

// A reader runs the standalone programs one after another against the one
// server they have: each uses streams and subjects of its own (two streams
// may not capture the same subject), so every one prints what its page
// shows, a second round included.
func TestStandaloneProgramsShareOneServer(t *testing.T) {
	url := jstest.Server(t).URL()
	for round := 1; round <= 2; round++ {
		for _, s := range standalones(t) {
			runStandalone(t, s, url, fmt.Sprintf("round %d, %s", round, s.chapter))
		}
	}
}

// runStandalone runs s against the server at url and compares its output
// with the page's.
func runStandalone(t *testing.T, s standalone, url, what string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(s.binary())
	cmd.Env = append(os.Environ(), "NATS_URL="+url)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", what, err, stderr.String())
	}
	if want := expectedOutput(t, s); stdout.String() != want {
		t.Errorf("%s printed:\n%s\nwant (standalone.stdout of %s):\n%s", what, stdout.String(), s.transcript(), want)
	}
}

func expectedOutput(t *testing.T, s standalone) string {
	t.Helper()
	archive, err := txtar.ParseFile(s.transcript())
	if err != nil {
		t.Fatalf("%s: its page shows the output of %s: %v", s.chapter, s.transcript(), err)
	}
	for _, f := range archive.Files {
		if f.Name == "standalone.stdout" {
			return string(f.Data)
		}
	}
	t.Fatalf("%s has no standalone.stdout", s.transcript())
	return ""
}

var firstGoListing = regexp.MustCompile("(?m)^```go")

// Each chapter page opens with a summary of about 120 words at most, then
// the standalone program as its first Go listing.
func TestChapterPagesOpenWithTheirStandaloneProgram(t *testing.T) {
	for _, s := range standalones(t) {
		pages, err := filepath.Glob(filepath.Join("..", "docs", s.chapter+".md"))
		if err != nil || len(pages) != 1 {
			t.Errorf("%s: no page docs/%s.md (%v)", s.chapter, s.chapter, err)
			continue
		}
		data, err := os.ReadFile(pages[0])
		if err != nil {
			t.Fatal(err)
		}
		page := string(data)
		loc := firstGoListing.FindStringIndex(page)
		if loc == nil {
			t.Errorf("%s has no Go listing", pages[0])
			continue
		}
		before := page[:loc[0]]
		marker := "<!-- include: chapters/" + s.chapter + "/standalone/main.go -->\n"
		if !strings.HasSuffix(before, marker) {
			t.Errorf("%s: the first Go listing must be the standalone program, marked %q", pages[0], strings.TrimSpace(marker))
		}
		if words := summaryWords(before); words > 130 {
			t.Errorf("%s: %d words before the standalone program; the summary should be about 120 at most", pages[0], words)
		}
	}
}

// summaryWords counts the prose words of a page's opening: no title, no
// HTML comments, no images, no fenced blocks.
func summaryWords(text string) int {
	words, fenced := 0, false
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			fenced = !fenced
		case fenced, strings.HasPrefix(trimmed, "# "), strings.HasPrefix(trimmed, "<!--"), strings.HasPrefix(trimmed, "!["):
		default:
			words += len(strings.Fields(trimmed))
		}
	}
	return words
}
