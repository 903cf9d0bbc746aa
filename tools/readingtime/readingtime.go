// Package readingtime measures how long a reader needs for the open part of
// a docs page, exactly as the team's readtime script does (a Python script
// kept outside the repository; this is a line-by-line port of its measure):
//
//	minutes = prose words / 230 + Go lines / 20 + output lines / 60 + shell lines / 30
//
// Text inside a collapsed block (a line starting "??? " and the lines
// indented under it) and HTML comments are left out; blank lines inside a
// fence are not counted; a table counts as prose, an image line not at all.
//
// Its test holds docs/index.md's reading path to it: the minutes the index
// states for each chapter are that chapter page's measure, rounded up.
package readingtime

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reading speeds, per minute.
const (
	WordsPerMinute       = 230 // prose
	GoLinesPerMinute     = 20  // Go, studied
	OutputLinesPerMinute = 60  // program output and any other fence
	ShellLinesPerMinute  = 30  // sh, bash, shell, console
)

// Measure is what a reader sees of a page without opening anything.
type Measure struct {
	Words, Go, Output, Shell int
}

// Minutes is the reading time, computed in the script's order so that the
// floating-point result is the same to the last bit.
func (m Measure) Minutes() float64 {
	return float64(m.Words)/WordsPerMinute + float64(m.Go)/GoLinesPerMinute +
		float64(m.Output)/OutputLinesPerMinute + float64(m.Shell)/ShellLinesPerMinute
}

var (
	collapsedStart = regexp.MustCompile(`^` + space + `*\?\?\? `)
	fence          = regexp.MustCompile("^" + space + "*(```+|~~~+)" + space + `*([\p{L}\p{N}_+-]*)`)
	htmlTag        = regexp.MustCompile(`<[^>]+>`)
)

// space is Python's \s for text: Go's unicode.IsSpace plus U+001C to U+001F,
// which Python's str.isspace also counts.
const space = `[\t\n\v\f\r\x{1c}-\x{1f}\x{85}\p{Z}]`

// isSpace is Python's str.isspace for one character.
func isSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// Page measures a page's text.
func Page(text string) Measure {
	var m Measure
	inFence := ""         // the fence's language while inside one
	collapsedIndent := -1 // while inside a collapsed block: its indent + 1
	inComment := false
	for _, line := range splitLines(text) {
		stripped := strings.TrimFunc(line, isSpace)
		indent := utf8.RuneCountInString(line) - utf8.RuneCountInString(strings.TrimLeftFunc(line, isSpace))
		if collapsedIndent >= 0 {
			if stripped == "" || indent >= collapsedIndent {
				continue
			}
			collapsedIndent = -1
		}
		if inFence == "" && collapsedStart.MatchString(line) {
			collapsedIndent = indent + 1
			continue
		}
		if inComment {
			if strings.Contains(line, "-->") {
				inComment = false
			}
			continue
		}
		if inFence == "" && strings.HasPrefix(stripped, "<!--") {
			if !strings.Contains(stripped, "-->") {
				inComment = true
			}
			continue
		}
		if f := fence.FindStringSubmatch(line); f != nil {
			if inFence == "" {
				inFence = strings.ToLower(f[2])
				if inFence == "" {
					inFence = "text"
				}
			} else {
				inFence = ""
			}
			continue
		}
		if inFence != "" {
			switch {
			case stripped == "":
			case inFence == "go":
				m.Go++
			case inFence == "sh", inFence == "bash", inFence == "shell", inFence == "console":
				m.Shell++
			default:
				m.Output++
			}
			continue
		}
		if strings.HasPrefix(stripped, "![") {
			continue
		}
		m.Words += len(strings.FieldsFunc(htmlTag.ReplaceAllString(line, " "), isSpace))
	}
	return m
}

// splitLines is Python's str.splitlines: it breaks at \n, \r\n, \r, \v, \f,
// U+001C to U+001E, U+0085, U+2028 and U+2029, and a final line break
// does not start another line.
func splitLines(text string) []string {
	var lines []string
	start := 0
	for i, r := range text {
		end := i
		switch r {
		case '\n':
			if i > 0 && text[i-1] == '\r' {
				end = i - 1 // \r\n is one line break
			}
		case '\r':
			if strings.HasPrefix(text[i+1:], "\n") {
				continue // the \n ends this line
			}
		case '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		default:
			continue
		}
		lines = append(lines, text[start:end])
		start = i + utf8.RuneLen(r)
	}
	if start < len(text) {
		lines = append(lines, text[start:])
	}
	return lines
}
