// Package errata reads the seed errata table in docs/errata.md and the test
// functions of the chapters, so that a test can hold the two together.
//
// The table must look exactly like this (one row per claim, C01 to C46, in order):
//
//	| ID | Claim | Seed text | Verdict | Tests | Chapter |
//	| --- | --- | --- | --- | --- | --- |
//	| C22 | `max_age=9 * 10**9` is nine seconds | — | Wrong: about 285 years | `TestC22_SeedMaxAgeIs285Years` | [03 · Create a stream](03-stream.md#the-seeds-claims-in-this-chapter) |
//	| C03 | JetStream can replay earlier messages | 이전에 전송된 … | Correct | **pending** | coming: 07 · Replay |
//
// Cells are separated by " | " and may not contain "|" themselves. Seed text
// is "—" when the seed has no words for the claim. Tests is either
// **pending** or a comma-separated list of `TestName` or `ExampleName`
// functions from chapters/**/*_test.go; a name that several chapters use
// (such as Example) is written `04-pubsub.Example`. A row with tests links
// its Chapter cell to a chapter page, docs/NN-name.md, which must name each
// of the row's tests. A claim that several chapters answer links each of
// their pages, separated by ", ": then each test must be named on one of
// them, and each page must name one of the tests. While no page is written
// yet, the cell starts with "coming" instead (as pending rows do).
package errata

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Header and Separator are the table's first two lines.
const (
	Header    = "| ID | Claim | Seed text | Verdict | Tests | Chapter |"
	Separator = "| --- | --- | --- | --- | --- | --- |"
	Pending   = "**pending**"
	Coming    = "coming" // starts the Chapter cell of a row whose chapter page is not written yet
)

// Row is one claim of the table.
type Row struct {
	Line    int // 1-based line in the file, for messages
	ID      string
	Claim   string
	Seed    string
	Verdict string
	Tests   []string // empty when Pending is set
	Pending bool
	Chapter string // the Chapter cell as written
}

// Parse reads the errata table from a Markdown page. It checks the shape of
// each row, not what the rows refer to.
func Parse(page string) ([]Row, error) {
	lines := strings.Split(page, "\n")
	start := -1
	for i, line := range lines {
		if line == Header {
			if start >= 0 {
				return nil, fmt.Errorf("line %d: a second errata table; there must be one", i+1)
			}
			start = i
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("no table with the header %q", Header)
	}
	if start+1 >= len(lines) || lines[start+1] != Separator {
		return nil, fmt.Errorf("line %d: the header must be followed by %q", start+2, Separator)
	}
	var rows []Row
	for i := start + 2; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
		row, err := parseRow(lines[i])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		row.Line = i + 1
		rows = append(rows, row)
	}
	return rows, nil
}

var (
	idPattern   = regexp.MustCompile(`^C[0-9]{2}$`)
	testPattern = regexp.MustCompile("^`((?:[0-9]{2}-[a-z0-9-]+\\.)?(?:Test|Example)[A-Za-z0-9_]*)`$")
)

func parseRow(line string) (Row, error) {
	if !strings.HasPrefix(line, "| ") || !strings.HasSuffix(line, " |") {
		return Row{}, fmt.Errorf("a row must start with %q and end with %q", "| ", " |")
	}
	cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "| "), " |"), " | ")
	if len(cells) != 6 {
		return Row{}, fmt.Errorf("%d cells, want 6 (a cell may not contain \"|\")", len(cells))
	}
	for i, c := range cells {
		if strings.TrimSpace(c) == "" || strings.Contains(c, "|") {
			return Row{}, fmt.Errorf("cell %d is empty or contains \"|\"", i+1)
		}
	}
	row := Row{ID: cells[0], Claim: cells[1], Seed: cells[2], Verdict: cells[3], Chapter: cells[5]}
	if !idPattern.MatchString(row.ID) {
		return Row{}, fmt.Errorf("id %q is not C followed by two digits", row.ID)
	}
	if cells[4] == Pending {
		row.Pending = true
		return row, nil
	}
	for _, t := range strings.Split(cells[4], ", ") {
		m := testPattern.FindStringSubmatch(t)
		if m == nil {
			return Row{}, fmt.Errorf("%s: tests cell item %q is not `TestName`, `ExampleName` or `NN-chapter.Name`, and the cell is not %s", row.ID, t, Pending)
		}
		row.Tests = append(row.Tests, m[1])
	}
	return row, nil
}

// ChapterLink matches the Chapter cell of a row with tests: one link to a
// chapter page, with an optional #anchor.
var ChapterLink = regexp.MustCompile(`^\[[^\]]+\]\(([0-9]{2}-[a-z0-9-]+\.md)(#[a-z0-9-]+)?\)$`)

// TestFuncs maps each top-level Test or Example function in root/**/*_test.go
// to the directories (relative to root, with slashes) that define it.
func TestFuncs(root string) (map[string][]string, error) {
	funcs := make(map[string][]string)
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		file, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		dir, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return fmt.Errorf("relative path of %s: %w", path, err)
		}
		for _, decl := range file.Decls {
			name, ok := funcName(decl)
			if ok && (strings.HasPrefix(name, "Test") || strings.HasPrefix(name, "Example")) {
				funcs[name] = append(funcs[name], filepath.ToSlash(dir))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the test functions under %s: %w", root, err)
	}
	return funcs, nil
}

// funcName returns the name of a top-level function declaration (not a method).
func funcName(decl ast.Decl) (string, bool) {
	fn, ok := decl.(*ast.FuncDecl)
	if !ok || fn.Recv != nil {
		return "", false
	}
	return fn.Name.Name, true
}

