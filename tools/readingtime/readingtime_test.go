package readingtime

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// testdata/sample.md holds every case the measure distinguishes: tags,
// images, comments, tables, fences of each kind, collapsed and open blocks,
// and Python's line breaks and spaces beyond ASCII. The script says:
//
//	0.4 min      56 words     2 Go     2 output    2 shell  sample.md
//
// and measure() returns 0.4434782608695652 minutes.
func TestPageMeasuresAsTheScriptDoes(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("testdata", "sample.md"))
	if err != nil {
		t.Fatal(err)
	}
	got := Page(string(text))
	if want := (Measure{Words: 56, Go: 2, Output: 2, Shell: 2}); got != want {
		t.Errorf("sample.md: %+v, want %+v", got, want)
	}
	if got.Minutes() != 0.4434782608695652 {
		t.Errorf("sample.md: %v minutes, want 0.4434782608695652", got.Minutes())
	}
}

// Where the script is at hand (READTIME=path/to/readtime), every docs page
// measures the same with both.
func TestPagesMeasureAsTheScriptDoes(t *testing.T) {
	script := os.Getenv("READTIME")
	if script == "" {
		t.Skip("set READTIME to the readtime script to compare every page with it")
	}
	pages, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(script, pages...).Output()
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(pages) {
		t.Fatalf("%s printed %d lines for %d pages", script, len(lines), len(pages))
	}
	for i, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		m := Page(string(text))
		want := fmt.Sprintf("%5.1f min  %6d words  %4d Go  %4d output  %3d shell  %s", m.Minutes(), m.Words, m.Go, m.Output, m.Shell, page)
		if lines[i] != want {
			t.Errorf("the script says\n%s\nthis package says\n%s", lines[i], want)
		}
	}
}

// A reading-path line of docs/index.md: a table row that links a chapter
// page and says how many minutes it takes.
var (
	chapterLink = regexp.MustCompile(`\]\(([0-9][0-9]-[^)#]+\.md)\)`)
	minutesCell = regexp.MustCompile(`\|\s*(\d+) min\s*\|`)
)

// docs/index.md gives a reading path with the minutes each chapter takes.
// They are the chapter page's measure rounded up to a whole minute, so
// that they cannot drift from the pages: every chapter page has its line,
// and a page that changes tells exactly which line to change.
func TestIndexStatesEachChaptersMinutes(t *testing.T) {
	docs := filepath.Join("..", "..", "docs")
	index, err := os.ReadFile(filepath.Join(docs, "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages, err := filepath.Glob(filepath.Join(docs, "[0-9][0-9]-*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no chapter pages in docs/")
	}
	stated := map[string]bool{}
	for n, line := range strings.Split(string(index), "\n") {
		link := chapterLink.FindStringSubmatch(line)
		cell := minutesCell.FindStringSubmatch(line)
		if link == nil || cell == nil {
			continue
		}
		page := link[1]
		if stated[page] {
			t.Errorf("docs/index.md:%d: a second reading-path line for %s", n+1, page)
			continue
		}
		stated[page] = true
		text, err := os.ReadFile(filepath.Join(docs, page))
		if err != nil {
			t.Errorf("docs/index.md:%d: %s: %v", n+1, page, err)
			continue
		}
		minutes := Page(string(text)).Minutes()
		want := int(math.Ceil(minutes))
		if got, _ := strconv.Atoi(cell[1]); got != want {
			t.Errorf("docs/index.md:%d: %s reads in %.1f min, so its line should say %d min, not %s min", n+1, page, minutes, want, cell[1])
		}
	}
	for _, page := range pages {
		if name := filepath.Base(page); !stated[name] {
			t.Errorf("docs/index.md: no reading-path line for %s: add a row that links it and says how many minutes it takes (| N min |)", name)
		}
	}
}

// MaxChapterMinutes is the chapter form's budget: the open part of every
// chapter page reads in this many minutes or less. Depth goes into collapsed
// blocks or deep-dive pages, which the measure does not count.
const MaxChapterMinutes = 8

func TestEveryChapterPageReadsInEightMinutes(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("..", "..", "docs", "[0-9][0-9]-*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if minutes := Page(string(text)).Minutes(); minutes > MaxChapterMinutes {
			t.Errorf("%s: its open part reads in %.1f min, over %d: move depth into a collapsed block (??? note \"Deep dive: …\") or a deep-dive page", filepath.Base(page), minutes, MaxChapterMinutes)
		}
	}
}
