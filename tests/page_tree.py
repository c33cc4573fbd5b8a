"""A small element tree of a rendered page, for tests that read figures off
the dashboards by their data-* attributes (standard library only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list = field(default_factory=list)  # Element or str

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children).strip()

    def get(self, name: str, default=None):
        return self.attrs.get(name, default)

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Element):
                yield from c.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list[Element]:
        """Elements with the tag and every given attribute (data_col='x' means
        data-col="x", class_='x' class="x"; True means the attribute is
        present with any value)."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            e for e in self.iter()
            if (tag is None or e.tag == tag)
            and all((k in e.attrs) if v is True else e.attrs.get(k) == v for k, v in wanted.items())
        ]

    def find(self, tag: str | None = None, **attrs) -> Element:
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag} {attrs}>, found {len(found)}"
        return found[0]

    def first(self, tag: str | None = None, **attrs) -> Element | None:
        """The first such element, or None when there is none."""
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def clean(self) -> str:
        """The text with every run of white space made one space."""
        return " ".join(self.text().split())

    def cell(self, col: str) -> str:
        """The text of the row's <td data-col=col>."""
        return self.find("td", data_col=col).text()

    def cells(self) -> dict[str, tuple[str, str | None]]:
        """data-col -> (text, title) of every cell below this element."""
        return {c.attrs["data-col"]: (c.clean(), c.attrs.get("title")) for c in self.find_all(data_col=True)}


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: (v if v is not None else "") for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, {k: (v if v is not None else "") for k, v in attrs}))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def read(path: Path) -> Element:
    return parse(Path(path).read_text(encoding="utf-8"))
