"""`aftersales docs` / `make docs`: the dbt documentation site as one file.

`dbt docs generate --static` writes static_index.html with the manifest and
the catalog inside, which opens from disk without a web server. The catalog
reads the built tables of a copy of the published warehouse, which holds the
analyst relations (marts, ops, seeds): those are documented with their
columns' types; staging and intermediate models appear with their YAML
descriptions and SQL only (their tables are in the owner-only working copy).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from orchestration import settings

DEFAULT_OUT_DIR = settings.VAR_DIR / "dbt_docs"

# The compiled SQL in the site would show the pseudonym key (SPEC section 9);
# the docs are compiled with this placeholder in its place.
PSEUDONYM_KEY_ENV = "AFTERSALES_PSEUDONYM_KEY"
PSEUDONYM_KEY_PLACEHOLDER = "<the key in AFTERSALES_PSEUDONYM_KEY>"


class DbtDocsError(Exception):
    """A problem the command reports in one line (exit code 2)."""


def build_dbt_docs(warehouse: Path, out_dir: Path = DEFAULT_OUT_DIR) -> Path:
    """Generate the dbt docs of the project against `warehouse` and write the
    single-file site to out_dir/index.html; return its path."""
    warehouse, out_dir = Path(warehouse).resolve(), Path(out_dir).resolve()
    if not warehouse.is_file():
        raise DbtDocsError(f"no warehouse at {warehouse}: run `aftersales run` first")
    with tempfile.TemporaryDirectory(prefix="dbt_docs_") as tmp:
        # dbt opens its database for writing: give it a copy, so analysts
        # reading the published warehouse are never in its way.
        copy = Path(tmp) / "warehouse.duckdb"
        shutil.copyfile(warehouse, copy)
        env = {**os.environ, settings.WAREHOUSE_ENV: str(copy), PSEUDONYM_KEY_ENV: PSEUDONYM_KEY_PLACEHOLDER}
        target = Path(tmp) / "target"
        proc = subprocess.run(
            [
                settings.DBT_EXECUTABLE, "docs", "generate", "--static",
                "--project-dir", str(settings.DBT_PROJECT_DIR),
                "--profiles-dir", str(settings.DBT_PROJECT_DIR),
                "--target-path", str(target),
                "--log-path", str(Path(tmp) / "logs"),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        site = target / "static_index.html"
        if proc.returncode != 0 or not site.is_file():
            output = (proc.stdout + proc.stderr).strip()
            raise DbtDocsError("dbt docs generate failed:\n" + "\n".join(output.splitlines()[-20:]))
        out_dir.mkdir(parents=True, exist_ok=True)
        index = out_dir / "index.html"
        partial = out_dir / ".index.html.partial"
        shutil.copyfile(site, partial)
        os.replace(partial, index)
    return index
