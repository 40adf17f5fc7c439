"""Turn landing files into numbered text records, keeping every undecodable line.

Nothing here drops a record: a line that cannot be decoded comes back as a rejected
record with its reason, so that rows in = rows loaded + rows quarantined holds per file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# A record longer than this is quarantined instead of loaded (a runaway field in an export).
MAX_RECORD_BYTES = 1_048_576
# Quarantined raw text is truncated to this many characters to keep the table small.
MAX_RAW_TEXT_CHARS = 65_536


@dataclass
class Rejected:
    line: int | None
    reason: str
    raw_text: str


@dataclass
class DecodedFile:
    """Text records of one file: (line number, text) pairs plus what could not be read."""

    encoding: str
    lines: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    header: list[str] | None = None  # CSV only
    rows: list[list[str]] = field(default_factory=list)  # CSV only: parsed fields per record


def clip(text: str) -> str:
    if len(text) <= MAX_RAW_TEXT_CHARS:
        return text
    return text[:MAX_RAW_TEXT_CHARS] + f"... [truncated, {len(text)} characters in all]"


def _split_lines(data: bytes) -> list[bytes]:
    """Split on LF, dropping a trailing CR (CRLF files) and the empty piece after a final LF."""
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    return [p[:-1] if p.endswith(b"\r") else p for p in pieces]


def decode_jsonl_lines(data: bytes) -> DecodedFile:
    """JSON Lines are UTF-8 by definition (a BOM is tolerated); bad lines are rejected one by one.

    The loader decodes a whole file at once and splits it in DuckDB; this line-by-line path is
    for files that are not valid UTF-8 as a whole, so that one bad line costs only that line.
    """
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    out = DecodedFile(encoding="utf-8")
    for number, raw in enumerate(_split_lines(data), start=1):
        if not raw.strip():
            continue  # blank lines are not records
        if len(raw) > MAX_RECORD_BYTES:
            out.rejected.append(Rejected(number, f"record too large: {len(raw)} bytes > {MAX_RECORD_BYTES}",
                                         clip(raw.decode("utf-8", "backslashreplace"))))
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.rejected.append(Rejected(number, f"invalid UTF-8 at byte {exc.start}",
                                         clip(raw.decode("utf-8", "backslashreplace"))))
            continue
        out.lines.append(number)
        out.texts.append(text)
    return out


def detect_csv_encoding(data: bytes) -> str:
    """UTF-16 with BOM, UTF-8 with BOM, UTF-8, or GBK — the encodings real order exports come in.

    GBK is chosen only when no non-ASCII line is valid UTF-8 and the whole file is valid
    GBK; a mostly-UTF-8 file with one corrupt line stays UTF-8 and loses only that line.
    """
    if data.startswith(UTF16_BOMS):
        return "utf-16"
    if data.startswith(UTF8_BOM):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    non_ascii = [line for line in data.split(b"\n") if not line.isascii()]
    utf8_ok = 0
    for line in non_ascii:
        try:
            line.decode("utf-8")
            utf8_ok += 1
        except UnicodeDecodeError:
            pass
    if utf8_ok == 0:
        try:
            data.decode("gbk")
            return "gbk"
        except UnicodeDecodeError:
            pass
    return "utf-8"


def decode_csv(data: bytes) -> DecodedFile:
    """Parse a CSV export: per record its first physical line number, its raw text and its fields.

    The header is line 1, so the first data row is line 2 (line numbers count physical lines
    of the file, also when a quoted field spans several).
    """
    encoding = detect_csv_encoding(data)
    out = DecodedFile(encoding=encoding)
    if encoding == "utf-8-sig":
        data = data[len(UTF8_BOM):]
    elif encoding == "utf-16":
        # Excel's "Unicode text": decode the whole file first (its newlines are two bytes wide),
        # then treat it as UTF-8. An undecodable file is one rejected record, never a silent loss.
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            out.rejected.append(Rejected(None, f"invalid UTF-16 at byte {exc.start}",
                                         clip(data.decode("utf-16", "backslashreplace"))))
            return out
    raw_lines = _split_lines(data)
    good_lines: list[tuple[int, str]] = []
    for number, raw in enumerate(raw_lines, start=1):
        try:
            good_lines.append((number, raw.decode("gbk" if encoding == "gbk" else "utf-8")))
        except UnicodeDecodeError as exc:
            out.rejected.append(Rejected(number, f"invalid {encoding} at byte {exc.start}",
                                         clip(raw.decode("utf-8", "backslashreplace"))))
    if not good_lines:
        return out
    # Feed the decodable physical lines to the csv module; a quoted field may span lines.
    numbers = [n for n, _ in good_lines]
    reader = csv.reader(io.StringIO("\n".join(t for _, t in good_lines), newline=""))
    consumed = 0
    for row in reader:
        first = numbers[consumed]
        raw_text = "\n".join(t for _, t in good_lines[consumed:reader.line_num])
        consumed = reader.line_num
        if out.header is None:
            out.header = [h.strip() for h in row]
            continue
        if not any(cell.strip() for cell in row):
            continue  # blank line
        out.lines.append(first)
        out.texts.append(raw_text)
        out.rows.append(row)
    return out
