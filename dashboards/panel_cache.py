"""The month panels of the store pages and the group overview, rendered
once and kept between renders.

A store page holds one panel per month with data (the month filter shows
one at a time), so its HTML grows with the history while a day changes the
panels of the few months its data reaches. Formatting and rendering every
panel again was about half of the pages step of a 100-store day
(docs/decisions.md, "The store pages keep their month panels"); the group
overview's panels (a league table of every store a month) were a quarter of
what was left. A panel is the same HTML whenever its rows, its month, the
latest month and the dashboards' code are the same: it is kept under a
digest of those, per language, one file per store (and one for the group
overview, pages/group.py's GROUP_PANELS) in a folder of the data engineers'
working area. Panels whose digest no render asks for any more are dropped
when the page's file is written again; a folder written by other code is
ignored.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from dashboards.site import PACKAGE_DIR, store_file_name

# The files a panel's HTML is made by: the page modules, templates and labels.
CODE_SUFFIXES = (".py", ".html", ".yml")
FORMAT = 1  # of a store's file; bumped when its layout changes


def code_fingerprint(package_dir: Path = PACKAGE_DIR) -> str:
    digest = hashlib.blake2b(f"format {FORMAT}".encode(), digest_size=16)
    for path in sorted(p for p in package_dir.rglob("*") if p.suffix in CODE_SUFFIXES and p.is_file()):
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class PanelCache:
    """Panels by store, digest and language; `folder` None keeps them for
    this render only (the pages are the same either way)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.code = code_fingerprint()
        self._panels: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)  # store -> digest -> language -> html
        self._changed: set[str] = set()
        self._used: dict[str, set[str]] = defaultdict(set)  # the digests this render asked for
        self.added: list[tuple[str, str, str, str]] = []  # (store, digest, language, html) rendered here

    def digest(self, store_code: str, parts: Any) -> str:
        """The key of a panel made from `parts` (its month, the latest month
        and its rows, in a fixed order) on `store_code`'s page."""
        blob = pickle.dumps((self.code, store_code, parts), protocol=5)
        digest = hashlib.blake2b(blob, digest_size=16).hexdigest()
        self._used[store_code].add(digest)
        return digest

    def load(self, store_codes) -> None:
        if self.folder is None:
            return
        for code in store_codes:
            path = self._path(code)
            if not path.is_file():
                continue
            # Written by this module into the owner-only working area, never from outside.
            with path.open("rb") as fh:
                kept = pickle.load(fh)
            if kept.get("code") == self.code:
                self._panels[code] = kept["panels"]

    def has(self, store_code: str, digest: str, languages) -> bool:
        panels = self._panels[store_code].get(digest)
        return panels is not None and all(language in panels for language in languages)

    def get(self, store_code: str, digest: str, language: str) -> str | None:
        return self._panels[store_code].get(digest, {}).get(language)

    def put(self, store_code: str, digest: str, language: str, html: str) -> None:
        self._panels[store_code].setdefault(digest, {})[language] = html
        self._changed.add(store_code)
        self.added.append((store_code, digest, language, html))

    def merge(self, added: list[tuple[str, str, str, str]]) -> None:
        """Panels another process rendered (a language's forked worker)."""
        for entry in added:
            self.put(*entry)

    def panels_used(self) -> int:
        return sum(len(digests) for digests in self._used.values())

    def save(self) -> None:
        """Keep each store's panels this render asked for; write the stores
        whose panels changed and remove the files of stores gone from the site."""
        for code, digests in self._used.items():
            kept = {d: p for d, p in self._panels[code].items() if d in digests}
            if len(kept) != len(self._panels[code]):
                self._changed.add(code)
            self._panels[code] = kept
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for code in sorted(self._changed & self._used.keys()):
            _write(self._path(code), {"code": self.code, "panels": self._panels[code]})
        self._changed.clear()
        current = {self._path(code) for code in self._used}
        for path in self.folder.glob("*.pickle"):
            if path not in current:
                path.unlink()

    def _path(self, store_code: str) -> Path:
        assert self.folder is not None
        return self.folder / (store_file_name(store_code).removesuffix(".html") + ".pickle")


def _write(path: Path, value: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=5)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
