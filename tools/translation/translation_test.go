package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The repository's own Korean edition must follow the English one: this is
// the drift check CI relies on, and it runs with every "go test ./...".
func TestTheKoreanEditionFollowsTheEnglishOne(t *testing.T) {
	problems, err := Check(filepath.Join("..", ".."), NotYetTranslated)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

const englishPage = "# A page\n" +
	"\n" +
	"Some prose with `jetstream.New` and a [link](other.md#anchor),\n" +
	"which wraps.[^fn] See [the other page](other.md).\n" +
	"\n" +
	"![A diagram](diagrams/d.svg)\n" +
	"\n" +
	"<!-- include: x/t.txtar#out -->\n" +
	"```text\n" +
	"hello\n" +
	"```\n" +
	"\n" +
	"```sh\n" +
	"# terminal 1\n" +
	"go run ./x   # start it\n" +
	"```\n" +
	"\n" +
	"## Claims\n" +
	"\n" +
	"| Claim | Test |\n" +
	"| --- | --- |\n" +
	"| C01 works within 5 s (chapter 04) | `TestC01_Works` |\n" +
	"| C02 fails | `TestC02_Fails` |\n" +
	"\n" +
	"!!! note \"Note\"\n" +
	"    Inside.\n" +
	"\n" +
	"[^fn]: `TestC01_Works`.\n"

const koreanPage = "# 페이지 { #a-page }\n" +
	"\n" +
	"[다른 페이지](other.md)도 보세요. `jetstream.New`가 나오는 글과\n" +
	"[링크](other.md#anchor)입니다.[^fn]\n" +
	"\n" +
	"![다이어그램](diagrams/d.svg)\n" +
	"\n" +
	"<!-- include: x/t.txtar#out -->\n" +
	"```text\n" +
	"hello\n" +
	"```\n" +
	"\n" +
	"```sh\n" +
	"# 터미널 1\n" +
	"go run ./x   # 실행한다\n" +
	"```\n" +
	"\n" +
	"## 원본의 주장 { #claims }\n" +
	"\n" +
	"| 주장 | 테스트 |\n" +
	"| --- | --- |\n" +
	"| C01 5초 안에 동작한다(4장) | `TestC01_Works` |\n" +
	"| C02 실패한다 | `TestC02_Fails` |\n" +
	"\n" +
	"!!! note \"참고\"\n" +
	"    안쪽입니다.\n" +
	"\n" +
	"[^fn]: `TestC01_Works`.\n"

// fixture writes a repository with one page in both editions; the Korean
// page is stamped with the English page's hash.
func fixture(t *testing.T, en, ko string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"docs/page.md":                en,
		"docs/other.md":               "# Other\n",
		"docs/ko/other.md":            stamp{"docs/other.md", proseHash("# Other\n")}.String() + "\n# 다른 페이지 { #other }\n",
		"docs/diagrams/d.dot":         "digraph d {\n  a [label=\"publisher\"];\n  a -> b [label=\"every message\"];\n}\n",
		"docs/ko/diagrams/d.dot":      "digraph d {\n  a [label=\"발행자\"];\n  a -> b [label=\"모든 메시지\"];\n}\n",
		"mkdocs.yml":                  "site_name: S\nnav:\n  - Page: page.md\n  - Other: other.md\n",
		"mkdocs.ko.yml":               "INHERIT: mkdocs.yml\nsite_name: 에스\nnav:\n  - 페이지: page.md\n  - 다른 페이지: other.md\n",
		"docs/ko/page.md":             stamp{"docs/page.md", proseHash(en)}.String() + "\n" + ko,
		"docs/ko/diagrams/.keep.json": "",
	}
	if ko == "" {
		delete(files, "docs/ko/page.md")
	}
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func write(t *testing.T, root, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(name)), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAFaithfulTranslationPasses(t *testing.T) {
	root := fixture(t, englishPage, koreanPage)
	problems, err := Check(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("problems:\n%s", strings.Join(problems, "\n"))
	}
}

// Each way a translation can drift from its English page, and what the check says.
func TestEachDriftIsFound(t *testing.T) {
	for _, tc := range []struct {
		name    string
		en, ko  func(string) string // change the English or the Korean page (before stamping)
		after   func(t *testing.T, root string)
		pending map[string]bool
		want    string
	}{
		{name: "missing page", ko: func(string) string { return "" },
			want: "docs/page.md has no Korean twin docs/ko/page.md"},
		{name: "pending page that exists", pending: map[string]bool{"page.md": true},
			want: `docs/ko/page.md exists: remove "page.md" from NotYetTranslated`},
		{name: "pending page that is not a page", pending: map[string]bool{"gone.md": true},
			want: "NotYetTranslated lists gone.md, which is not a page of docs"},
		{name: "Korean page without an English one",
			after: func(t *testing.T, root string) { write(t, root, "docs/ko/extra.md", "# 추가\n") },
			want:  "docs/ko/extra.md has no English page docs/extra.md"},
		{name: "dropped include marker", ko: replace("<!-- include: x/t.txtar#out -->\n", ""),
			want: "missing include marker x/t.txtar#out (docs/page.md:8)"},
		{name: "include marker with other variables", ko: replace("#out -->", "#out PORT=1 -->"),
			want: "docs/ko/page.md:9: include marker x/t.txtar#out PORT=1, where docs/page.md:8 has x/t.txtar#out"},
		{name: "fence language", ko: replace("```sh", "```bash"),
			want: "docs/ko/page.md:14: fenced block ```bash, where docs/page.md:13 has ```sh"},
		{name: "command changed", ko: replace("go run ./x   #", "go run ./y   #"),
			want: "block that is not included (its lines, comments aside)"},
		{name: "heading without id", ko: replace("## 원본의 주장 { #claims }", "## 원본의 주장"),
			want: `docs/ko/page.md:19: heading "원본의 주장" has no { #id }: write the English heading's id, { #claims }`},
		{name: "heading with another id", ko: replace("{ #claims }", "{ #_1 }"),
			want: "docs/ko/page.md:19: heading h2 #_1, where docs/page.md:18 has h2 #claims"},
		{name: "heading level", ko: replace("## 원본의", "### 원본의"),
			want: "heading h3 #claims, where docs/page.md:18 has h2 #claims"},
		{name: "image", ko: replace("diagrams/d.svg", "diagrams/e.svg"),
			want: "image diagrams/e.svg, where docs/page.md:6 has diagrams/d.svg"},
		{name: "dropped link", ko: replace("[다른 페이지](other.md)도", "다른 페이지도"),
			want: "docs/ko/page.md: link to other.md 0 times (lines []), docs/page.md 1 times (lines [4])"},
		{name: "dropped footnote reference", ko: replace("입니다.[^fn]", "입니다."),
			want: "footnote reference fn 0 times"},
		{name: "block title not translated", ko: replace(`!!! note "참고"`, `!!! note "Note"`),
			want: `docs/ko/page.md:26: the block title "Note" is not translated`},
		{name: "admonition type", ko: replace(`!!! note "참고"`, `!!! warning "참고"`),
			want: "collapsed block, admonition or tab !!! warning, where docs/page.md:25 has !!! note"},
		{name: "table row dropped", ko: replace("| C02 실패한다 | `TestC02_Fails` |\n", ""),
			want: "missing table 1 (claim ids and tests) row [C02 `TestC02_Fails`]"},
		{name: "test name in another row", ko: replace("| C01 5초 안에 동작한다(4장) | `TestC01_Works` |", "| C01 5초 안에 동작한다(4장) | `TestC02_Fails` |"),
			want: "table 1 (claim ids and tests) row [C01 `TestC02_Fails`], where docs/page.md:20 has row [C01 `TestC01_Works`]"},
		{name: "a number of a table row", ko: replace("5초 안에", "6초 안에"),
			want: "docs/ko/page.md:23: no 5 in this table row, which its English row (docs/page.md:22) states"},
		{name: "identifier dropped", ko: replace("`jetstream.New`가", "jetstream 패키지의 New가"),
			want: "no inline code `jetstream.New` (docs/page.md:3)"},
		{name: "not translated", ko: func(string) string { return englishWithIDs() },
			want: "Hangul is 0% of its prose's letters"},
		{name: "English prose changed", en: replace("Some prose", "Some new prose"),
			want: "docs/ko/page.md:1: stale: the English prose of docs/page.md changed since it was translated"},
		{name: "wrong stamp", after: func(t *testing.T, root string) {
			write(t, root, "docs/ko/page.md", stamp{"docs/other.md", "0"}.String()+"\n"+koreanPage)
		}, want: "docs/ko/page.md:1: the stamp names docs/other.md, not its twin docs/page.md"},
		{name: "no stamp", after: func(t *testing.T, root string) { write(t, root, "docs/ko/page.md", koreanPage) },
			want: "docs/ko/page.md:1: no stamp; its first line must be <!-- translated-from: docs/page.md sha256="},
		{name: "nav", after: func(t *testing.T, root string) {
			write(t, root, "mkdocs.ko.yml", "nav:\n  - 다른 페이지: other.md\n  - 페이지: page.md\n")
		}, want: "mkdocs.ko.yml:2: nav page other.md, where mkdocs.yml:3 has page.md"},
		{name: "diagram without a Korean twin", after: func(t *testing.T, root string) {
			os.Remove(filepath.Join(root, "docs/ko/diagrams/d.dot"))
		}, want: "docs/diagrams/d.dot has no Korean twin docs/ko/diagrams/d.dot"},
		{name: "diagram with another edge", after: func(t *testing.T, root string) {
			write(t, root, "docs/ko/diagrams/d.dot", "digraph d {\n  a [label=\"발행자\"];\n  a -> c;\n}\n")
		}, want: "docs/ko/diagrams/d.dot: has edge a -> c 1 times"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			en, ko := englishPage, koreanPage
			if tc.ko != nil {
				ko = tc.ko(ko)
			}
			root := fixture(t, en, ko)
			if tc.en != nil {
				write(t, root, "docs/page.md", tc.en(en))
			}
			if tc.after != nil {
				tc.after(t, root)
			}
			problems, err := Check(root, tc.pending)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(problems, "\n")
			if !strings.Contains(got, tc.want) {
				t.Errorf("no problem containing\n%s\ngot:\n%s", tc.want, got)
			}
		})
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("the fixture has no " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func englishWithIDs() string {
	return strings.NewReplacer("# A page\n", "# A page { #a-page }\n", "## Claims\n", "## Claims { #claims }\n").Replace(englishPage)
}

// What a translation follows is the prose: a docsync refresh of an included
// block, or rewrapped lines, leave it up to date.
func TestIncludedBodiesAndWrappingAreNotProse(t *testing.T) {
	before := proseHash(englishPage)
	refreshed := strings.Replace(englishPage, "hello\n", "hello\nworld\n", 1)
	rewrapped := strings.Replace(englishPage, "[link](other.md#anchor),\nwhich wraps.", "[link](other.md#anchor), which\n  wraps.", 1)
	for name, text := range map[string]string{"refreshed": refreshed, "rewrapped": rewrapped} {
		if text == englishPage {
			t.Fatalf("%s: the fixture did not change", name)
		}
		if h := proseHash(text); h != before {
			t.Errorf("%s: hash %s, want %s", name, h, before)
		}
	}
	for name, text := range map[string]string{
		"a command": strings.Replace(englishPage, "go run ./x", "go run ./y", 1),
		"a comment": strings.Replace(englishPage, "# terminal 1", "# terminal 2", 1),
		"a word":    strings.Replace(englishPage, "Inside.", "Outside.", 1),
	} {
		if proseHash(text) == before {
			t.Errorf("changing %s left the hash as it was", name)
		}
	}
}

// -new starts a page that passes every structural check; only its prose is
// left to translate.
func TestStartPage(t *testing.T) {
	root := fixture(t, englishPage, "")
	if _, err := startPage(root, "page.md"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "docs/ko/page.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := stamp{"docs/page.md", proseHash(englishPage)}.String() + "\n" + englishWithIDs()
	if string(data) != want {
		t.Errorf("docs/ko/page.md:\n%s\nwant:\n%s", data, want)
	}
	problems, err := Check(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range problems {
		if !strings.Contains(problem, "Hangul is 0%") && !strings.Contains(problem, "is not translated") {
			t.Errorf("problem %q, want only the untranslated prose and block titles", problem)
		}
	}
	if len(problems) == 0 {
		t.Error("no problem with an untranslated page")
	}
	if _, err := startPage(root, "page.md"); err == nil {
		t.Error("a second -new overwrote the page")
	}
}

// -changes finds the English version a stale page was translated from in
// git's history and prints the prose diff since; -stamp then records it.
func TestChangesAndStamp(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root := fixture(t, englishPage, koreanPage)
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("init", "-q")
	run("add", ".")
	run("commit", "-q", "-m", "translated")
	write(t, root, "docs/page.md", strings.Replace(englishPage, "Inside.", "Inside, and more.", 1))
	run("commit", "-q", "-a", "-m", "English prose changed")

	var out bytes.Buffer
	if err := printChanges(&out, root, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"docs/ko/page.md was translated from docs/page.md as of commit", "-    Inside.", "+    Inside, and more.", "go run ./tools/translation -stamp docs/ko/page.md"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-changes printed no %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "hello") {
		t.Errorf("-changes printed an included block's body:\n%s", out.String())
	}

	if _, err := stampPage(root, "page.md"); err != nil {
		t.Fatal(err)
	}
	if problems, _ := Check(root, nil); len(problems) > 0 {
		t.Errorf("after -stamp: %q", problems)
	}
	out.Reset()
	if err := printChanges(&out, root, nil); err != nil || !strings.Contains(out.String(), "no Korean page is stale") {
		t.Errorf("after -stamp, -changes says %q (%v)", out.String(), err)
	}
}

func TestHeadingIDs(t *testing.T) {
	hs := []heading{
		{text: "03 · Create a stream"},
		{text: "The seed's scenario: example_stream"},
		{text: "`Close` or `Drain`"},
		{text: "NATS_URL"},
		{text: "1. The stream orders by arrival"},
		{text: "Run it"},
		{text: "Run it"},
		{text: "Explicit", id: "run-it_2"},
		{text: "What \"stored\" means: the [sync interval](x.md)"},
	}
	want := []string{"03-create-a-stream", "the-seeds-scenario-example_stream", "close-or-drain", "nats_url",
		"1-the-stream-orders-by-arrival", "run-it", "run-it_1", "run-it_2", "what-stored-means-the-sync-interval"}
	got := headingIDs(hs)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("headingIDs:\n got %q\nwant %q", got, want)
	}
}

func TestLetters(t *testing.T) {
	for _, tc := range []struct {
		prose         string
		hangul, other int
	}{
		{"스트림은 JetStream의 저장소다.", 9, 0},
		{"the server stores it", 0, 17},
		{"nats.go, example_stream, NATS_URL, C22, MaxAge, nats-server, 9s", 0, 0},
		{"Go로 [장](01-server.md)을 본다[^fn]", 5, 2},
	} {
		if h, o := letters(tc.prose); h != tc.hangul || o != tc.other {
			t.Errorf("letters(%q) = %d Hangul, %d other; want %d, %d", tc.prose, h, o, tc.hangul, tc.other)
		}
	}
}
