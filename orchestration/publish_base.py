"""The copy of the published file that a publish by changed rows starts from,
made while dbt builds.

Publishing the rows a build changed (orchestration/publish.py) starts from a
copy of the published file and swaps it in once updated, so readers never
see a half-written file. At 100 stores that file is 4.9 GB, and copying it
right after dbt, while the working copy's writes still go to disk, took
18.7 s of a 25 s publish. The file does not change while the job runs (the
job is its only writer), so the dbt step starts the copy in the background
(`start`) and the publish step takes it (`take`): the copy then costs
disk time while dbt uses the processors.

The copy is taken only when it is a copy of the very file published now
(its inode, size and modification time, recorded beside the copy when it
is complete); anything else (no copy, an unfinished one, a copy of an
earlier file) and the publish copies the file itself, as before.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

# A copy running in this process, per published file: the publish step joins
# it (Dagster runs the steps of `aftersales run` in one process).
_running: dict[Path, threading.Thread] = {}


def base_path(published: Path) -> Path:
    """The copy, hidden beside the published file."""
    published = Path(published)
    return published.with_name(f".{published.name}.base")


def _stamp_path(published: Path) -> Path:
    return base_path(published).with_name(base_path(published).name + ".json")


def _identity(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns]


def start(published: Path) -> threading.Thread | None:
    """Start copying the published file, if there is one, in a background
    thread (returned; None when there is nothing to copy)."""
    published = Path(published).resolve()
    if not published.is_file():
        return None
    if published in _running:
        return _running[published]
    thread = threading.Thread(target=_copy, args=(published,), name="copy-published-file", daemon=True)
    _running[published] = thread
    thread.start()
    return thread


def _copy(published: Path) -> None:
    base, stamp = base_path(published), _stamp_path(published)
    stamp.unlink(missing_ok=True)
    try:
        identity = _identity(published)
        shutil.copyfile(published, base)
        # Complete: say of which file. An interrupted copy has no stamp.
        stamp.write_text(json.dumps(identity), encoding="utf-8")
    except OSError:
        _remove(published)  # the publish step copies the file itself


def take(published: Path, dest: Path) -> bool:
    """Make `dest` a copy of the published file: the one made meanwhile when
    it is of this very file (then True), else a copy made now (False)."""
    published = _wait_for_copy(published)
    base, stamp = base_path(published), _stamp_path(published)
    try:
        made_of = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        made_of = None
    if made_of == _identity(published) and base.is_file():
        os.replace(base, dest)
        stamp.unlink(missing_ok=True)
        return True
    _remove(published)
    shutil.copyfile(published, dest)
    return False


def discard(published: Path) -> None:
    """Remove the copy (a publish that writes every relation anew has no use for it)."""
    _remove(_wait_for_copy(published))


def _wait_for_copy(published: Path) -> Path:
    """Wait for this process's copy of `published`, if one runs; its resolved path."""
    published = Path(published).resolve()
    thread = _running.pop(published, None)
    if thread is not None:
        thread.join()
    return published


def _remove(published: Path) -> None:
    _stamp_path(published).unlink(missing_ok=True)
    base_path(published).unlink(missing_ok=True)