// Claims is the number of claims in the seed ledger: ids C01 to C46.
const Claims = 46

// claimTest matches a test named after a claim, such as TestC22_... or ExampleC22...
var claimTest = regexp.MustCompile(`^(?:Test|Example)(C[0-9]{2})(?:_|$)`)

// Check returns one problem per way the rows break the rules in the package
// comment. funcs is TestFuncs of the chapters; docsDir holds the chapter
// pages. With allowPending false, a pending row is a problem, and so are a
// row with tests but no chapter page and a claim test in the chapters that
// its row does not name.
func Check(rows []Row, funcs map[string][]string, docsDir string, allowPending bool) ([]string, error) {
	var problems []string
	seen := make(map[string]int)
	for _, row := range rows {
		if prev, ok := seen[row.ID]; ok {
			problems = append(problems, fmt.Sprintf("line %d: %s again (first on line %d)", row.Line, row.ID, prev))
			continue
		}
		seen[row.ID] = row.Line
		if n := claimNumber(row.ID); n < 1 || n > Claims {
			problems = append(problems, fmt.Sprintf("line %d: %s is outside C01-C%02d", row.Line, row.ID, Claims))
		}
		if row.Pending {
			if !allowPending {
				problems = append(problems, fmt.Sprintf("line %d: %s is pending; name the tests that check it", row.Line, row.ID))
			}
			continue
		}
		var names []string
		for _, t := range row.Tests {
			chapter, name, qualified := strings.Cut(t, ".")
			if !qualified {
				chapter, name = "", t
			}
			names = append(names, name)
			dirs, ok := funcs[name]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("line %d: %s names %s, which is not a function in chapters/**/*_test.go", row.Line, row.ID, name))
			case qualified && !slices.Contains(dirs, chapter):
				problems = append(problems, fmt.Sprintf("line %d: %s names %s, but chapters/%s has no such function (it is in %s)", row.Line, row.ID, t, chapter, strings.Join(dirs, ", ")))
			case !qualified && len(dirs) > 1:
				problems = append(problems, fmt.Sprintf("line %d: %s names %s, which several chapters define (%s): write NN-chapter.%s", row.Line, row.ID, name, strings.Join(dirs, ", "), name))
			}
			if c := claimTest.FindStringSubmatch(name); c != nil && c[1] != row.ID {
				problems = append(problems, fmt.Sprintf("line %d: %s names %s, a test of claim %s", row.Line, row.ID, name, c[1]))
			}
		}
		if strings.HasPrefix(row.Chapter, Coming) {
			// Tested, but the chapter page is not written yet.
			if !allowPending {
				problems = append(problems, fmt.Sprintf("line %d: %s links no chapter page; link the page that explains the claim", row.Line, row.ID))
			}
			continue
		}
		var pages []string // the linked pages' texts
		var links []string
		for _, link := range strings.Split(row.Chapter, ", ") {
			m := ChapterLink.FindStringSubmatch(link)
			if m == nil {
				problems = append(problems, fmt.Sprintf("line %d: %s: the Chapter cell must be one link like [03 · Create a stream](03-stream.md#anchor), or several separated by \", \", or start with %q, not %q", row.Line, row.ID, Coming, row.Chapter))
				pages = nil
				break
			}
			page, err := os.ReadFile(filepath.Join(docsDir, m[1]))
			if os.IsNotExist(err) {
				problems = append(problems, fmt.Sprintf("line %d: %s links to %s, which does not exist", row.Line, row.ID, m[1]))
				pages = nil
				break
			}
			if err != nil {
				return nil, fmt.Errorf("read chapter page: %w", err)
			}
			pages, links = append(pages, string(page)), append(links, m[1])
		}
		for _, name := range names {
			if len(pages) > 0 && !slices.ContainsFunc(pages, func(page string) bool { return strings.Contains(page, "`"+name+"`") }) {
				unnamed := links[0] + " does not mention it"
				if len(links) > 1 {
					unnamed = "none of " + strings.Join(links, ", ") + " mentions it"
				}
				problems = append(problems, fmt.Sprintf("line %d: %s names %s, but %s: link the page that explains the claim", row.Line, row.ID, name, unnamed))
			}
		}
		for i, page := range pages {
			if len(pages) > 1 && !slices.ContainsFunc(names, func(name string) bool { return strings.Contains(page, "`"+name+"`") }) {
				problems = append(problems, fmt.Sprintf("line %d: %s links to %s, which names none of its tests", row.Line, row.ID, links[i]))
			}
		}
	}
	for n := 1; n <= Claims; n++ {
		if id := fmt.Sprintf("C%02d", n); seen[id] == 0 {
			problems = append(problems, fmt.Sprintf("%s has no row", id))
		}
	}
	if !allowPending {
		named := make(map[string]bool)
		for _, row := range rows {
			for _, t := range row.Tests {
				_, name, ok := strings.Cut(t, ".")
				if !ok {
					name = t
				}
				named[row.ID+" "+name] = true
			}
		}
		for _, name := range slices.Sorted(maps.Keys(funcs)) {
			if c := claimTest.FindStringSubmatch(name); c != nil && !named[c[1]+" "+name] {
				problems = append(problems, fmt.Sprintf("%s checks claim %s, but the row of %s does not name it", name, c[1], c[1]))
			}
		}
	}
	return problems, nil
}

func claimNumber(id string) int {
	var n int
	if _, err := fmt.Sscanf(id, "C%d", &n); err != nil {
		return 0
	}
	return n
}
