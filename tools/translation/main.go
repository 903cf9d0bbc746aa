// Command translation holds the Korean edition (docs/ko/) to the English one
// (docs/): the drift check of the two editions, run by "go test ./..." and
// by .ci/run.
//
//	go run ./tools/translation                       check every page (exit 1 on a problem)
//	go run ./tools/translation -changes [KO.md ...]  show what changed in the English prose of stale pages
//	go run ./tools/translation -stamp KO.md ...      record that KO.md follows its English page as it is now
//	go run ./tools/translation -new NAME.md          start docs/ko/NAME.md from docs/NAME.md
//
// Every docs/NAME.md has a Korean twin docs/ko/NAME.md, unless NotYetTranslated
// (pending.go) lists it. Against its English page, a Korean page must have:
//
//   - a first line that records the hash of the English prose it follows,
//     <!-- translated-from: docs/NAME.md sha256=… -->, equal to the hash of the
//     English page now. The hash leaves out the bodies of included blocks, so
//     that a docsync refresh never makes a translation stale, and treats every
//     run of white space as one space, so that rewrapping changes nothing;
//   - the same include markers, in the same order (tools/docsync fills both
//     pages' blocks from the same tested files), and the same fenced blocks:
//     indentation, language and, for a block that is not included, the same
//     lines once comments are taken out (a comment may be translated, a
//     command may not);
//   - the same headings, level by level, each with the English heading's id
//     written out, "## 한국어 제목 { #english-id }", so that every link and
//     anchor works in both editions;
//   - the same images in order, the same links and footnote references in any
//     order, the same footnote definitions, collapsed blocks, admonitions and
//     tabs in order, and the same tables, row by row naming the same claim ids
//     and tests and stating every number of the English row (the index's
//     minutes, error codes; "chapter 09" may be 9장);
//   - every inline code span of the English page (identifiers, commands, test
//     names stay as they are);
//   - prose that is mostly Hangul: more Hangul letters than other letters, code,
//     identifiers and inline code aside.
//
// It also checks that mkdocs.ko.yml's nav names the same pages as mkdocs.yml's,
// in order, and that every docs/diagrams/NAME.dot has a Korean twin
// docs/ko/diagrams/NAME.dot with the same nodes and edges.
//
// After updating a translation, -stamp records the English prose it now
// follows. -changes finds, in the git history of the English page, the
// version whose hash the Korean page records, and prints the English prose's
// diff since then (included blocks left out).
package main

import (
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

func main() {
	changes := flag.Bool("changes", false, "print, for each stale Korean page (or each named one), the diff of its English prose since it was translated")
	stampIt := flag.Bool("stamp", false, "record in each named Korean page the hash of its English page's prose as it is now")
	newPage := flag.Bool("new", false, "start docs/ko/NAME.md for each named NAME.md: the English page with a stamp and an explicit { #id } on every heading")
	root := flag.String("root", ".", "repository root")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: translation [-root DIR] [-changes [docs/ko/NAME.md ...] | -stamp docs/ko/NAME.md ... | -new NAME.md ...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	var err error
	switch {
	case *stampIt && flag.NArg() > 0 && !*changes && !*newPage:
		err = forEach(*root, flag.Args(), stampPage)
	case *newPage && flag.NArg() > 0 && !*changes && !*stampIt:
		err = forEach(*root, flag.Args(), startPage)
	case *changes && !*stampIt && !*newPage:
		err = printChanges(os.Stdout, *root, flag.Args())
	case !*changes && !*stampIt && !*newPage && flag.NArg() == 0:
		err = check(*root)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "translation:", err)
		os.Exit(1)
	}
}

func check(root string) error {
	problems, err := Check(root, NotYetTranslated)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the Korean edition (%s) does not follow the English one (%s): %d problem(s) above", koreanDir, englishDir, len(problems))
	}
	fmt.Printf("translation: every Korean page follows its English page; %d English pages are not translated yet\n", len(NotYetTranslated))
	return nil
}

// pageName accepts docs/ko/NAME.md, docs/NAME.md or NAME.md, and returns NAME.md.
func pageName(arg string) (string, error) {
	name := path.Base(filepath.ToSlash(arg))
	if !strings.HasSuffix(name, ".md") {
		return "", fmt.Errorf("%s is not a Markdown page", arg)
	}
	return name, nil
}

func forEach(root string, args []string, do func(root, name string) (string, error)) error {
	for _, arg := range args {
		name, err := pageName(arg)
		if err != nil {
			return err
		}
		msg, err := do(root, name)
		if err != nil {
			return err
		}
		fmt.Println(msg)
	}
	return nil
}

// stampPage records, in docs/ko/name, the hash of docs/name's prose now.
func stampPage(root, name string) (string, error) {
	en, ko, err := readPair(root, name)
	if err != nil {
		return "", err
	}
	st := stamp{path.Join(englishDir, name), proseHash(en)}
	koPath := filepath.Join(root, koreanDir, name)
	if err := os.WriteFile(koPath, []byte(withStamp(ko, st)), 0o644); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: %s", path.Join(koreanDir, name), st), nil
}

// startPage writes docs/ko/name: the English page, stamped, with every
// heading's id written out. The translator then translates its prose.
func startPage(root, name string) (string, error) {
	koPath := filepath.Join(root, koreanDir, name)
	if _, err := os.Stat(koPath); err == nil {
		return "", fmt.Errorf("%s already exists", path.Join(koreanDir, name))
	}
	data, err := os.ReadFile(filepath.Join(root, englishDir, name))
	if err != nil {
		return "", err
	}
	en := string(data)
	ids := headingIDs(parse(en).headings)
	lines := strings.Split(en, "\n")
	inFence, h := "", 0
	for i, l := range lines {
		if m := fenceRE.FindStringSubmatch(l); m != nil {
			switch {
			case inFence == "":
				inFence = m[1] + m[2]
			case strings.TrimRight(l, " \t\r") == inFence:
				inFence = ""
			}
			continue
		}
		if inFence == "" && headingRE.MatchString(l) {
			if !headingIDRE.MatchString(l) {
				lines[i] = strings.TrimRight(l, " ") + " { #" + ids[h] + " }"
			}
			h++
		}
	}
	text := withStamp(strings.Join(lines, "\n"), stamp{path.Join(englishDir, name), proseHash(en)})
	if err := os.MkdirAll(filepath.Dir(koPath), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(koPath, []byte(text), 0o644); err != nil {
		return "", err
	}
	return fmt.Sprintf("wrote %s: translate its prose (not its code, identifiers or include markers), remove %q from NotYetTranslated in tools/translation/pending.go, then run go run ./tools/translation",
		path.Join(koreanDir, name), name), nil
}
