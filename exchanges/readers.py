"""Rows of a CSV or XLSX file, streamed: (line number as a spreadsheet shows it, {header: text})."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError


class FileFormatError(ValidationError):
    pass


def detect_format(name: str, head: bytes) -> str:
    if head[:4] == b"PK\x03\x04" or name.lower().endswith(".xlsx"):
        return "xlsx"
    return "csv"


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return str(Decimal(repr(value))) if value != int(value) else str(int(value))
    return str(value).strip()


def csv_rows(binary, delimiter: str):
    """binary: a file opened in binary mode. UTF-8 (with or without BOM), else Windows-1252."""
    head = binary.read(4096)
    binary.seek(0)
    try:
        head.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as error:
        encoding = "utf-8-sig" if error.start > 4000 else "cp1252"  # a character cut at the end of the sample
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    try:
        yield from _csv_lines(text, delimiter)
    finally:
        if not binary.closed:
            text.detach()  # the caller owns (and closes) the binary file


def _csv_lines(text, delimiter: str):
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileFormatError("Le fichier est vide.") from None
    except UnicodeDecodeError:
        raise FileFormatError("Encodage du fichier illisible (UTF-8 ou Windows-1252 attendu).") from None
    yield header
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            yield reader.line_num, dict(zip(header, (c.strip() for c in row), strict=False))
    except UnicodeDecodeError:
        raise FileFormatError(f"Ligne {reader.line_num + 1} : caractères illisibles (UTF-8 attendu).") from None


def xlsx_rows(binary):
    """The first sheet, read-only (openpyxl streams the rows)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(binary, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001  (zip, XML or openpyxl errors: the file is not a workbook)
        raise FileFormatError("Fichier XLSX illisible.") from None
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise FileFormatError("Le fichier est vide.")
        header = [_cell_text(h) for h in header_row]
        yield header
        for number, row in enumerate(rows, start=2):
            cells = [_cell_text(c) for c in row]
            if not any(cells):
                continue
            yield number, dict(zip(header, cells, strict=False))
    finally:
        workbook.close()


def rows(binary, name: str, delimiter: str):
    """A generator whose first item is the header, then (line, row) pairs."""
    head = binary.read(8)
    binary.seek(0)
    if detect_format(name, head) == "xlsx":
        return xlsx_rows(binary)
    return csv_rows(binary, delimiter)


def count_lines(binary, name: str) -> int | None:
    """Data lines of a CSV (a fast pass over the bytes), or the sheet's stated size; None if unknown."""
    head = binary.read(8)
    binary.seek(0)
    if detect_format(name, head) == "xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(binary, read_only=True)
            total = workbook.worksheets[0].max_row
            workbook.close()
        except Exception:  # noqa: BLE001  (reported by the import itself)
            total = None
        binary.seek(0)
        return max(total - 1, 0) if total else None
    count = 0
    while chunk := binary.read(1 << 20):
        count += chunk.count(b"\n")
    binary.seek(0)
    return max(count - 1, 0)
