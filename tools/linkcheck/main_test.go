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

// A page of a two-edition site: its language, its switch and its headings.
func editionPage(lang, en, ko, headings string) string {
	return `<html lang="` + lang + `"><a href="` + en + `" hreflang="en">English</a><a href="` + ko + `" hreflang="ko">한국어</a><article>` + headings + `</article></html>`
}

const emptyIndex = `{"docs": []}`

func TestCheckAcceptsTwoEditions(t *testing.T) {
	dir := site(t, map[string]string{
		"index.html":                  editionPage("en", "./", "./ko/", `<h1 id="home">Home</h1>`),
		"03-stream/index.html":        editionPage("en", "../03-stream/", "../ko/03-stream/", `<h1 id="s">Stream</h1><h2 id="t">T</h2>`),
		"404.html":                    `<a href="/nowhere/" hreflang="ko">x</a>`,
		"search/search_index.json":    `{"docs": [{"location": "03-stream/"}]}`,
		"ko/index.html":               editionPage("ko", "./../", "./", `<h1 id="home">홈</h1>`),
		"ko/03-stream/index.html":     editionPage("ko", "../../03-stream/", "../03-stream/", `<h1 id="s">스트림</h1><h2 id="t">티</h2>`),
		"ko/404.html":                 `<a href="/ko/assets/x.css">absolute, not checked</a>`,
		"ko/search/search_index.json": `{"docs": [{"location": "03-stream/"}]}`,
	})
	problems, pages, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 || pages != 6 {
		t.Errorf("%d pages, problems:\n%s", pages, strings.Join(problems, "\n"))
	}
}

func TestCheckFindsEditionsThatDiffer(t *testing.T) {
	dir := site(t, map[string]string{
		"index.html":                  editionPage("en", "./", "./ko/", `<h1 id="home">Home</h1>`),
		"03-stream/index.html":        editionPage("en", "../03-stream/", "../ko/", `<h1 id="s">Stream</h1><h2 id="t">T</h2>`),
		"04-pubsub/index.html":        editionPage("en", "../04-pubsub/", "../ko/", ``),
		"search/search_index.json":    `{"docs": [{"location": "ko/03-stream/"}]}`,
		"ko/index.html":               editionPage("ko", "./../", "./", `<h1 id="home">홈</h1>`),
		"ko/03-stream/index.html":     editionPage("en", "../../03-stream/", "../03-stream/", `<h1 id="s">스트림</h1><h2 id="_1">티</h2>`),
		"ko/search/search_index.json": emptyIndex,
	})
	problems, _, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{
		`ko/03-stream/index.html: <html lang="en">, but its edition is "ko"`,
		`03-stream/index.html: its switch to "ko" goes to ko/index.html, not to its twin ko/03-stream/index.html`,
		`04-pubsub/index.html: no twin ko/04-pubsub/index.html`,
		`ko/03-stream/index.html: heading ids ["s" "_1"] differ`,
		`search/search_index.json: the search index of the en edition holds ko/03-stream, a page of the ko edition`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no problem containing %q; got:\n%s", want, got)
		}
	}
}

// The real site, both editions, when mkdocs is installed; CI runs the same
// check with "go run ./tools/linkcheck" on the site it builds.
func TestTheBuiltSite(t *testing.T) {
	if _, err := exec.LookPath("mkdocs"); err != nil {
		t.Skip("mkdocs is not installed (apt-get install mkdocs mkdocs-material python3-pymdownx); CI runs this check")
	}
	out := t.TempDir()
	for _, args := range [][]string{
		{"build", "--strict", "--quiet", "--site-dir", out}, // English first: it empties the site
		{"build", "--strict", "--quiet", "-f", "mkdocs.ko.yml", "--site-dir", filepath.Join(out, "ko")},
	} {
		cmd := exec.Command("mkdocs", args...)
		cmd.Dir = "../.."
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mkdocs %s: %v\n%s", strings.Join(args, " "), err, msg)
		}
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
