package main

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// The two editions, relative to the repository root, with slashes.
const (
	englishDir = "docs"
	koreanDir  = "docs/ko"
)

// Check compares every English page of root with its Korean twin, except
// those that pending lists, and returns one problem per difference. See the
// package comment for the rules.
func Check(root string, pending map[string]bool) ([]string, error) {
	english, err := pageNames(filepath.Join(root, englishDir))
	if err != nil {
		return nil, err
	}
	korean, err := pageNames(filepath.Join(root, koreanDir))
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, name := range english {
		en, ko := path.Join(englishDir, name), path.Join(koreanDir, name)
		translated := slices.Contains(korean, name)
		switch {
		case pending[name] && translated:
			problems = append(problems, fmt.Sprintf("%s exists: remove %q from NotYetTranslated in tools/translation/pending.go", ko, name))
		case pending[name]:
		case !translated:
			problems = append(problems, fmt.Sprintf("%s has no Korean twin %s: translate it (go run ./tools/translation -new %s starts one), or list it in NotYetTranslated in tools/translation/pending.go", en, ko, name))
		default:
			found, err := checkPair(root, name)
			if err != nil {
				return nil, err
			}
			problems = append(problems, found...)
		}
	}
	for _, name := range korean {
		if !slices.Contains(english, name) {
			problems = append(problems, fmt.Sprintf("%s has no English page %s: the editions have the same file names", path.Join(koreanDir, name), path.Join(englishDir, name)))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(pending)) {
		if !slices.Contains(english, name) {
			problems = append(problems, fmt.Sprintf("NotYetTranslated lists %s, which is not a page of %s", name, englishDir))
		}
	}
	navProblems, err := checkNav(root)
	if err != nil {
		return nil, err
	}
	diagramProblems, err := checkDiagrams(root)
	if err != nil {
		return nil, err
	}
	return append(append(problems, navProblems...), diagramProblems...), nil
}

// pageNames lists the .md files of dir (not of its subfolders).
func pageNames(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return nil, err
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = filepath.Base(m)
	}
	return names, nil
}

func readPair(root, name string) (en, ko string, err error) {
	enData, err := os.ReadFile(filepath.Join(root, englishDir, name))
	if err != nil {
		return "", "", err
	}
	koData, err := os.ReadFile(filepath.Join(root, koreanDir, name))
	if err != nil {
		return "", "", err
	}
	return string(enData), string(koData), nil
}

