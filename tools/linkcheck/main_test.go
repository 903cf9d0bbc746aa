package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// site writes files (slash paths relative to the site) into a temporary site.
func site(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckAcceptsAGoodSite(t *testing.T) {
	dir := site(t, map[string]string{
		"index.html": `<link rel="stylesheet" href="assets/site.css"><link rel="canonical" href="https://example.org/">
			<a href="02-client/">next</a> <a href="02-client/#connect">connect</a> <a href="#top" id="top">top</a>
			<a href="https://github.com/nats-io/nats.go">nats.go</a> <img src="diagrams/a.svg"> <img src="data:image/png;base64,AA==">`,
		"02-client/index.html": `<h2 id="connect">Connect</h2><a href="../">home</a><a href="..#top">top</a>`,
		"assets/site.css":      `body{}`,
		"diagrams/a.svg":       `<svg/>`,
	})
	problems, pages, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 || pages != 2 {
		t.Errorf("%d pages, problems:\n%s", pages, strings.Join(problems, "\n"))
	}
}

func TestCheckFindsEachKindOfProblem(t *testing.T) {
	dir := site(t, map[string]string{
		"index.html": `<a href="missing/">a</a> <a href="02-client/#nope">b</a> <a href="#gone">c</a>
			<script src="https://cdn.example.org/x.js"></script> <link rel="stylesheet" href="//fonts.example.org/f.css">
			<img src="img/none.png"> <a href="../outside.html">d</a>`,
		"02-client/index.html": `<h2 id="connect">Connect</h2>`,
		"404.html":             `<a href="nowhere/">not checked</a>`,
	})
	problems, _, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{
		`broken link "missing/"`,
		`broken anchor "02-client/#nope"`,
		`broken anchor "#gone"`,
		`loads https://cdn.example.org/x.js from another host`,
		`loads //fonts.example.org/f.css from another host`,
		`broken link "img/none.png"`,
		`"../outside.html" leaves the site`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no problem containing %q; got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "nowhere") {
		t.Errorf("404.html was checked:\n%s", got)
	}
}

// The real site, when mkdocs is installed; CI runs the same check with
// "go run ./tools/linkcheck" on the site it builds.
func TestTheBuiltSite(t *testing.T) {
	if _, err := exec.LookPath("mkdocs"); err != nil {
		t.Skip("mkdocs is not installed (apt-get install mkdocs mkdocs-material python3-pymdownx); CI runs this check")
	}
	out := t.TempDir()
	cmd := exec.Command("mkdocs", "build", "--strict", "--quiet", "--site-dir", out)
	cmd.Dir = "../.."
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkdocs build: %v\n%s", err, msg)
	}
	problems, pages, err := Check(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d pages checked", pages)
}
