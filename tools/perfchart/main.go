// Command perfchart draws chapter 13's chart, docs/charts/performance.svg,
// from the results the chapter's bench role wrote on a named machine,
// chapters/13-performance/testdata/results.txtar. The SVG is committed, so
// the site needs no plotting library and shows the chart with no network.
//
//	go run ./tools/perfchart          draw the chart from the committed results
//	go run ./tools/perfchart -check   exit 1 if the committed chart differs from a fresh drawing
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
	"regexp"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"
)

func main() {
	check := flag.Bool("check", false, "report a chart that differs from a fresh drawing instead of writing it")
	results := flag.String("results", "chapters/13-performance/testdata/results.txtar", "the bench role's results")
	out := flag.String("out", "docs/charts/performance.svg", "the chart")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: perfchart [-check] [-results FILE] [-out FILE]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*results, *out, *check); err != nil {
		fmt.Fprintln(os.Stderr, "perfchart:", err)
		os.Exit(1)
	}
}

func run(resultsPath, outPath string, check bool) error {
	data, err := os.ReadFile(resultsPath)
	if err != nil {
		return err
	}
	svg, err := Draw(data)
	if err != nil {
		return fmt.Errorf("%s: %w", resultsPath, err)
	}
	if !check {
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
func panels(tables map[string]Table) ([]panel, error) {
	window, consume := tables["window"], tables["consume"]
	if window.Rows == nil || consume.Rows == nil {
		return nil, fmt.Errorf("the results need a window and a consume table")
	}
	p := []panel{{title: "Publishing 128 B: async window W, and sync (msgs/s)"}, {title: "Consuming the same: one way or another (msgs/s)"}}
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
				label = "window " + label
			}
			for c, h := range t.Header { // a rate that counts refused messages says so
				if h == "refused" && c < len(row) && row[c] != "0" {
					note += fmt.Sprintf(", %s of %s refused (median)", row[c], row[1])
				}
			}
			p[i].bars = append(p[i].bars, bar{label: label, rate: rate, note: note})
		}
	}
	return p, nil
}

// Draw renders the chart: horizontal bars on a log scale, each labelled
// with its rate and its ratio to the row its table compares with.
func Draw(archive []byte) ([]byte, error) {
	tables := Tables(archive)
	ps, err := panels(tables)
	if err != nil {
		return nil, err
	}
	machine := "an unnamed machine"
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
	fmt.Fprintf(&b, "<title>Messages a second by publish window and by way of consuming, measured on %s</title>\n", esc(machine))
	fmt.Fprintf(&b, "<rect width=\"%d\" height=\"%.0f\" fill=\"white\"/>\n", width, height)
	fmt.Fprintf(&b, "<text x=\"10\" y=\"16\" fill=\"#666\">Medians measured on %s; a log scale.</text>\n", esc(machine))
	b.WriteString("<text x=\"10\" y=\"32\" fill=\"#666\">× is a bar's ratio to window 500, or to Consume, within each repetition.</text>\n")
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
