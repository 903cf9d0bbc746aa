package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// edition is one MkDocs build inside the site: the root, or a folder with a
// search index of its own (ko/).
type edition struct {
	dir   string            // "" for the root, else "ko"
	lang  string            // its index.html's <html lang>
	pages map[string]string // path within the edition -> path within the site
}

// editions finds the site's editions. With one, there is nothing to compare.
func editions(site string, pages map[string]*page) ([]*edition, error) {
	root := &edition{pages: make(map[string]string)}
	all := []*edition{root}
	entries, err := os.ReadDir(site)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(site, e.Name(), "search", "search_index.json")); err == nil {
			all = append(all, &edition{dir: e.Name(), pages: make(map[string]string)})
		}
	}
	for name := range pages {
		if is404(name) {
			continue
		}
		ed := root
		for _, e := range all[1:] {
			if strings.HasPrefix(name, e.dir+"/") {
				ed = e
			}
		}
		ed.pages[strings.TrimPrefix(name, ed.dir+"/")] = name
	}
	for _, ed := range all {
		index, ok := pages[path.Join(ed.dir, "index.html")]
		if !ok {
			return nil, fmt.Errorf("edition %q has no index.html", ed.dir)
		}
		ed.lang = index.lang
	}
	return all, nil
}

// checkEditions returns one problem per way the site's editions differ.
func checkEditions(site string, pages map[string]*page) ([]string, error) {
	eds, err := editions(site, pages)
	if err != nil || len(eds) < 2 {
		return nil, err
	}
	var problems []string
	langs := make(map[string]*edition)
	for _, ed := range eds {
		if ed.lang == "" {
			problems = append(problems, fmt.Sprintf("%s: no <html lang>", path.Join(ed.dir, "index.html")))
		} else if other, ok := langs[ed.lang]; ok {
			problems = append(problems, fmt.Sprintf("editions %q and %q are both lang=%q", other.dir, ed.dir, ed.lang))
		}
		langs[ed.lang] = ed
	}
	root := eds[0]
	for _, ed := range eds {
		for _, rel := range slices.Sorted(maps.Keys(ed.pages)) {
			name := ed.pages[rel]
			pg := pages[name]
			if pg.lang != ed.lang {
				problems = append(problems, fmt.Sprintf("%s: <html lang=%q>, but its edition is %q", name, pg.lang, ed.lang))
			}
			for _, other := range eds {
				twin, ok := other.pages[rel]
				if !ok {
					problems = append(problems, fmt.Sprintf("%s: no twin %s in the %s edition", name, path.Join(other.dir, rel), other.lang))
					continue
				}
				href, ok := pg.alt[other.lang]
				if !ok {
					problems = append(problems, fmt.Sprintf("%s: no language switch to %s (<a hreflang=%q>)", name, twin, other.lang))
				} else if target := resolve(name, href); target != twin {
					problems = append(problems, fmt.Sprintf("%s: its switch to %q goes to %s, not to its twin %s", name, other.lang, target, twin))
				}
				if ed == root && other != root && !slices.Equal(pg.headings, pages[twin].headings) {
					problems = append(problems, fmt.Sprintf("%s: heading ids %q differ from %s's %q (a translated heading keeps its English { #id })",
						twin, pages[twin].headings, name, pg.headings))
				}
			}
		}
		// The English build must leave the Korean pages out of its search (the hook does).
		locations, err := searchLocations(filepath.Join(site, filepath.FromSlash(ed.dir), "search", "search_index.json"))
		if err != nil {
			return nil, err
		}
		for _, other := range eds[1:] {
			if other == ed {
				continue
			}
			for _, loc := range locations {
				if strings.HasPrefix(loc, other.dir+"/") {
					problems = append(problems, fmt.Sprintf("%s: the search index of the %s edition holds %s, a page of the %s edition",
						path.Join(ed.dir, "search/search_index.json"), ed.lang, path.Join(ed.dir, loc), other.lang))
					break
				}
			}
		}
	}
	return problems, nil
}

// resolve returns the page that href, a link of the page name, opens.
func resolve(name, href string) string {
	href, _, _ = strings.Cut(href, "#") // the page, whether or not an anchor follows
	target := path.Join(path.Dir(name), href)
	if href == "" {
		target = name
	} else if strings.HasSuffix(href, "/") || path.Ext(target) == "" {
		target = path.Join(target, "index.html")
	}
	return target
}

func searchLocations(file string) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read the search index: %w", err)
	}
	var index struct {
		Docs []struct {
			Location string `json:"location"`
		} `json:"docs"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	locs := make([]string, len(index.Docs))
	for i, d := range index.Docs {
		locs[i] = d.Location
	}
	return locs, nil
}
