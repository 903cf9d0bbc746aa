package main

import (
	"regexp"
	"strings"
)

// item is one structural element of a page, with the line it is on.
type item struct {
	key  string
	line int // 1-based
}

// heading is one ATX heading of a page.
type heading struct {
	level int
	text  string // without the #s and the { #id }
	id    string // the explicit { #id }, or ""
	line  int
}

// table is one Markdown table: its rows, each reduced to the claim ids and
// test names it holds, in order, and the numbers it states.
type table struct {
	line    int
	rows    []string
	numbers [][]string // per row, link targets aside
}

// page is what the drift check compares between a page and its translation.
type page struct {
	stamp      *stamp
	markers    []item // include markers: "source VARS"
	fences     []item // every fenced block: indent, info string, and whether it is included
	plain      []item // the lines of each fence that is not included, comments aside (one item per fence)
	headings   []heading
	images     []item
	links      []item // link targets, Markdown and HTML
	footRefs   []item // [^label] references
	footDefs   []item // [^label]: definitions
	blocks     []item // admonitions (!!! type, ??? type) and content tabs (===)
	titles     []item // the quoted titles of those blocks
	tables     []table
	codeSpans  map[string]int // inline code, whitespace collapsed -> first line
	prose      string         // the text a reader reads, code and markup aside
	proseLines []int          // for each line of prose, its line in the page
}

var (
	markerRE     = regexp.MustCompile(`^(\s*)<!-- include: (\S+)((?: \w+=\S+)*) -->\s*$`)
	fenceRE      = regexp.MustCompile("^(\\s*)(```+)\\s*([A-Za-z0-9_+-]*)")
	headingRE    = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*$`)
	headingIDRE  = regexp.MustCompile(`\s*\{:?\s*#([A-Za-z0-9_-]+)\s*\}\s*$`)
	blockRE      = regexp.MustCompile(`^(\s*)(!!!|\?\?\?\+?|===)\s*([a-z]*)`)
	blockTitleRE = regexp.MustCompile(`^\s*(?:!!!|\?\?\?\+?|===)\s*[a-z]*\s*"(.*)"\s*$`)
	tableRowRE   = regexp.MustCompile(`^\s*\|`)
	imageRE      = regexp.MustCompile(`!\[[^\]]*\]\(([^)\s]+)[^)]*\)`)
	linkRE       = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)[^)]*\)`)
	htmlLinkRE   = regexp.MustCompile(`<(?:a|img)\s[^>]*(?:href|src)="([^"]+)"`)
	footRefRE    = regexp.MustCompile(`\[\^([A-Za-z0-9_-]+)\]`)
	footDefRE    = regexp.MustCompile(`^\s*\[\^([A-Za-z0-9_-]+)\]:`)
	codeSpanRE   = regexp.MustCompile("`([^`]+)`")
	claimOrTest  = regexp.MustCompile("\\bC[0-9]{2}\\b|`(?:[0-9]{2}-[a-z0-9-]+\\.)?(?:Test|Example)[A-Za-z0-9_]*`")
	commentRE    = regexp.MustCompile(`(?s)<!--.*?-->`)
	numberRE     = regexp.MustCompile(`\b[0-9]+(?:[.,][0-9]+)*\b`)
	linkTargetRE = regexp.MustCompile(`\]\([^)]*\)`)
	shellComment = regexp.MustCompile(`(^|\s)(#|//)(\s.*)?$`)
)

