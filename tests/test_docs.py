"""The documentation holds together: links resolve, every route is documented, the README is short.

- every relative link in README.md and docs/*.md names an existing file, and
  a `#fragment` names a heading of the target (GitHub's anchors);
- every route app.py declares (`@app.route(PATH, methods=[...])`) appears in
  docs/api.md as `METHOD PATH`;
- the README stays a front door (at most MAX_README_LINES lines).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_README_LINES = 220

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target) and ![alt](target), with an optional "title"; reference definitions.
_INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]"  # [text], one level of nested brackets
    r"\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)"  # (target "title")
)
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
_HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (links and headings there are not real)."""
    lines, fenced = [], None
    for line in text.splitlines():
        fence = _FENCE.match(line)
        if fence and (fenced is None or fence.group(1) == fenced):
            fenced = fence.group(1) if fenced is None else None
            continue
        if fenced is None:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower case, punctuation dropped, spaces as -."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = _CODE_SPAN.sub(lambda m: m.group(2), text)
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a Markdown file defines (repeated headings get -1, -2, ...)."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in _prose_lines(text):
        found.update(_HTML_ANCHOR.findall(line))
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(text: str) -> list[str]:
    """Every link target in the prose (code spans and code blocks left out)."""
    targets = []
    for line in _prose_lines(text):
        reference = _REFERENCE.match(line)
        if reference:
            targets.append(reference.group(1))
            continue
        targets += _INLINE_LINK.findall(_CODE_SPAN.sub("", line))
    return targets


def broken_links(path: Path, text: str) -> list[str]:
    """The relative links of `text` (the content of `path`) that lead nowhere."""
    broken = []
    for target in links(text):
        if not target or re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # an absolute URL (https:, mailto:): not ours to check offline
        file_part, _, fragment = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif fragment:
            if destination.is_dir() or destination.suffix.lower() != ".md":
                broken.append(f"{target}: an anchor into a file that is not Markdown")
            elif fragment not in anchors(destination.read_text(encoding="utf-8")):
                broken.append(f"{target}: no heading with that anchor")
    return broken


def declared_routes(source: str) -> list[tuple[str, str]]:
    """(METHOD, PATH) of every `@app.route(PATH, methods=[...])` (GET when methods is absent)."""
    routes = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "route"
            ):
                continue
            path = ast.literal_eval(decorator.args[0])
            methods = ["GET"]
            for keyword in decorator.keywords:
                if keyword.arg == "methods":
                    methods = ast.literal_eval(keyword.value)
            routes += [(method.upper(), path) for method in methods]
    return routes


def undocumented_routes(routes: list[tuple[str, str]], api_doc: str) -> list[str]:
    """The routes that `api_doc` never names as `METHOD PATH`."""
    missing = []
    for method, path in routes:
        # `GET /images` must not count as documenting `GET /images/download`.
        if not re.search(rf"\b{method} {re.escape(path)}(?![\w/.-])", api_doc):
            missing.append(f"{method} {path}")
    return missing


def test_every_relative_link_resolves() -> None:
    problems = []
    for path in doc_files():
        for problem in broken_links(path, path.read_text(encoding="utf-8")):
            problems.append(f"{path.relative_to(ROOT)}: {problem}")
    assert not problems, "\n".join(problems)


def test_every_route_is_in_the_api_reference() -> None:
    routes = declared_routes((ROOT / "app.py").read_text(encoding="utf-8"))
    assert ("GET", "/images") in routes and len(routes) >= 5, routes
    api_doc = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert not undocumented_routes(routes, api_doc)


def test_readme_is_a_front_door() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines"


def test_the_docs_exist_and_the_readme_links_each() -> None:
    readme_links = set(links((ROOT / "README.md").read_text(encoding="utf-8")))
    for name in ("api", "record", "architecture", "deploy", "operations", "benchmarks"):
        assert (ROOT / "docs" / f"{name}.md").is_file(), name
        assert any(t.partition("#")[0] == f"docs/{name}.md" for t in readme_links), name


# --- the checks themselves can fail -----------------------------------------------
def test_slugs_follow_github() -> None:
    assert slug("How it works") == "how-it-works"
    assert slug("`GET /images/download`: the bytes") == "get-imagesdownload-the-bytes"
    assert slug("Reconcile: backfill & repair") == "reconcile-backfill--repair"
    assert slug("[Deploy](docs/deploy.md) it") == "deploy-it"
    assert anchors("# A\n## A\n```\n# not a heading\n```\n") == {"a", "a-1"}


def test_broken_links_and_anchors_are_found() -> None:
    readme = ROOT / "README.md"
    text = (
        "[ok](docs/api.md) [missing](docs/nope.md) [web](https://example.com/x)\n"
        "[bad anchor](docs/api.md#no-such-heading) `[in code](nowhere.md)`\n"
        "```\n[in a block](nowhere.md)\n```\n"
        "[self](#no-such-heading-here)\n"
    )
    assert broken_links(readme, text) == [
        "docs/nope.md: no such file",
        "docs/api.md#no-such-heading: no heading with that anchor",
        "#no-such-heading-here: no heading with that anchor",
    ]


def test_undocumented_routes_are_found() -> None:
    source = (
        "@app.route('/a', methods=['GET', 'POST'])\ndef a(): ...\n"
        "@app.route('/a/b')\ndef b(): ...\n"
    )
    routes = declared_routes(source)
    assert routes == [("GET", "/a"), ("POST", "/a"), ("GET", "/a/b")]
    assert undocumented_routes(routes, "`GET /a/b` and `POST /a`") == ["GET /a"]
