"""The PostgreSQL documentation as a corpus of passages.

Debian's postgresql-doc-N installs the manual as about 1,200 XHTML pages.
Each page is split at its headings into sections, and each section into
passages of about 120 words: paragraphs are kept whole where they fit.
Navigation bars and tables of contents are left out.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator

def _newest_manual() -> Path:
    """The HTML manual of the newest postgresql-doc-N installed (Debian 12: 15)."""
    def major(html: Path) -> int:
        suffix = html.parent.name.rsplit("-", 1)[-1]
        return int(suffix) if suffix.isdigit() else 0
    found = sorted(Path("/usr/share/doc").glob("postgresql-doc-*/html"), key=major)
    return found[-1] if found else Path("/usr/share/doc/postgresql-doc-15/html")


DOCS_DIR = _newest_manual()
PASSAGE_WORDS = 120
MIN_WORDS = 12
_SKIP_CLASSES = {"navheader", "navfooter", "toc", "index", "list-of-tables", "list-of-figures", "list-of-examples"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5"}
_BLOCKS = _HEADINGS | {"p", "li", "dt", "dd", "pre", "td", "th", "tr", "table", "div", "blockquote", "title"}
_VOID = {"br", "img", "meta", "link", "hr", "col", "input", "area", "base", "wbr"}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Passage:
    """A piece of one page of the manual."""

    page: str  # file name, e.g. sql-createindex.html
    title: str  # the page's title
    section: str  # the heading the passage is under
    text: str

    def for_embedding(self) -> str:
        """The text an embedder sees: where the passage is, then what it says."""
        head = self.title if self.section in ("", self.title) else f"{self.title}: {self.section}"
        return f"{head}. {self.text}"


class _PageParser(HTMLParser):
    """Collects (kind, text) blocks of a page: kind is "title", "heading"
    or "text"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self._stack: list[tuple[str, bool]] = []  # open tags and whether they are skipped
        self._buf: list[str] = []

    @property
    def _skipping(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        if tag in _BLOCKS:
            self._flush("text")
        classes = set((dict(attrs).get("class") or "").split())
        self._stack.append((tag, self._skipping or bool(classes & _SKIP_CLASSES)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not any(t == tag for t, _ in self._stack):
            return
        if tag in _BLOCKS:
            self._flush("title" if tag == "title" else "heading" if tag in _HEADINGS else "text")
        while self._stack and self._stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._buf.append(data)

    def _flush(self, kind: str) -> None:
        text = _SPACES.sub(" ", "".join(self._buf)).strip()
        self._buf.clear()
        if text:
            self.blocks.append((kind, text))


def _word_windows(text: str, size: int) -> Iterator[str]:
    words = text.split()
    for start in range(0, len(words), size):
        yield " ".join(words[start:start + size])


def page_passages(path: Path, words: int = PASSAGE_WORDS) -> list[Passage]:
    """The passages of one HTML page."""
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    title, section = path.stem, ""
    pending: list[str] = []
    out: list[Passage] = []

    def emit() -> None:
        text = " ".join(pending)
        pending.clear()
        for piece in _word_windows(text, words):
            if len(piece.split()) >= MIN_WORDS:
                out.append(Passage(path.name, title, section, piece))

    for kind, text in parser.blocks:
        if kind == "title":
            title = text
        elif kind == "heading":
            emit()
            section = text
        else:
            if pending and len(" ".join(pending).split()) + len(text.split()) > words:
                emit()
            pending.append(text)
    emit()
    return out


def load_passages(directory: Path = DOCS_DIR, max_pages: int | None = None,
                  words: int = PASSAGE_WORDS) -> list[Passage]:
    """All passages of the HTML pages of a directory, in file name order."""
    pages = sorted(directory.glob("*.html"))
    if not pages:
        raise FileNotFoundError(
            f"no HTML pages in {directory}: install Debian's postgresql-doc-N package or give --docs")
    out: list[Passage] = []
    for page in pages[:max_pages]:
        out.extend(page_passages(page, words))
    return out


SNIPPET_CHARS = 320


def passage_lines(rank: int, score: str, metadata: dict[str, Any] | None, text: str | None) -> list[str]:
    """A found passage as printed: rank, score, title / section and page,
    then the start of its text, indented."""
    meta = metadata or {}
    where = meta.get("title", "?")
    if meta.get("section") and meta.get("section") != where:
        where += f" / {meta['section']}"
    return [f"{rank:3d}. [{score}] {where}  ({meta.get('page', '?')})",
            textwrap.fill(textwrap.shorten(text or "", SNIPPET_CHARS, placeholder=" ..."),
                          width=96, initial_indent="       ", subsequent_indent="       ")]
