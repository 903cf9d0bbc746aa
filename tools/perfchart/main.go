// Command perfchart draws chapter 13's chart, docs/charts/performance.svg,
// from the results the chapter's bench role wrote on a named machine,
// chapters/13-performance/testdata/results.txtar, and the Korean edition's
// twin, docs/ko/charts/performance.svg, whose prose labels are Korean (mode
// names, numbers and identifiers stay as they are). The SVGs are committed, so
// the site needs no plotting library and shows the charts with no network.
//
//	go run ./tools/perfchart          draw both charts from the committed results
//	go run ./tools/perfchart -check   exit 1 if a committed chart differs from a fresh drawing
//
// It checks that the chart matches the committed results, not that a new
// run would measure the same: rates depend on the machine and its load.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"
)

func main() {
	check := flag.Bool("check", false, "report a chart that differs from a fresh drawing instead of writing it")
	results := flag.String("results", "chapters/13-performance/testdata/results.txtar", "the bench role's results")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: perfchart [-check] [-results FILE]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	failed := false
	for _, c := range Charts {
		if err := run(*results, c.Path, c.Labels, *check); err != nil {
			fmt.Fprintln(os.Stderr, "perfchart:", err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// Chart is one edition's chart: where it is, relative to the repository
// root, and the words it is drawn with.
type Chart struct {
	Path   string
	Labels Labels
}

// Charts are the English chart and its Korean twin (the Korean build lays
// docs/ko over docs, so the Korean page shows the second).
var Charts = []Chart{
	{filepath.Join("docs", "charts", "performance.svg"), English},
	{filepath.Join("docs", "ko", "charts", "performance.svg"), Korean},
}

// Labels are the prose of a chart in one language. The rest of the chart,
// the rows' names (sync, unbounded, Consume, Fetch(10)), the rates, the
// ratios and msgs/s, is the same in every language.
type Labels struct {
	Publishing, Consuming string // the two panels' titles
	Window                string // a window's bar, given its size
	Refused               string // after a ratio, given the refused and all messages
	Unnamed               string // the machine, when the results name none
	Title                 string // the SVG's title, given the machine
	Medians               string // the first line, given the machine
	Ratio                 string // the second line
}

var (
	English = Labels{
		Publishing: "Publishing 128 B: async window W, and sync (msgs/s)",
		Consuming:  "Consuming the same: one way or another (msgs/s)",
		Window:     "window %s",
		Refused:    ", %s of %s refused (median)",
		Unnamed:    "an unnamed machine",
		Title:      "Messages a second by publish window and by way of consuming, measured on %s",
		Medians:    "Medians measured on %s; a log scale.",
		Ratio:      "× is a bar's ratio to window 500, or to Consume, within each repetition.",
	}
	Korean = Labels{
		Publishing: "128 B 발행: 비동기 발행 창 W와 sync (msgs/s)",
		Consuming:  "같은 메시지를 소비하는 여러 방법 (msgs/s)",
		Window:     "창 %s",
		Refused:    ", 거부 %s/%s (중앙값)",
		Unnamed:    "이름을 밝히지 않은 기계",
		Title:      "발행 창과 소비 방법에 따른 초당 메시지 수, 측정한 기계: %s",
		Medians:    "중앙값, 로그 눈금. 측정한 기계: %s",
		Ratio:      "×는 각 반복 안에서 구한, 창 500 또는 Consume에 대한 막대의 비율입니다.",
	}
)

func run(resultsPath, outPath string, l Labels, check bool) error {
	data, err := os.ReadFile(resultsPath)
	if err != nil {
		return err
	}
	svg, err := Draw(data, l)
	if err != nil {
		return fmt.Errorf("%s: %w", resultsPath, err)
	}
	if !check {
		if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
			return err
		}
		return os.WriteFile(outPath, svg, 0o644)
	}
	committed, err := os.ReadFile(outPath)
	if err != nil {
		return fmt.Errorf("%w (draw it: go run ./tools/perfchart)", err)
	}
	if !bytes.Equal(committed, svg) {
		return fmt.Errorf("%s differs from a drawing of %s; run \"go run ./tools/perfchart\" and review the diff", outPath, resultsPath)
	}
	return nil
}

// Table is one file of the results: a header line, then rows of cells
// separated by two spaces or more; lines starting with # are comments.
type Table struct {
	Header []string
	Rows   [][]string
}

var cellSep = regexp.MustCompile(`\s{2,}`)

// Tables reads every file of a results archive.
func Tables(archive []byte) map[string]Table {
	tables := map[string]Table{}
	for _, f := range txtar.Parse(archive).Files {
		var t Table
		for _, line := range strings.Split(string(f.Data), "\n") {
			if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			cells := cellSep.Split(line, -1)
			if t.Header == nil {
				t.Header = cells
				continue
			}
			t.Rows = append(t.Rows, cells)
		}
		tables[f.Name] = t
	}
	return tables
}

// bar is one bar of the chart: a label and a rate.
type bar struct {
	label string
	rate  float64
	note  string
}

// panel is one group of bars, from one table of the results.
type panel struct {
	title string
	bars  []bar
}

// panels picks what the chart shows: how the publish window and the way of
// consuming change the rate.
func panels(tables map[string]Table, l Labels) ([]panel, error) {
	window, consume := tables["window"], tables["consume"]
	if window.Rows == nil || consume.Rows == nil {
		return nil, fmt.Errorf("the results need a window and a consume table")
	}
	p := []panel{{title: l.Publishing}, {title: l.Consuming}}
	for i, t := range []Table{window, consume} {
		for _, row := range t.Rows {
			if len(row) < 4 {
				return nil, fmt.Errorf("row %q: too few cells", strings.Join(row, " "))
			}
			rate, err := strconv.ParseFloat(row[2], 64)
			if err != nil {
				return nil, fmt.Errorf("row %q: %w", strings.Join(row, " "), err)
			}
			label, note := row[0], "×"+row[3]
			if i == 0 && label != "sync" {
				label = fmt.Sprintf(l.Window, label)
			}
			for c, h := range t.Header { // a rate that counts refused messages says so
				if h == "refused" && c < len(row) && row[c] != "0" {
					note += fmt.Sprintf(l.Refused, row[c], row[1])
				}
			}
			p[i].bars = append(p[i].bars, bar{label: label, rate: rate, note: note})
		}
	}
	return p, nil
}

// Draw renders the chart in the words of l: horizontal bars on a log scale,
// each labelled with its rate and its ratio to the row its table compares with.
func Draw(archive []byte, l Labels) ([]byte, error) {
	tables := Tables(archive)
	ps, err := panels(tables, l)
	if err != nil {
		return nil, err
	}
	machine := l.Unnamed
	m := tables["machine"] // key and value on each line, no header
	for _, row := range append([][]string{m.Header}, m.Rows...) {
		if len(row) == 2 && row[0] == "machine" {
			machine = row[1]
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range ps {
		for _, b := range p.bars {
			lo, hi = min(lo, b.rate), max(hi, b.rate)
		}
	}
	first, last := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	const width, left, right, rowH = 760, 190, 620, 22
	x := func(rate float64) float64 { return left + (right-left)*(math.Log10(rate)-first)/(last-first) }

	var b strings.Builder
	y := 62.0
	var body strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&body, "<text x=\"10\" y=\"%.0f\" font-weight=\"bold\">%s</text>\n", y, esc(p.title))
		y += 10
		for _, bb := range p.bars {
			fmt.Fprintf(&body, "<text x=\"%d\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n", left-8, y+15, esc(bb.label))
			fmt.Fprintf(&body, "<rect x=\"%d\" y=\"%.0f\" width=\"%.1f\" height=\"16\" fill=\"#3f51b5\"/>\n", left, y+3, x(bb.rate)-left)
			fmt.Fprintf(&body, "<text x=\"%.1f\" y=\"%.0f\">%s %s</text>\n", x(bb.rate)+6, y+15, rateText(bb.rate), esc(bb.note))
			y += rowH
		}
		y += 24
	}
	top, bottom := 66.0, y-30
	var grid strings.Builder
	for d := first; d <= last; d++ {
		gx := x(math.Pow(10, d))
		fmt.Fprintf(&grid, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ccc\"/>\n", gx, top, gx, bottom)
		fmt.Fprintf(&grid, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#666\">%s</text>\n", gx, bottom+14, rateText(math.Pow(10, d)))
	}
	height := y + 10
	fmt.Fprintf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n", width, height, width, height)
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(fmt.Sprintf(l.Title, machine)))
	fmt.Fprintf(&b, "<rect width=\"%d\" height=\"%.0f\" fill=\"white\"/>\n", width, height)
	fmt.Fprintf(&b, "<text x=\"10\" y=\"16\" fill=\"#666\">%s</text>\n", esc(fmt.Sprintf(l.Medians, machine)))
	fmt.Fprintf(&b, "<text x=\"10\" y=\"32\" fill=\"#666\">%s</text>\n", esc(l.Ratio))
	b.WriteString(grid.String())
	b.WriteString(body.String())
	b.WriteString("</svg>\n")
	return []byte(b.String()), nil
}

// rateText writes a rate as 7.1k, 146k or 3.7M.
func rateText(r float64) string {
	unit, div := "", 1.0
	switch {
	case r >= 1e6:
		unit, div = "M", 1e6
	case r >= 1e3:
		unit, div = "k", 1e3
	}
	v := r / div
	if v < 10 {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0") + unit
	}
	return fmt.Sprintf("%.0f", v) + unit
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
