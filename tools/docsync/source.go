package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"
)

var regionRE = regexp.MustCompile(`^\s*// docs:(start|end) (\S+)\s*$`)

// resolve returns the text that source (path[#selector]) names.
func resolve(root, source string) (string, error) {
	path, selector, hasSelector := strings.Cut(source, "#")
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
	if err != nil {
		return "", fmt.Errorf("include %s: %w", source, err)
	}
	text := string(data)
	var body string
	switch {
	case !hasSelector:
		body = withoutMarkers(text)
	case strings.HasSuffix(path, ".txtar"):
		body, err = archiveFile(text, selector)
	case strings.HasPrefix(selector, "func:"):
		body, err = function(path, data, strings.TrimPrefix(selector, "func:"))
	case strings.HasPrefix(selector, "output:"):
		body, err = exampleOutput(path, data, strings.TrimPrefix(selector, "output:"))
	default:
		body, err = region(text, selector)
	}
	if err != nil {
		return "", fmt.Errorf("include %s: %w", source, err)
	}
	return body, nil
}

// withoutMarkers drops docs:start/end lines and the blank line a dropped
// marker would leave doubled.
func withoutMarkers(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if regionRE.MatchString(l) {
			continue
		}
		if strings.TrimSpace(l) == "" && len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// region returns the lines between "// docs:start name" and "// docs:end
// name", dedented, without nested markers.
func region(text, name string) (string, error) {
	var body []string
	inside, found := false, false
	for _, l := range strings.Split(text, "\n") {
		if m := regionRE.FindStringSubmatch(l); m != nil {
			if m[2] == name {
				if m[1] == "start" {
					inside, found = true, true
				} else if inside {
					inside = false
					break
				}
			}
			continue
		}
		if inside {
			body = append(body, l)
		}
	}
	if !found {
		return "", fmt.Errorf("no region %q (mark it with // docs:start %s and // docs:end %s)", name, name, name)
	}
	if inside {
		return "", fmt.Errorf("region %q has no // docs:end", name)
	}
	return dedent(trimBlank(body)), nil
}

// function returns the source of a top-level function, with its doc
// comment but without an Example's output comment.
func function(path string, src []byte, name string) (string, error) {
	fn, output, fset, err := findFunc(path, src, name)
	if err != nil {
		return "", err
	}
	start := fn.Pos()
	if fn.Doc != nil {
		start = fn.Doc.Pos()
	}
	offset := func(p token.Pos) int { return fset.Position(p).Offset }
	text := string(src[offset(start):offset(fn.End())])
	if output != nil {
		from, to := offset(output.Pos())-offset(start), offset(output.End())-offset(start)
		text = strings.TrimRight(text[:from], " \t\n") + text[to:]
	}
	return text + "\n", nil
}

// exampleOutput returns what Example name declares it prints.
func exampleOutput(path string, src []byte, name string) (string, error) {
	_, output, _, err := findFunc(path, src, name)
	if err != nil {
		return "", err
	}
	if output == nil {
		return "", fmt.Errorf("%s has no // Output: comment", name)
	}
	lines := strings.Split(output.Text(), "\n")
	return strings.Join(trimBlank(lines[1:]), "\n") + "\n", nil
}

// findFunc parses path and returns the top-level function name with the
// "// Output:" or "// Unordered output:" comment in its body, if any.
func findFunc(path string, src []byte, name string) (*ast.FuncDecl, *ast.CommentGroup, *token.FileSet, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv != nil || fn.Name.Name != name {
			continue
		}
		var output *ast.CommentGroup
		for _, c := range file.Comments {
			if c.Pos() > fn.Body.Lbrace && c.End() < fn.Body.Rbrace {
				first := strings.ToLower(c.List[0].Text)
				if strings.HasPrefix(first, "// output:") || strings.HasPrefix(first, "// unordered output:") {
					output = c
				}
			}
		}
		return fn, output, fset, nil
	}
	return nil, nil, nil, fmt.Errorf("no function %s in %s", name, path)
}

// archiveFile returns one file of a txtar archive.
func archiveFile(text, name string) (string, error) {
	for _, f := range txtar.Parse([]byte(text)).Files {
		if f.Name == name {
			return string(f.Data), nil
		}
	}
	return "", fmt.Errorf("the archive has no file %q", name)
}

func trimBlank(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// dedent removes the leading whitespace that all non-blank lines share.
func dedent(lines []string) string {
	prefix := ""
	first := true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		lead := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first {
			prefix, first = lead, false
			continue
		}
		for !strings.HasPrefix(lead, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.TrimPrefix(l, prefix))
		b.WriteString("\n")
	}
	return b.String()
}
