package errata

import (
	"os"
	"strings"
	"testing"
)

// allowPending lets rows without a test, or without a chapter page ("coming"),
// through while chapters are being written. Every chapter is in, so it is
// false: such a row fails, and so does a claim test that its row omits.
const allowPending = false

// TestErrataTable checks docs/errata.md against the chapters' tests. The
// table's format is described in the package comment (errata.go).
func TestErrataTable(t *testing.T) {
	page, err := os.ReadFile("../../docs/errata.md")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Parse(string(page))
	if err != nil {
		t.Fatalf("docs/errata.md: %v", err)
	}
	funcs, err := TestFuncs("../../chapters")
	if err != nil {
		t.Fatal(err)
	}
	problems, err := Check(rows, funcs, "../../docs", allowPending)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("docs/errata.md: %s", p)
	}
	pending := 0
	for _, row := range rows {
		if row.Pending {
			pending++
		}
	}
	t.Logf("%d claims, %d with tests, %d pending", len(rows), len(rows)-pending, pending)
}

// The checker itself must catch each kind of mistake.
func TestCheckFindsMistakes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/03-stream.md", []byte("`TestC22_Real` and `TestC04_Real`, `TestC14_First`, `TestC15_Real`"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/10-cluster.md", []byte("`TestC14_Second`"), 0o644); err != nil {
		t.Fatal(err)
	}
	funcs := map[string][]string{
		"TestC22_Real":    {"03-stream"},
		"TestC04_Real":    {"03-stream"},
		"TestC12_Real":    {"05-request-reply"},
		"TestC13_Real":    {"03-stream"},
		"TestC05_Omitted": {"03-stream"},
		"Example":         {"02-client", "03-stream"},
		"TestC14_First":   {"03-stream"},
		"TestC14_Second":  {"10-cluster"},
		"TestC15_Real":    {"03-stream"},
		"TestC16_Unnamed": {"10-cluster"},
	}
	two := "[03](03-stream.md#the-seeds-claims-in-this-chapter), [10](10-cluster.md#the-seeds-claims-in-this-chapter)"
	link := "[03](03-stream.md#the-seeds-claims-in-this-chapter)"
	table := Header + "\n" + Separator + "\n" +
		"| C22 | c | — | v | `TestC22_Real` | " + link + " |\n" +
		"| C22 | c | — | v | " + Pending + " | coming |\n" + // duplicate
		"| C03 | c | — | v | `TestC03_Missing` | " + link + " |\n" + // no such test
		"| C07 | c | — | v | `TestC04_Real` | " + link + " |\n" + // another claim's test
		"| C08 | c | — | v | `Example` | " + link + " |\n" + // ambiguous
		"| C09 | c | — | v | `01-server.TestC22_Real` | " + link + " |\n" + // wrong chapter
		"| C10 | c | — | v | `TestC22_Real` | [x](09-durability.md) |\n" + // page missing
		"| C11 | c | — | v | " + Pending + " | coming |\n" +
		"| C12 | c | — | v | `TestC12_Real` | coming: 05 · Request-reply |\n" + // no page yet
		"| C13 | c | — | v | `TestC13_Real` | see chapter 03 |\n" + // neither a link nor coming
		"| C14 | c | — | v | `TestC14_First`, `TestC14_Second` | " + two + " |\n" + // two chapters, each naming its test
		"| C15 | c | — | v | `TestC15_Real` | " + two + " |\n" + // 10-cluster.md names none of the tests
		"| C16 | c | — | v | `TestC16_Unnamed` | " + two + " |\n" // neither page names the test
	rows, err := Parse(table)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := Check(rows, funcs, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{
		"C22 again",
		"C03 names TestC03_Missing, which is not a function",
		"C07 names TestC04_Real, a test of claim C04",
		"C08 names Example, which several chapters define",
		"C09 names 01-server.TestC22_Real, but chapters/01-server has no such function",
		"C10 links to 09-durability.md, which does not exist",
		"C11 is pending",
		"C12 links no chapter page",
		"C13: the Chapter cell must be one link",
		"C01 has no row",
		"C46 has no row",
		"TestC05_Omitted checks claim C05, but the row of C05 does not name it",
		"C15 links to 10-cluster.md, which names none of its tests",
		"C16 names TestC16_Unnamed, but none of 03-stream.md, 10-cluster.md mentions it",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no problem reported containing %q; got:\n%s", want, got)
		}
	}
	for _, correct := range []string{"C22 names", "C14"} {
		if strings.Contains(got, correct) {
			t.Errorf("a correct row was reported (%s):\n%s", correct, got)
		}
	}

	// While chapters are written, pending rows and tested rows without a page pass.
	problems, err = Check(rows, funcs, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	got = strings.Join(problems, "\n")
	for _, unwanted := range []string{"C11", "C12", "TestC05_Omitted"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("with pending rows allowed, %s was reported:\n%s", unwanted, got)
		}
	}
}

