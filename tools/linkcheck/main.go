// Command linkcheck checks a built site (the output of mkdocs build) for
// broken internal links and #anchors, and for pages that load a script,
// style sheet, image or frame from another host, which would break the site
// offline. Links to other sites (<a href="https://...">) are not fetched.
//
//	go run ./tools/linkcheck SITE_DIR
//
// A site may hold several editions of the same pages, each a MkDocs build of
// its own in a folder of the site (the Korean edition in ko/, with its own
// search/search_index.json). Then it also checks that the editions match:
// every page has its twin, at the same path, in every edition; each page's
// language switch (<a hreflang>) goes to exactly those twins; a page's
// <html lang> is its edition's; twins have the same heading ids in the same
// order; and no edition's search index holds another edition's pages.
//
// It stands in for htmltest, which the Go module proxy does not serve.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: linkcheck SITE_DIR")
		os.Exit(2)
	}
	problems, pages, err := Check(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "linkcheck:", err)
		os.Exit(1)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "linkcheck: %d problems in %d pages\n", len(problems), pages)
		os.Exit(1)
	}
	fmt.Printf("linkcheck: %d pages, every internal link and anchor resolves, nothing loads from another host\n", pages)
}

// page is what linkcheck needs from one HTML file.
type page struct {
	ids      map[string]bool
	refs     []ref
	lang     string            // <html lang>
	alt      map[string]string // hreflang -> href of the language switch
	headings []string          // ids of h1-h6 in <article>, in order
}

// ref is one URL in a page: an <a href>, or a resource the browser loads.
type ref struct {
	url      string
	resource bool // loaded with the page (script, style sheet, image...), not followed by a click
}

// Check reads every .html file under site and returns one problem per broken
// link, missing anchor or resource from another host, and the number of pages.
func Check(site string) ([]string, int, error) {
	pages := make(map[string]*page) // by slash path relative to site
	err := filepath.WalkDir(site, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		rel, err := filepath.Rel(site, p)
		if err != nil {
			return fmt.Errorf("relative path of %s: %w", p, err)
		}
		pg, err := parse(p)
		if err != nil {
			return err
		}
		pages[filepath.ToSlash(rel)] = pg
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read the site in %s: %w", site, err)
	}
	if len(pages) == 0 {
		return nil, 0, fmt.Errorf("no .html files in %s: build the site first (mkdocs build --site-dir %s)", site, site)
	}
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(pages)) {
		if is404(name) {
			// MkDocs writes the 404 page's links for any depth (absolute, in an
			// edition below the root); a server shows it at whatever URL was
			// missing, so its links cannot be checked here.
			continue
		}
		for _, r := range pages[name].refs {
			// A page often links one target several times (table of contents, permalink): report it once.
			if msg := checkRef(site, pages, name, r); msg != "" && !slices.Contains(problems, name+": "+msg) {
				problems = append(problems, name+": "+msg)
			}
		}
	}
	editionProblems, err := checkEditions(site, pages)
	if err != nil {
		return nil, 0, err
	}
	return append(problems, editionProblems...), len(pages), nil
}

func is404(name string) bool { return name == "404.html" || strings.HasSuffix(name, "/404.html") }

// checkRef returns a problem with one reference of the page name, or "".
func checkRef(site string, pages map[string]*page, name string, r ref) string {
	u, err := url.Parse(r.url)
	if err != nil {
		return fmt.Sprintf("%q is not a URL: %v", r.url, err)
	}
	if u.Scheme != "" || u.Host != "" {
		if r.resource && u.Scheme != "data" {
			return fmt.Sprintf("loads %s from another host; the site must work offline", r.url)
		}
		return "" // a link to another site: not followed
	}
	target := name
	if u.Path != "" {
		target = path.Join(path.Dir(name), u.Path)
		if strings.HasPrefix(u.Path, "/") || strings.HasPrefix(target, "../") || target == ".." {
			return fmt.Sprintf("%q leaves the site", r.url)
		}
		info, err := os.Stat(filepath.Join(site, filepath.FromSlash(target)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Sprintf("broken link %q: no %s in the site", r.url, target)
		case err != nil:
			return fmt.Sprintf("link %q: %v", r.url, err)
		case info.IsDir():
			target = path.Join(target, "index.html")
			if _, ok := pages[target]; !ok {
				return fmt.Sprintf("broken link %q: the folder has no index.html", r.url)
			}
		}
	}
	if u.Fragment == "" {
		return ""
	}
	pg, ok := pages[target]
	if !ok {
		return fmt.Sprintf("link %q has an anchor, but %s is not a page", r.url, target)
	}
	if !pg.ids[u.Fragment] {
		return fmt.Sprintf("broken anchor %q: %s has no id %q", r.url, target, u.Fragment)
	}
	return ""
}

// parse reads one HTML file: its ids and the URLs it refers to.
func parse(file string) (*page, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	defer f.Close()
	doc, err := html.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	pg := &page{ids: make(map[string]bool), alt: make(map[string]string)}
	var walk func(n *html.Node, inArticle bool)
	walk = func(n *html.Node, inArticle bool) {
		if n.Type == html.ElementNode {
			attrs := make(map[string]string, len(n.Attr))
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
			}
			if id, ok := attrs["id"]; ok {
				pg.ids[id] = true
			}
			switch n.Data {
			case "html":
				pg.lang = attrs["lang"]
			case "article":
				inArticle = true
			case "h1", "h2", "h3", "h4", "h5", "h6":
				if inArticle {
					pg.headings = append(pg.headings, attrs["id"])
				}
			}
			if lang, ok := attrs["hreflang"]; ok && n.Data == "a" {
				pg.alt[lang] = attrs["href"]
			}
			if n.Data == "a" && attrs["name"] != "" {
				pg.ids[attrs["name"]] = true
			}
			switch n.Data {
			case "a":
				if href, ok := attrs["href"]; ok {
					pg.refs = append(pg.refs, ref{url: href})
				}
			case "link":
				// rel="canonical" and the like only name a URL; style sheets and icons are loaded.
				if href, ok := attrs["href"]; ok && slices.ContainsFunc(strings.Fields(attrs["rel"]), loaded) {
					pg.refs = append(pg.refs, ref{url: href, resource: true})
				}
			case "script", "img", "iframe", "source", "audio", "video", "embed":
				if src, ok := attrs["src"]; ok {
					pg.refs = append(pg.refs, ref{url: src, resource: true})
				}
			case "object":
				if data, ok := attrs["data"]; ok {
					pg.refs = append(pg.refs, ref{url: data, resource: true})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inArticle)
		}
	}
	walk(doc, false)
	return pg, nil
}

// loaded reports whether a <link rel> value makes the browser fetch the URL.
func loaded(rel string) bool {
	switch strings.ToLower(rel) {
	case "stylesheet", "icon", "shortcut", "preload", "modulepreload", "manifest", "apple-touch-icon",
		"preconnect", "dns-prefetch", "prefetch":
		return true
	}
	return false
}
