package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
)

// series is one quantity over the repetitions.
type series []float64

func (s series) median() float64 {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

func (s series) min() float64 { return slices.Min(s) }
func (s series) max() float64 { return slices.Max(s) }

// ratios divides two series repetition by repetition: the ratio of two
// things measured one after the other, on a machine in one state.
func ratios(num, den series) series {
	r := make(series, min(len(num), len(den)))
	for i := range r {
		r[i] = num[i] / den[i]
	}
	return r
}

// measured holds a step's samples: by measurement name, by quantity.
type measured map[string]map[string]series

func (m measured) get(name, key string) series { return m[name][key] }

// interleave runs each named measurement once per repetition, in an order
// that turns by one from each repetition to the next, so that no
// measurement always runs first, or always right after another. setup, if
// not nil, runs at the start of each repetition and is not measured.
func (b *bench) interleave(ctx context.Context, names []string, setup func(context.Context) error, measure func(context.Context, string) (sample, error)) (measured, error) {
	m := measured{}
	for rep := range b.reps {
		if setup != nil {
			if err := setup(ctx); err != nil {
				return nil, err
			}
		}
		for i := range names {
			name := names[(i+rep)%len(names)]
			fmt.Fprintf(b.log, "bench:   %d/%d %s\n", rep+1, b.reps, name)
			load := loadAverage()
			s, err := measure(ctx, name)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if m[name] == nil {
				m[name] = map[string]series{}
			}
			s["load"] = load
			for k, v := range s {
				m[name][k] = append(m[name][k], v)
			}
		}
	}
	return m, nil
}

// count scales a message count, keeping at least a few hundred.
func (b *bench) count(n int) int { return max(int(float64(n)*b.scale), 200) }

// tableText builds a results table: comment lines, then columns that
// tabwriter aligns. Every cell is one word, so the rows split on spaces.
type tableText struct {
	comments []string
	rows     [][]string
}

func newTable(comments ...string) *tableText { return &tableText{comments: comments} }

func (t *tableText) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *tableText) String() string {
	var b strings.Builder
	for _, c := range t.comments {
		fmt.Fprintf(&b, "# %s\n", c)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, row := range t.rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		panic(err) // a strings.Builder does not fail
	}
	return b.String()
}

// Cell formats.
func rateCell(s series) string  { return fmt.Sprintf("%.0f", s.median()) }
func ratioCell(s series) string { return fmt.Sprintf("%.2f", s.median()) }
func rangeCell(s series) string { return fmt.Sprintf("%.2f-%.2f", s.min(), s.max()) }
func microsCell(s series) string {
	return fmt.Sprintf("%.0f", s.median())
}
func loadCell(s series) string {
	if s.min() < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f-%.1f", s.min(), s.max())
}

// loads joins the load samples of several measurements.
func loads(m measured, names ...string) series {
	var all series
	for _, n := range names {
		all = append(all, m.get(n, "load")...)
	}
	return all
}
