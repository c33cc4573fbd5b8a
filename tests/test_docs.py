"""The documentation stands on its own and says what the code does.

A clone holds nothing but the repository, so no tracked file may point outside
it, and every relative link in the Markdown must land on a file (and heading)
that exists. The landing contract page lists the columns the loader reads:
it is compared with `sources/contract.py` both ways, so the two cannot drift.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from sources.contract import ENUMERATIONS, LANDING_TABLES

ROOT = Path(__file__).resolve().parent.parent
LANDING_CONTRACT = ROOT / "docs" / "landing_contract.md"
# Files the contract names that the loader does not read yet; the page marks
# them "planned, not built yet". When contract.py gains one, it leaves this set.
PLANNED_FILES: set[str] = set()

# Paths that exist only on a developer's machine, never in a clone.
OUTSIDE_REFERENCES = re.compile(r"\.\./shared\b|\bshared/(SPEC|STACK)\.md|/work/|/home/\w+|/Users/\w+")
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    return [ROOT / p for p in out.decode().split("\0") if p]


def text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        return None  # binary or a GB18030 fixture: holds no paths to check


def markdown_files() -> list[Path]:
    return [p for p in tracked_files() if p.suffix == ".md"]


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a heading: lower case, punctuation dropped
    (letters of any script, digits, '_' and '-' kept), spaces to hyphens."""
    text = heading.strip().replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors_of(path: Path) -> set[str]:
    body = FENCE.sub("", path.read_text(encoding="utf-8"))
    anchors: set[str] = set()
    for line in body.splitlines():
        m = re.match(r"#{1,6} (.+)", line)
        if m:
            base = github_anchor(m.group(1))
            anchor, n = base, 0
            while anchor in anchors:  # GitHub numbers repeated headings
                n += 1
                anchor = f"{base}-{n}"
            anchors.add(anchor)
    return anchors


def test_no_tracked_file_points_outside_the_repository():
    offenders = []
    for path in tracked_files():
        if path.resolve() == Path(__file__).resolve():
            continue  # this file names the patterns it looks for
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE_REFERENCES.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not offenders, "references outside the repository:\n" + "\n".join(offenders)


def relative_links(path: Path) -> list[str]:
    body = INLINE_CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    return [
        target
        for target in MARKDOWN_LINK.findall(body)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


def test_markdown_files_are_found():
    names = {str(p.relative_to(ROOT)) for p in markdown_files()}
    assert {"README.md", "docs/landing_contract.md", "docs/metrics.md", "docs/decisions.md"} <= names


@pytest.mark.parametrize("doc", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path):
    broken = []
    for target in relative_links(doc):
        file_part, _, fragment = target.partition("#")
        linked = (doc.parent / file_part).resolve() if file_part else doc.resolve()
        if not linked.is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
        elif not linked.exists():
            broken.append(f"{target}: no such file")
        elif fragment and linked.suffix == ".md" and fragment not in anchors_of(linked):
            broken.append(f"{target}: no heading #{fragment} in {linked.relative_to(ROOT)}")
    assert not broken, f"{doc.relative_to(ROOT)}:\n" + "\n".join(broken)


def test_the_link_checker_sees_a_broken_link(tmp_path):
    """The checks above would pass vacuously if they found no links."""
    assert ("docs/landing_contract.md" in relative_links(ROOT / "README.md"))
    assert github_anchor("### 3.21 Lifetime value lost (终身价值)".lstrip("# ")) == "321-lifetime-value-lost-终身价值"
    assert github_anchor("`crm/campaigns.csv` (招揽活动 / 整改措施)") == "crmcampaignscsv-招揽活动--整改措施"


def documented_files() -> dict[str, dict]:
    """Per file heading of the landing contract page: its columns as
    {name: (zh, type, required)}, and whether the heading says planned."""
    files: dict[str, dict] = {}
    current = None
    for line in LANDING_CONTRACT.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"### `([a-z]+/[a-z_]+\.csv)`(.*)", line)
        if heading:
            current = files.setdefault(
                heading.group(1), {"columns": {}, "planned": "planned, not built yet" in heading.group(2)}
            )
            continue
        if line.startswith("## "):
            current = None
        row = re.match(r"\| `(\w+)` \| ([^|]+) \| ([^|]+) \| ([^|]*) \|", line)
        if current is not None and row:
            name, zh, kind, required = (g.strip() for g in row.groups())
            assert name not in current["columns"], f"{name} listed twice"
            current["columns"][name] = (zh, kind, required == "yes")
    return files


DOC_TYPE = {
    "text": "text",
    "date": "date",
    "timestamp": "timestamp",
    "amount": "amount",
    "number": "number",
    "integer": "integer",
    "flag": "flag",
    "enum": "enumeration",
    "enum_list": "list of enumerations",
}


def test_landing_contract_page_lists_the_loaders_files_and_planned_ones():
    documented = documented_files()
    built = {f"{t.source}/{t.file_name}" for t in LANDING_TABLES}
    assert set(documented) == built | PLANNED_FILES
    assert not built & PLANNED_FILES, "a planned file is now read: drop 'planned' from the page and this set"
    assert {f for f, d in documented.items() if d["planned"]} == PLANNED_FILES


@pytest.mark.parametrize("table", LANDING_TABLES, ids=lambda t: t.file_name)
def test_landing_contract_page_columns_match_the_loader(table):
    documented = documented_files()[f"{table.source}/{table.file_name}"]["columns"]
    in_code = {c.name: (c.zh, DOC_TYPE[c.kind], c.required) for c in table.columns}
    assert list(documented) == list(in_code), "columns differ (or their order)"
    assert documented == in_code, "Chinese header, type or required flag differ"


def test_landing_contract_page_keys_match_the_loader():
    text = LANDING_CONTRACT.read_text(encoding="utf-8")
    for table in LANDING_TABLES:
        section = text.split(f"### `{table.source}/{table.file_name}`", 1)[1]
        key_line = re.search(r"Key: (.+?)\.", section).group(1)
        assert re.findall(r"`(\w+)`", key_line) == list(table.key), table.file_name


def test_landing_contract_page_enumerations_match_the_loader():
    text = LANDING_CONTRACT.read_text(encoding="utf-8")
    section = text.split("## Enumerations", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for line in section.splitlines():
        row = re.match(r"\| (\w+) \| (.+) \|$", line)
        if row and row.group(1) != "enumeration":
            documented[row.group(1)] = dict(re.findall(r"`(\w+)` (\S+)", row.group(2)))
    assert documented == ENUMERATIONS