func TestParseRejectsMalformedRows(t *testing.T) {
	for name, row := range map[string]string{
		"five cells":     "| C01 | c | — | v | `TestX` |",
		"pipe in a cell": "| C01 | c | a|b | v | `TestX` | x |",
		"bad id":         "| C1 | c | — | v | `TestX` | x |",
		"unquoted test":  "| C01 | c | — | v | TestX | x |",
		"other marker":   "| C01 | c | — | v | pending | x |",
		"empty cell":     "| C01 | c |   | v | `TestX` | x |",
	} {
		if _, err := Parse(Header + "\n" + Separator + "\n" + row + "\n"); err == nil {
			t.Errorf("%s: Parse accepted %q", name, row)
		}
	}
	if _, err := Parse("| ID | Claim |\n"); err == nil {
		t.Error("Parse accepted a page without the errata header")
	}
}

// A claim that two chapters answer links both pages: each test must be
// named on one of them, and each page must name one of the tests.
func TestARowMayLinkTwoChapterPages(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"07-replay.md": "`TestC10_Old`",
		"11-kv.md":     "`TestC10_New`",
		"08-other.md":  "nothing",
	} {
		if err := os.WriteFile(dir+"/"+name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	funcs := map[string][]string{"TestC10_Old": {"07-replay"}, "TestC10_New": {"11-kv"}, "TestC10_Nowhere": {"11-kv"}}
	seven, eleven, eight := "[07](07-replay.md#the-seeds-claims-in-this-chapter)", "[11](11-kv.md#the-seeds-claims-in-this-chapter)", "[08](08-other.md)"
	check := func(tests, chapter string) string {
		t.Helper()
		rows, err := Parse(Header + "\n" + Separator + "\n| C10 | c | — | v | " + tests + " | " + chapter + " |\n")
		if err != nil {
			t.Fatal(err)
		}
		problems, err := Check(rows, funcs, dir, true)
		if err != nil {
			t.Fatal(err)
		}
		var own []string
		for _, p := range problems {
			if !strings.HasSuffix(p, "has no row") {
				own = append(own, p)
			}
		}
		return strings.Join(own, "\n")
	}
	if got := check("`TestC10_Old`, `TestC10_New`", seven+", "+eleven); got != "" {
		t.Errorf("two pages, each naming its test: %s", got)
	}
	for _, c := range []struct{ tests, chapter, want string }{
		{"`TestC10_Old`, `TestC10_New`", seven, "C10 names TestC10_New, but 07-replay.md does not mention it"},
		{"`TestC10_Old`, `TestC10_Nowhere`", seven + ", " + eleven, "C10 names TestC10_Nowhere, but none of 07-replay.md, 11-kv.md mentions it"},
		{"`TestC10_Old`, `TestC10_New`", seven + ", " + eleven + ", " + eight, "C10 links to 08-other.md, which names none of its tests"},
		{"`TestC10_Old`", seven + ", " + seven, "C10: the Chapter cell must be one link"},
		{"`TestC10_Old`", seven + "; " + eleven, "C10: the Chapter cell must be one link"},
	} {
		if got := check(c.tests, c.chapter); !strings.Contains(got, c.want) {
			t.Errorf("tests %s, chapter %s: want a problem containing %q, got:\n%s", c.tests, c.chapter, c.want, got)
		}
	}
}
