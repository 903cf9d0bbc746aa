// The transcripts under ../testdata/script run the real chapter programs, as
// a reader would in a terminal, against a fresh server per script.
//
// Regenerate their expected output on purpose with
//
//	go test ./chapters -run TestTranscripts -update
//
// (or UPDATE_TRANSCRIPTS=1), then review the diff like any other change.
package chapters_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the transcripts' expected output from this run")

// binDir holds the chapter programs, built once for all scripts.
var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	// Most of a transcript's time is waiting, not CPU: a program whose server
	// stopped waits out its reconnect attempts. So run more scripts at once
	// than go test's default of one per core, unless -parallel says otherwise.
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		if err := flag.Set("test.parallel", "6"); err != nil {
			fmt.Fprintln(os.Stderr, "set -test.parallel:", err)
			os.Exit(1)
		}
	}
	dir, err := os.MkdirTemp("", "jetstream-tutorial-bin-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create a directory for the chapter programs:", err)
		os.Exit(1)
	}
	binDir = dir
	code := buildChapters(dir)
	if code == 0 {
		code = m.Run()
	}
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "remove the chapter programs:", err)
	}
	os.Exit(code)
}

// buildChapters builds every chapter program into dir, with the race
// detector when the tests themselves run with it, so the programs are checked
// too. A chapter's standalone program (chapters/NN-name/standalone) is named
// NN-name-standalone, since every one of them is a directory "standalone".
func buildChapters(dir string) int {
	list := exec.Command("go", "list", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./...")
	list.Stderr = os.Stderr
	out, err := list.Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "list the chapter programs:", err)
		return 1
	}
	var chapters []string
	outputs := map[string]string{} // import path of a standalone program -> binary
	for _, pkg := range strings.Fields(string(out)) {
		if path.Base(pkg) == "standalone" {
			outputs[pkg] = filepath.Join(dir, path.Base(path.Dir(pkg))+"-standalone")
			continue
		}
		chapters = append(chapters, pkg)
	}
	build := func(output string, pkgs ...string) error {
		args := []string{"build", "-o", output}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, pkgs...)...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	goBuild := func(output string, pkgs ...string) {
		wg.Go(func() {
			if err := build(output, pkgs...); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	goBuild(dir+string(filepath.Separator), chapters...)
	for pkg, output := range outputs {
		goBuild(output, pkg)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, "build the chapter programs:", err)
		return 1
	}
	return 0
}

func TestTranscripts(t *testing.T) {
	t.Parallel() // alongside TestRealServerTranscripts: both mostly wait
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "testdata", "script"),
		Setup:               setupScript,
		Cmds:                scriptCommands,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update || os.Getenv("UPDATE_TRANSCRIPTS") != "",
	})
}
