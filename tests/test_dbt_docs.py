"""`aftersales docs` (what `make docs` runs) on a warehouse the real pipeline
built: one self-contained index.html with the project's models, their YAML
descriptions and the published warehouse's catalog, and no pseudonym key in it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from orchestration.settings import DBT_PROJECT_DIR

MARTS_YAML = DBT_PROJECT_DIR / "models" / "marts" / "_marts__models.yml"
SECRET = "test-only-pseudonym-key-5c1e"


def _embedded(html: str) -> tuple[dict, dict]:
    """The manifest and catalog the static page carries as JS object literals."""
    decoder = json.JSONDecoder()
    start = html.index("manifest:") + len("manifest:")
    manifest, end = decoder.raw_decode(html, start)
    assert html[end:].startswith(",catalog:")
    catalog, _ = decoder.raw_decode(html, end + len(",catalog:"))
    return manifest, catalog


def test_docs_site_is_one_file_with_descriptions_and_catalog(demo_build, tmp_path):
    out = tmp_path / "dbt_docs"
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "docs",
         "--warehouse", str(demo_build.warehouse), "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "AFTERSALES_PSEUDONYM_KEY": SECRET},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    index = out / "index.html"
    assert str(index) in proc.stdout
    assert [p.name for p in out.iterdir()] == ["index.html"]
    html = index.read_text(encoding="utf-8")
    assert "fct_customer_month" in html

    descriptions = {m["name"]: m["description"] for m in yaml.safe_load(MARTS_YAML.read_text())["models"]}
    manifest, catalog = _embedded(html)
    node = "model.aftersales_warehouse.fct_customer_month"
    assert manifest["nodes"][node]["description"] == descriptions["fct_customer_month"]
    assert json.dumps(descriptions["fct_customer_month"])[1:-1] in html
    # the catalog comes from the built warehouse: the published file, which holds the analyst schemas only
    assert catalog["nodes"][node]["metadata"]["schema"] == "marts"
    assert {"store_code", "vin", "churn_status"} <= set(catalog["nodes"][node]["columns"])
    assert {n["metadata"]["schema"] for n in catalog["nodes"].values()} == {"marts", "seeds"}
    assert catalog["sources"] == {}
    # the compiled SQL shows where the pseudonym key comes from, never the key
    assert SECRET not in html
    assert "AFTERSALES_PSEUDONYM_KEY" in manifest["nodes"]["model.aftersales_warehouse.stg_dms__customers"][
        "compiled_code"
    ]


def test_docs_without_a_warehouse_says_run_first(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "docs",
         "--warehouse", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "docs")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "no warehouse at" in proc.stderr and "aftersales run" in proc.stderr
    assert not (tmp_path / "docs").exists()