// checkPair compares docs/name with docs/ko/name.
func checkPair(root, name string) ([]string, error) {
	enText, koText, err := readPair(root, name)
	if err != nil {
		return nil, err
	}
	enPath, koPath := path.Join(englishDir, name), path.Join(koreanDir, name)
	en, ko := parse(enText), parse(koText)
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	// Up to date with the English prose?
	switch want := proseHash(enText); {
	case ko.stamp == nil:
		add("%s:1: no stamp; its first line must be %s (go run ./tools/translation -stamp %s writes it)", koPath, stamp{enPath, want}, koPath)
	case ko.stamp.source != enPath:
		add("%s:1: the stamp names %s, not its twin %s", koPath, ko.stamp.source, enPath)
	case ko.stamp.hash != want:
		add("%s:1: stale: the English prose of %s changed since it was translated (sha256=%s then, %s now). "+
			"See what changed with \"go run ./tools/translation -changes %s\", update the translation, then record it with \"go run ./tools/translation -stamp %s\"",
			koPath, enPath, ko.stamp.hash, want, koPath, koPath)
	}

	cmp := func(what string, e, k []item) { problems = append(problems, compareSeq(what, enPath, koPath, e, k)...) }
	cmp("include marker", en.markers, ko.markers)
	cmp("fenced block", en.fences, ko.fences)
	cmp("block that is not included (its lines, comments aside)", en.plain, ko.plain)
	cmp("image", en.images, ko.images)
	cmp("collapsed block, admonition or tab", en.blocks, ko.blocks)
	cmp("footnote definition", en.footDefs, ko.footDefs)
	problems = append(problems, compareBag("link to", enPath, koPath, en.links, ko.links)...)
	problems = append(problems, compareBag("footnote reference", enPath, koPath, en.footRefs, ko.footRefs)...)

	// Headings: the same levels, and each Korean heading keeps its English id explicitly.
	enIDs := headingIDs(en.headings)
	for i, h := range ko.headings {
		if h.id == "" {
			add("%s:%d: heading %q has no { #id }: write the English heading's id, { #%s }", koPath, h.line, h.text, at(enIDs, i))
		}
	}
	var enLevels, koLevels []item
	for i, h := range en.headings {
		enLevels = append(enLevels, item{fmt.Sprintf("h%d #%s", h.level, enIDs[i]), h.line})
	}
	for i, h := range ko.headings {
		id := h.id
		if id == "" {
			id = at(enIDs, i) // reported above
		}
		koLevels = append(koLevels, item{fmt.Sprintf("h%d #%s", h.level, id), h.line})
	}
	cmp("heading", enLevels, koLevels)

	// Tables: as many, with as many rows, each naming the same claims and tests.
	if len(en.tables) != len(ko.tables) {
		add("%s: %d tables, %s has %d", koPath, len(ko.tables), enPath, len(en.tables))
	}
	for i := range min(len(en.tables), len(ko.tables)) {
		var e, k []item
		for _, r := range en.tables[i].rows {
			e = append(e, item{"row [" + r + "]", en.tables[i].line})
		}
		for _, r := range ko.tables[i].rows {
			k = append(k, item{"row [" + r + "]", ko.tables[i].line})
		}
		cmp(fmt.Sprintf("table %d (claim ids and tests)", i+1), e, k)
		// Every number of an English row (minutes, error codes, versions) is in its Korean row.
		for r := range min(len(en.tables[i].numbers), len(ko.tables[i].numbers)) {
			have := make(map[string]int)
			for _, n := range ko.tables[i].numbers[r] {
				have[n]++
			}
			for _, n := range en.tables[i].numbers[r] {
				if have[n]--; have[n] < 0 {
					add("%s:%d: no %s in this table row, which its English row (%s:%d) states", koPath, ko.tables[i].line+r, n, enPath, en.tables[i].line+r)
					break
				}
			}
		}
	}

	// Identifiers, commands and test names stay as they are.
	for _, code := range slices.Sorted(maps.Keys(en.codeSpans)) {
		if _, ok := ko.codeSpans[code]; !ok {
			add("%s: no inline code `%s` (%s:%d): keep the English page's identifiers, commands and test names as they are", koPath, code, enPath, en.codeSpans[code])
		}
	}

	// A collapsed block's title is prose too, and a reader sees it first.
	for _, title := range ko.titles {
		if hangul, other := letters(codeSpanRE.ReplaceAllString(title.key, " ")); hangul == 0 && other > 0 {
			add("%s:%d: the block title %q is not translated", koPath, title.line, title.key)
		}
	}

	if hangul, other := letters(ko.prose); hangul <= other {
		add("%s: Hangul is %d%% of its prose's letters (code, identifiers and inline code aside): translate the prose", koPath, 100*hangul/max(hangul+other, 1))
	}
	return problems, nil
}

func at(ids []string, i int) string {
	if i < len(ids) {
		return ids[i]
	}
	return "…"
}

// compareSeq reports the first place where two sequences differ.
func compareSeq(what, enPath, koPath string, en, ko []item) []string {
	for i := range max(len(en), len(ko)) {
		switch {
		case i >= len(ko):
			return []string{fmt.Sprintf("%s: missing %s %s (%s:%d); it has %d of them, %s has %d", koPath, what, quote(en[i].key), enPath, en[i].line, len(ko), enPath, len(en))}
		case i >= len(en):
			return []string{fmt.Sprintf("%s:%d: one %s more than %s has (%d): %s", koPath, ko[i].line, what, enPath, len(en), quote(ko[i].key))}
		case en[i].key != ko[i].key:
			return []string{fmt.Sprintf("%s:%d: %s %s, where %s:%d has %s", koPath, ko[i].line, what, quote(ko[i].key), enPath, en[i].line, quote(en[i].key))}
		}
	}
	return nil
}

