"""MkDocs 1.4 hook for the two editions of the site.

docs/ is the English edition (mkdocs.yml) and docs/ko/ the Korean one
(mkdocs.ko.yml, built into ko/ of the same site), with the same file names.

- The English build leaves docs/ko/ to the Korean build: MkDocs 1.4 has no
  exclude_docs, and would otherwise render the Korean pages with the English
  theme and put them into the English search.
- The Korean build lays docs/ko/ over docs/: a page or file that has no
  Korean version yet (tools/translation lists them) is taken from the English
  edition, so that every page has its twin, every link resolves and the
  language switch always lands on the same page. Such a page says so in
  Korean at the top, and its text is marked lang="en".
"""

import os
import re

from mkdocs.structure.files import File

KOREAN = "ko"

BANNER = (
    '<div class="admonition note" lang="ko">'
    '<p class="admonition-title">아직 번역되지 않은 페이지</p>'
    "<p>이 페이지는 아직 한국어로 번역되지 않아 영어판 본문을 그대로 싣습니다.</p>"
    "</div>"
)


def _is_korean_build(config):
    return os.path.basename(os.path.normpath(config["docs_dir"])) == KOREAN


def on_files(files, config):
    if not _is_korean_build(config):
        for f in list(files):
            if f.src_path.replace("\\", "/").split("/")[0] == KOREAN:
                files.remove(f)
        return files

    english = os.path.dirname(os.path.normpath(config["docs_dir"]))
    have = {f.src_path.replace("\\", "/") for f in files}
    for root, dirs, names in os.walk(english, followlinks=True):
        rel = os.path.relpath(root, english)
        # As MkDocs does: no dot files or folders, no /templates; and not the Korean edition itself.
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and not (rel == "." and d in (KOREAN, "templates"))
        )
        for name in sorted(names):
            path = os.path.normpath(os.path.join(rel, name)).replace("\\", "/")
            if name.startswith(".") or path in have:
                continue
            files.append(File(path, english, config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_content(html, page, config, files):
    if not _is_korean_build(config) or _from_korean_edition(page, config):
        return html
    # The English text of a page not yet translated, inside a Korean page.
    m = re.search(r"</h1>", html)
    head, rest = (html[: m.end()], html[m.end():]) if m else ("", html)
    return '<div lang="en">' + head + "</div>" + BANNER + '<div lang="en">' + rest + "</div>"


def _from_korean_edition(page, config):
    src = os.path.normpath(page.file.abs_src_path)
    return src.startswith(os.path.normpath(config["docs_dir"]) + os.sep)
