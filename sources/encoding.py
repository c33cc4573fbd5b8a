"""Encoding detection and transcoding of landing files (SPEC section 3).

Landing files are UTF-8 (with or without BOM) or GB18030. DuckDB's CSV reader
only reads UTF-8 here (its encodings extension cannot be installed offline),
so GB18030 files are decoded and re-encoded as UTF-8 into a scratch folder,
streamed in chunks, before DuckDB sees them. The delivered file is never
changed (SPEC section 4).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
GB18030 = "gb18030"


class FileProblem(Exception):
    """A problem with a whole file: it is rejected, kept, and reported."""


@dataclass(frozen=True)
class Inspection:
    sha256: str
    encoding: str  # UTF8, UTF8_BOM or GB18030
    header_line: str  # first line, decoded, without BOM or line break
    size: int


def inspect(path: Path) -> Inspection:
    """Hash the file and find its encoding in one streaming pass.

    UTF-8 is tried first because valid UTF-8 text is almost never valid GB18030
    with the same meaning; a file that is neither (or holds NUL bytes, i.e. is
    binary) is a file problem."""
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder(UTF8)()
    utf8_ok = True
    head = b""
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
            if len(head) < 65536:
                head += chunk[: 65536 - len(head)]
            if b"\x00" in chunk:
                raise FileProblem("not a CSV text file (binary content: NUL bytes)")
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
        if utf8_ok:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8_ok = False
    if size == 0:
        raise FileProblem("empty file: not even a header line")
    if utf8_ok:
        encoding = UTF8_BOM if head.startswith(codecs.BOM_UTF8) else UTF8
    else:
        encoding = GB18030
        try:
            _decode_all(path, GB18030)
        except UnicodeDecodeError as e:
            raise FileProblem(
                f"unknown encoding: neither UTF-8 nor GB18030 (bad byte at offset {e.start})"
            ) from None
    text = head.decode(encoding, errors="replace")
    header_line = text.splitlines()[0] if text else ""
    return Inspection(digest.hexdigest(), encoding, header_line, size)


def _decode_all(path: Path, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            decoder.decode(chunk)
    decoder.decode(b"", final=True)


def transcode_to_utf8(path: Path, encoding: str, target: Path) -> Path:
    """Write `path` decoded from `encoding` as UTF-8 to `target`, streaming."""
    target.parent.mkdir(parents=True, exist_ok=True)
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as src, open(target, "w", encoding=UTF8, newline="") as dst:
        while chunk := src.read(CHUNK):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))
    return target


def read_lines(path: Path, encoding: str, line_numbers: set[int]) -> dict[int, str]:
    """The text of the given 1-based physical lines (for quarantine records)."""
    wanted = dict.fromkeys(line_numbers)
    last = max(line_numbers, default=0)
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        for number, line in enumerate(f, start=1):
            if number in wanted:
                wanted[number] = line.rstrip("\r\n")
            if number >= last:
                break
    return {k: v for k, v in wanted.items() if v is not None}


def count_records(path: Path) -> int:
    """The data records of a UTF-8 CSV file (header excluded), counted apart
    from DuckDB's reader so that rows read = rows loaded + rows quarantined
    proves no row was lost (SPEC section 4).

    A record is a non-blank line; blank lines are not rows (DuckDB skips them
    too). Without a quote character no field can hold a line break, so the
    count is a matter of counting newline bytes (done in C, whatever the file's
    size); a file with quotes is counted by Python's csv module, whose quoted
    fields may span lines."""
    data = Path(path).read_bytes()
    if b'"' in data:
        text = data.decode(UTF8_BOM, errors="replace")
        records = sum(1 for row in csv.reader(io.StringIO(text, newline="")) if row)
    else:
        data = data.replace(b"\r", b"")
        while b"\n\n" in data:  # blank lines: each pass halves every run of them
            data = data.replace(b"\n\n", b"\n")
        data = data.strip(b"\n")
        records = data.count(b"\n") + 1 if data else 0
    return max(records - 1, 0)
