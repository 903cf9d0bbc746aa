package main

import (
	"fmt"
	"regexp"
	"strings"
)

type problem struct {
	page  string
	line  int
	msg   string
	drift bool // the block differs from its source (fixable by rewriting)
}

func (p problem) String() string { return fmt.Sprintf("%s:%d: %s", p.page, p.line, p.msg) }

var (
	markerRE = regexp.MustCompile(`^(\s*)<!-- include: (\S+)((?: \w+=\S+)*) -->\s*$`)
	fenceRE  = regexp.MustCompile("^(\\s*)(```+)\\s*([A-Za-z0-9_+-]*)")
)

// Languages whose blocks must come from a tested file.
var mustInclude = map[string]bool{"go": true, "text": true, "output": true}

// syncPage returns text with every marked block replaced by its source, and
// the problems it found.
func syncPage(root, page, text string) (string, []problem) {
	lines := strings.SplitAfter(text, "\n")
	var out strings.Builder
	var problems []problem
	report := func(line int, drift bool, format string, args ...any) {
		problems = append(problems, problem{page, line + 1, fmt.Sprintf(format, args...), drift})
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := fenceRE.FindStringSubmatch(line); m != nil {
			// An unmarked fence: copy it through, but code and output may not be hand-written.
			end := closingFence(lines, i, m[1], m[2])
			if mustInclude[m[3]] {
				report(i, false, "a ```%s block without an <!-- include: ... --> marker: include it from a tested file", m[3])
			}
			for ; i <= end && i < len(lines); i++ {
				out.WriteString(lines[i])
			}
			i--
			continue
		}
		m := markerRE.FindStringSubmatch(line)
		out.WriteString(line)
		if m == nil {
			continue
		}
		indent, source := m[1], m[2]
		if i+1 >= len(lines) {
			report(i, false, "include marker for %s is not followed by a fenced block", source)
			continue
		}
		f := fenceRE.FindStringSubmatch(lines[i+1])
		if f == nil || f[1] != indent {
			report(i, false, "include marker for %s must be followed by a fenced block at the same indentation", source)
			continue
		}
		end := closingFence(lines, i+1, f[1], f[2])
		if end >= len(lines) {
			report(i, false, "the block after the marker for %s is never closed", source)
			continue
		}
		body, err := resolve(root, source)
		if err == nil {
			body = substitute(body, m[3])
		}
		if err != nil {
			report(i, false, "%v", err)
			body = strings.Join(unindent(lines[i+2:end], indent), "")
		}
		want := indentLines(body, indent)
		have := strings.Join(lines[i+2:end], "")
		if err == nil && want != have {
			report(i, true, "block differs from %s", source)
		}
		out.WriteString(lines[i+1])
		out.WriteString(want)
		out.WriteString(lines[end])
		i = end
	}
	return out.String(), problems
}

// closingFence finds the line that closes the fence opened at start.
func closingFence(lines []string, start int, indent, ticks string) int {
	for j := start + 1; j < len(lines); j++ {
		if strings.TrimRight(lines[j], " \t\r\n") == indent+ticks {
			return j
		}
	}
	return len(lines)
}

func indentLines(body, indent string) string {
	if body == "" {
		return ""
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(strings.TrimSuffix(body, "\n")+"\n", "\n") {
		if l == "" {
			continue
		}
		if l != "\n" {
			b.WriteString(indent)
		}
		b.WriteString(l)
	}
	return b.String()
}

func unindent(lines []string, indent string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimPrefix(l, indent)
	}
	return out
}

// substitute replaces $NAME and ${NAME} in body for each NAME=value in vars,
// so that a transcript checked with cmpenv (random port, temporary working
// directory) reads as the reader's own run would.
func substitute(body, vars string) string {
	for _, kv := range strings.Fields(vars) {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			continue // markerRE admits only NAME=value pairs
		}
		body = strings.ReplaceAll(body, "${"+name+"}", value)
		body = strings.ReplaceAll(body, "$"+name, value)
	}
	return body
}