func quote(s string) string {
	if strings.Contains(s, "\n") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// compareBag reports the keys that the two pages hold a different number of
// times, in any order: Korean word order moves links within a sentence.
func compareBag(what, enPath, koPath string, en, ko []item) []string {
	count := func(items []item) map[string][]int {
		m := make(map[string][]int)
		for _, it := range items {
			m[it.key] = append(m[it.key], it.line)
		}
		return m
	}
	e, k := count(en), count(ko)
	var problems []string
	for _, key := range slices.Sorted(maps.Keys(maps.Collect(func(yield func(string, bool) bool) {
		for key := range e {
			yield(key, true)
		}
		for key := range k {
			yield(key, true)
		}
	}))) {
		if len(e[key]) != len(k[key]) {
			problems = append(problems, fmt.Sprintf("%s: %s %s %d times (lines %v), %s %d times (lines %v)",
				koPath, what, key, len(k[key]), k[key], enPath, len(e[key]), e[key]))
		}
	}
	return problems
}

var (
	urlRE        = regexp.MustCompile(`https?://\S+`)
	htmlTagRE    = regexp.MustCompile(`<[^>]+>`)
	asciiRunRE   = regexp.MustCompile(`[A-Za-z0-9_.\-/$@*:+]+`)
	identifierRE = regexp.MustCompile(`[_./$@*:+\-0-9]|^.+[A-Z]`)
)

// letters counts the Hangul letters of prose, and the other letters that are
// not part of an identifier (nats.go, example_stream, JetStream, NATS_URL, C22).
func letters(prose string) (hangul, other int) {
	prose = htmlTagRE.ReplaceAllString(urlRE.ReplaceAllString(prose, " "), " ")
	prose = linkRE.ReplaceAllStringFunc(prose, func(l string) string { return l[:strings.LastIndex(l, "](")] })
	prose = footRefRE.ReplaceAllString(prose, " ")
	for _, r := range prose {
		if unicode.Is(unicode.Hangul, r) {
			hangul++
		} else if r >= 128 && unicode.IsLetter(r) {
			other++
		}
	}
	for _, run := range asciiRunRE.FindAllString(prose, -1) {
		run = strings.TrimRight(run, ".:-")
		if identifierRE.MatchString(run) {
			continue
		}
		for _, r := range run {
			if unicode.IsLetter(r) {
				other++
			}
		}
	}
	return hangul, other
}

// navEntry is one page of an mkdocs nav: "  - Title: page.md".
var navEntry = regexp.MustCompile(`^\s*- (.+): (\S+\.md)\s*$`)

func readNav(file string) ([]item, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var pages []item
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		if m := navEntry.FindStringSubmatch(sc.Text()); m != nil {
			pages = append(pages, item{m[2], n})
		}
	}
	return pages, sc.Err()
}

// checkNav: the Korean nav names the same pages as the English one, in order.
func checkNav(root string) ([]string, error) {
	en, err := readNav(filepath.Join(root, "mkdocs.yml"))
	if err != nil {
		return nil, err
	}
	ko, err := readNav(filepath.Join(root, "mkdocs.ko.yml"))
	if err != nil {
		return nil, err
	}
	if len(en) == 0 {
		return []string{"mkdocs.yml has no nav"}, nil
	}
	return compareSeq("nav page", "mkdocs.yml", "mkdocs.ko.yml", en, ko), nil
}

var (
	dotEdge = regexp.MustCompile(`(?m)^\s*(\w+)\s*->\s*(\w+)`)
	dotNode = regexp.MustCompile(`(?m)^\s*(\w+)\s*\[`)
)

// checkDiagrams: every English diagram has a Korean twin with the same
// nodes and edges (its prose labels translated, its identifiers kept).
func checkDiagrams(root string) ([]string, error) {
	dir := func(d string) ([]string, error) {
		m, err := filepath.Glob(filepath.Join(root, d, "diagrams", "*.dot"))
		for i := range m {
			m[i] = filepath.Base(m[i])
		}
		return m, err
	}
	en, err := dir(englishDir)
	if err != nil {
		return nil, err
	}
	ko, err := dir(koreanDir)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, name := range ko {
		if !slices.Contains(en, name) {
			problems = append(problems, fmt.Sprintf("%s/diagrams/%s has no English diagram %s/diagrams/%s", koreanDir, name, englishDir, name))
		}
	}
	for _, name := range en {
		enPath, koPath := path.Join(englishDir, "diagrams", name), path.Join(koreanDir, "diagrams", name)
		if !slices.Contains(ko, name) {
			problems = append(problems, fmt.Sprintf("%s has no Korean twin %s: copy it, translate the labels that are prose, and render it (go run ./tools/diagrams)", enPath, koPath))
			continue
		}
		shape := func(p string) ([]item, error) {
			data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
			if err != nil {
				return nil, err
			}
			var items []item
			for _, m := range dotNode.FindAllStringSubmatch(string(data), -1) {
				if m[1] != "graph" && m[1] != "node" && m[1] != "edge" {
					items = append(items, item{"node " + m[1], 0})
				}
			}
			for _, m := range dotEdge.FindAllStringSubmatch(string(data), -1) {
				items = append(items, item{"edge " + m[1] + " -> " + m[2], 0})
			}
			return items, nil
		}
		e, err := shape(enPath)
		if err != nil {
			return nil, err
		}
		k, err := shape(koPath)
		if err != nil {
			return nil, err
		}
		problems = append(problems, compareBag("has", enPath, koPath, e, k)...)
	}
	return problems, nil
}