// parse reads a Markdown page as tools/docsync and MkDocs see it.
func parse(text string) *page {
	p := &page{codeSpans: make(map[string]int)}
	lines := strings.Split(text, "\n")
	if st, ok := parseStamp(lines[0]); ok {
		p.stamp = &st
	}
	var prose []string
	tableStart := -1
	for i := 0; i < len(lines); i++ {
		line, n := lines[i], i+1
		if m := fenceRE.FindStringSubmatch(line); m != nil {
			indent, ticks, info := m[1], m[2], m[3]
			end := i + 1
			for end < len(lines) && strings.TrimRight(lines[end], " \t\r") != indent+ticks {
				end++
			}
			included := i > 0 && markerRE.MatchString(lines[i-1])
			kind := "```" + info
			if included {
				kind += " (included)"
			}
			p.fences = append(p.fences, item{strings.ReplaceAll(indent, "\t", "    ") + kind, n})
			if !included {
				var body []string
				for _, l := range lines[i+1 : min(end, len(lines))] {
					if l = strings.TrimRight(shellComment.ReplaceAllString(l, "$1"), " \t"); l != "" {
						body = append(body, strings.TrimSpace(l))
					}
				}
				p.plain = append(p.plain, item{strings.Join(body, "\n"), n})
			}
			i = end
			prose = append(prose, "")
			p.proseLines = append(p.proseLines, n)
			continue
		}
		if m := markerRE.FindStringSubmatch(line); m != nil {
			p.markers = append(p.markers, item{m[2] + m[3], n})
			continue
		}
		if tableRowRE.MatchString(line) {
			if tableStart < 0 {
				tableStart = len(p.tables)
				p.tables = append(p.tables, table{line: n})
			}
			t := &p.tables[tableStart]
			t.rows = append(t.rows, strings.Join(claimOrTest.FindAllString(line, -1), " "))
			var numbers []string
			for _, n := range numberRE.FindAllString(linkTargetRE.ReplaceAllString(line, "]"), -1) {
				numbers = append(numbers, strings.TrimLeft(n[:len(n)-1], "0")+n[len(n)-1:]) // "chapter 09" is 9장
			}
			t.numbers = append(t.numbers, numbers)
		} else {
			tableStart = -1
		}
		if m := headingRE.FindStringSubmatch(line); m != nil {
			h := heading{level: len(m[1]), text: m[2], line: n}
			if id := headingIDRE.FindStringSubmatch(m[2]); id != nil {
				h.id = id[1]
				h.text = strings.TrimSpace(m[2][:len(m[2])-len(id[0])])
			}
			p.headings = append(p.headings, h)
			line = m[1] + " " + h.text
		}
		if m := blockRE.FindStringSubmatch(line); m != nil {
			p.blocks = append(p.blocks, item{strings.ReplaceAll(m[1], "\t", "    ") + m[2] + " " + m[3], n})
		}
		if m := blockTitleRE.FindStringSubmatch(line); m != nil {
			p.titles = append(p.titles, item{m[1], n})
		}
		if m := footDefRE.FindStringSubmatch(line); m != nil {
			p.footDefs = append(p.footDefs, item{m[1], n})
		}
		prose = append(prose, line)
		p.proseLines = append(p.proseLines, n)
	}

	// Inline elements may wrap across lines: look for them in the joined text.
	text = commentRE.ReplaceAllStringFunc(strings.Join(prose, "\n"), func(c string) string {
		return strings.Repeat("\n", strings.Count(c, "\n")) // keep the line numbers
	})
	for _, m := range codeSpanRE.FindAllStringSubmatchIndex(text, -1) {
		code := strings.Join(strings.Fields(text[m[2]:m[3]]), " ")
		if _, ok := p.codeSpans[code]; !ok {
			p.codeSpans[code] = p.proseLines[min(strings.Count(text[:m[0]], "\n"), len(p.proseLines)-1)]
		}
	}
	noCode := codeSpanRE.ReplaceAllStringFunc(text, func(c string) string {
		return strings.Repeat("\n", strings.Count(c, "\n"))
	})
	lineOf := func(offset int) int {
		return p.proseLines[min(strings.Count(noCode[:offset], "\n"), len(p.proseLines)-1)]
	}
	for _, m := range imageRE.FindAllStringSubmatchIndex(noCode, -1) {
		p.images = append(p.images, item{noCode[m[2]:m[3]], lineOf(m[0])})
	}
	for _, m := range linkRE.FindAllStringSubmatchIndex(noCode, -1) {
		if m[0] > 0 && noCode[m[0]-1] == '!' {
			continue // an image
		}
		p.links = append(p.links, item{noCode[m[2]:m[3]], lineOf(m[0])})
	}
	for _, m := range htmlLinkRE.FindAllStringSubmatchIndex(noCode, -1) {
		p.links = append(p.links, item{noCode[m[2]:m[3]], lineOf(m[0])})
	}
	for _, m := range footRefRE.FindAllStringSubmatchIndex(noCode, -1) {
		if !strings.HasPrefix(noCode[m[1]:], ":") {
			p.footRefs = append(p.footRefs, item{noCode[m[2]:m[3]], lineOf(m[0])})
		}
	}
	p.prose = noCode
	return p
}
