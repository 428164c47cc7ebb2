"""What an English page may still show in Chinese: handbook quotations (inside an element marked
lang="zh-Hans", backoffice/i18n.py) and data: people's, employers' and places' names.
Everything else on an English page is English (tests/test_english_pages.py)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")  # ideographs (full-width punctuation alone is not Chinese text)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SKIPPED = {"script", "style", "template"}
SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden: quotation, script…)
        self.chunks: list[str] = []

    @property
    def hidden(self) -> bool:
        return any(h for _t, h in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        quotation = str(attrs.get("lang") or "").lower().startswith("zh")
        if not self.hidden and not quotation:
            self.chunks += [str(attrs[a]) for a in SHOWN_ATTRIBUTES if attrs.get(a)]
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.chunks.append(str(attrs["value"]))
        if tag not in VOID:
            self.stack.append((tag, quotation or tag in SKIPPED))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if not self.hidden:
            self.chunks.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return "\n".join(c.strip() for c in parser.chunks if c.strip())


def data_names(session) -> set[str]:
    """Names that are data in every language: districts, staff, applicants, employers, children."""
    from sqlalchemy import select

    from backoffice.applications.models import Applicant
    from backoffice.reference.models import District, Employer
    from backoffice.staff.models import Staff

    from backoffice.reference.data import DISTRICTS

    from backoffice.scoring.tables import DISTRICTS as SCORING_DISTRICTS  # with 市本级, 北京经济技术开发区

    names = {d[1] for d in DISTRICTS} | set(SCORING_DISTRICTS)
    for column in (District.name, Staff.full_name, Applicant.name, Employer.name):
        names.update(v for v in session.scalars(select(column)) if v)
    return names


def chinese_left(html: str, allowed: set[str] = frozenset()) -> list[str]:
    """The lines of an English page's visible text that still carry Chinese not in `allowed`."""
    left = []
    for line in visible_text(html).splitlines():
        stripped = line
        for name in sorted(allowed, key=len, reverse=True):
            stripped = stripped.replace(name, "")
        if CJK.search(stripped):
            left.append(line)
    return left
