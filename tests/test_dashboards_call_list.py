"""The call list pages (call_lists/<store>.html): every store's list as the
marts hold it, in call order, with masked contacts only, in both languages.

The pages are rendered from the demo build's published warehouse; the
expected figures are read from marts.call_list with SQL written here (not the
page's query files), and the real names and phones from the landing CSVs.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from independent import read_landing_csv
from page_tree import read

from dashboards.pages import call_list
from dashboards.render import render_dashboards
from orchestration import cli

ROOT = Path(__file__).resolve().parent.parent


def yuan(value: Decimal) -> str:
    return f"¥{value:,.2f}"


@pytest.fixture(scope="module")
def site(demo_build, tmp_path_factory):
    out = tmp_path_factory.mktemp("call_list_site")
    result = render_dashboards(demo_build.warehouse, out)
    return out, result


@pytest.fixture(scope="module")
def marts(demo_build):
    """The call lists and the stores, straight from the published warehouse."""
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        stores = [code for (code,) in con.execute("select store_code from marts.dim_stores order by 1").fetchall()]
        lists = {code: con.execute(
            """select call_rank, customer_key, customer_id, phone_masked, name_masked, call_reason, annual_spend
               from marts.call_list where store_code = ? order by call_rank""", [code]).fetchall()
            for code in stores}
        (as_of,) = con.execute("select max(as_of_date) from marts.call_list").fetchone()
    return stores, lists, as_of


@pytest.fixture(scope="module")
def landing_contacts(demo_build):
    """(store, customer_id) -> every real name and phone the landing delivered for it."""
    contacts: dict[tuple[str, str], set[str]] = {}
    for path in demo_build.landing.glob("dms/*/*/customers.csv"):
        for row in read_landing_csv(path, "dms_customers"):
            values = contacts.setdefault((row["store_code"], row["customer_id"]), set())
            values.update(v for v in (row["name"].strip(), row["phone"].strip()) if v)
    assert len(contacts) > 100
    return contacts


def page_rows(page):
    return [
        (int(tr.get("data-rank")), tr.get("data-customer-key"), tr.cell("customer_id"), tr.cell("phone_masked"),
         tr.cell("name_masked"), tr.get("data-reason"), tr.cell("annual_spend"))
        for tr in page.find("table", class_="call-list").find_all("tr", data_rank=True)
    ]


def test_a_call_list_page_per_store_in_both_languages(site, marts):
    out, result = site
    stores, lists, _ = marts
    assert sorted(result.call_list_pages) == stores
    for code in stores:
        assert result.call_list_pages[code] == out / "call_lists" / f"{code}.html"
        assert (out / "en" / "call_lists" / f"{code}.html").is_file()
    assert sum(len(rows) for rows in lists.values()) > 10, "the demo has customers to call"


def test_every_store_shows_its_list_in_call_order(site, marts):
    out, _ = site
    stores, lists, _ = marts
    for code in stores:
        expected = [(rank, key, cid, phone, name, reason, yuan(spend))
                    for rank, key, cid, phone, name, reason, spend in lists[code]]
        assert len(expected) <= call_list.PAGE_ROWS  # the demo's lists fit on a page
        for language in ("", "en/"):
            page = read(out / language / "call_lists" / f"{code}.html")
            assert page_rows(page) == expected, (code, language)
            assert not page.find_all(data_note="truncated")


def test_both_languages_show_the_same_rows_with_their_own_labels(site, marts):
    out, _ = site
    stores, _, _ = marts
    for code in stores:
        zh = read(out / "call_lists" / f"{code}.html")
        en = read(out / "en" / "call_lists" / f"{code}.html")
        assert page_rows(zh) == page_rows(en)
        labels = {"zh": Counter(), "en": Counter()}
        for language, page in (("zh", zh), ("en", en)):
            for tr in page.find("table", class_="call-list").find_all("tr", data_rank=True):
                labels[language][(tr.get("data-reason"), tr.cell("call_reason"))] += 1
        for (reason, text) in labels["en"]:
            assert text != reason and not re.search(r"[\u4e00-\u9fff]", text), text  # labelled, in English
        for (reason, text) in labels["zh"]:
            assert re.search(r"[\u4e00-\u9fff]", text), text  # labelled, in Chinese


def test_counts_by_call_reason_and_the_as_of_date(site, marts):
    out, _ = site
    stores, lists, as_of = marts
    for code in stores:
        counts = Counter(reason for *_, reason, _ in lists[code])
        spend = {r: sum((s for *_, reason, s in lists[code] if reason == r), Decimal(0)) for r in counts}
        for language in ("", "en/"):
            page = read(out / language / "call_lists" / f"{code}.html")
            table = page.find("table", class_="call-reasons")
            shown = {tr.get("data-reason"): (tr.cell("customers"), tr.cell("annual_spend"))
                     for tr in table.find_all("tr", data_reason=True)}
            total_spend = yuan(sum(spend.values(), Decimal(0))) if lists[code] else "—"
            assert shown.pop("total") == (f"{len(lists[code]):,}", total_spend)
            assert {r: n for r, (n, _) in shown.items() if n != "0"} == {r: f"{n:,}" for r, n in counts.items()}
            assert {r: s for r, (n, s) in shown.items() if n != "0"} == {r: yuan(s) for r, s in spend.items()}
            assert page.find(data_as_of=True).text() == as_of.isoformat()
            assert as_of.isoformat() in page.find(data_note="as-of").text()


def test_contacts_are_masked_and_no_real_name_or_phone_is_on_the_pages(site, marts, landing_contacts):
    out, _ = site
    stores, lists, _ = marts
    for code in stores:
        for _, _, cid, phone, name, _, _ in lists[code]:
            real = landing_contacts[(code, cid)]
            real_phones = {re.sub(r"\D", "", v) for v in real if re.sub(r"\D", "", v)}
            assert "****" in phone and any(p.endswith(phone[-4:]) and p[:3] == phone[:3] for p in real_phones)
            assert "*" in name
    private = {v for values in landing_contacts.values() for v in values if len(v) >= 2}
    pages = [p for p in out.rglob("*.html") if "call_lists" in p.parts]
    assert len(pages) == 2 * len(stores)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        leaked = [v for v in private if v in text]
        assert not leaked, (page, leaked[:5])


def test_the_page_names_the_export_command_of_its_store(site, marts, demo_build, tmp_path):
    out, _ = site
    stores, lists, _ = marts
    for code in stores:
        for language in ("", "en/"):
            page = read(out / language / "call_lists" / f"{code}.html")
            command = shlex.split(page.find(data_export_command=True).text())
            assert command[:2] == ["aftersales", "call-list"]
            assert command[command.index("--store") + 1] == code
            assert page.find(data_note="export-privacy").text()
            # back to the store's page
            assert page.find_all("a", href=f"../stores/{code}.html")
        # the command as the page names it writes the store's whole list
        command[command.index("--out") + 1] = str(tmp_path / f"{code}.csv")
        assert cli.main(command[1:] + ["--warehouse", str(demo_build.warehouse)]) == 0
        lines = (tmp_path / f"{code}.csv").read_text(encoding="utf-8-sig").splitlines()
        assert len(lines) == 1 + len(lists[code])


def test_a_long_list_shows_its_first_rows_and_says_the_export_has_all(demo_build, marts, tmp_path, monkeypatch):
    stores, lists, _ = marts
    code = max(stores, key=lambda c: len(lists[c]))
    shown = 5
    assert len(lists[code]) > shown
    monkeypatch.setattr(call_list, "PAGE_ROWS", shown)
    render_dashboards(demo_build.warehouse, tmp_path)
    for language in ("", "en/"):
        page = read(tmp_path / language / "call_lists" / f"{code}.html")
        assert [row[0] for row in page_rows(page)] == list(range(1, shown + 1))
        note = page.find(data_note="truncated").text()
        assert str(shown) in note and str(len(lists[code])) in note
        # the counts by reason still cover the whole list
        total = page.find("table", class_="call-reasons").find("tr", data_reason="total")
        assert total.cell("customers") == f"{len(lists[code]):,}"


def test_the_readme_states_the_page_limit():
    readme = (ROOT / "dashboards" / "README.md").read_text(encoding="utf-8")
    assert f"first {call_list.PAGE_ROWS}" in readme and "call_lists/" in readme


def test_the_privacy_scan_covers_the_call_list_pages(demo_build):
    # tests/test_privacy.py scans every page the pipeline rendered: the call
    # lists are among them, in both languages
    pages = list((demo_build.root / "dashboards").rglob("*.html"))
    assert any(p.parent.name == "call_lists" and p.parent.parent.name == "en" for p in pages)
    assert any(p.parent.name == "call_lists" and p.parent.parent == demo_build.root / "dashboards" for p in pages)
