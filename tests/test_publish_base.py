"""The copy of the published file made while dbt builds
(orchestration/publish_base.py): the publish takes it only when it is a
complete copy of the very file published now; otherwise it copies that file."""

from __future__ import annotations

import os

from orchestration import publish_base


def _published(tmp_path, content: bytes):
    path = tmp_path / "warehouse.duckdb"
    staged = tmp_path / "staged"
    staged.write_bytes(content)
    os.replace(staged, path)  # as a publish swaps a file in: a new inode
    return path


def test_the_publish_takes_the_copy_made_of_the_file_published_now(tmp_path):
    published = _published(tmp_path, b"build 1 " * 10_000)
    publish_base.start(published).join()
    base = publish_base.base_path(published)
    assert base.read_bytes() == published.read_bytes()
    base_inode = base.stat().st_ino

    dest = tmp_path / ".warehouse.duckdb.partial"
    assert publish_base.take(published, dest) is True

    assert dest.read_bytes() == published.read_bytes()
    # Moved into place, not copied again; nothing left beside the published file.
    assert dest.stat().st_ino == base_inode
    assert sorted(p.name for p in tmp_path.iterdir()) == [".warehouse.duckdb.partial", "warehouse.duckdb"]


def test_a_copy_of_an_earlier_published_file_is_not_taken(tmp_path):
    # A run copied build 1 and stopped before publishing; build 2 was published since.
    published = _published(tmp_path, b"build 1 " * 10_000)
    publish_base.start(published).join()
    published = _published(tmp_path, b"build 2 " * 10_000)

    dest = tmp_path / ".warehouse.duckdb.partial"
    assert publish_base.take(published, dest) is False

    assert dest.read_bytes() == b"build 2 " * 10_000
    assert not publish_base.base_path(published).exists()


def test_an_unfinished_copy_is_not_taken(tmp_path):
    # The copy's process died mid-way: bytes but no record of what they copy.
    published = _published(tmp_path, b"build 1 " * 10_000)
    publish_base.base_path(published).write_bytes(b"build 1 ")

    dest = tmp_path / ".warehouse.duckdb.partial"
    assert publish_base.take(published, dest) is False

    assert dest.read_bytes() == published.read_bytes()


def test_a_publish_of_every_relation_discards_the_copy(tmp_path):
    published = _published(tmp_path, b"build 1 " * 10_000)
    publish_base.start(published).join()
    publish_base.discard(published)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]
