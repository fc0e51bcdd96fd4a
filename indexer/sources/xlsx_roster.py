"""Rosters sent as Excel workbooks (.xlsx): the first worksheet, read one row at a time, safely.

An .xlsx file is a zip of XML parts, so before openpyxl parses anything the archive itself is
checked (size, compression ratio, member count: decompression bombs), and openpyxl must be parsing
through defusedxml (entity expansion). Formulas are never evaluated: a formula cell gives its text.
"""

import contextlib
import zipfile
import zlib
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as defused_et
from defusedxml import DefusedXmlException
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.xml import DEFUSEDXML, LXML
from openpyxl.xml import functions as openpyxl_xml

from indexer.sources.csv_roster import REQUIRED_COLUMNS, RosterFormatError

MAX_MEMBERS = 10_000
# Cells right of this column are never looked at; a header wider than this is refused.
MAX_COLUMNS = 1_000
# A central-directory entry is 46 bytes plus the member's name and extra fields.
MAX_DIRECTORY_BYTES = MAX_MEMBERS * 1_024
# Password-protected workbooks and legacy .xls files are OLE compound files, not zips.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# What openpyxl and zipfile raise on a broken or hostile archive; all mean "not a readable roster".
UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    OSError,
    ValueError,
    TypeError,
    OverflowError,
    NotImplementedError,
    ParseError,
    InvalidFileException,
)


def read_xlsx_rows(
    path: str | Path,
    max_uncompressed_bytes: int = 200 * 1024**2,
    max_ratio: int = 100,
    max_rows: int = 2_000_000,
    require_columns: bool = True,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number in the sheet, header -> cell text) for each data row of the first sheet.

    The archive is checked and the header read (and checked for the project's required columns,
    unless `require_columns` is False because a declared layout checks its own) before this
    returns; the rows are read lazily. Raises RosterFormatError for a file that is not a readable,
    safe .xlsx roster, including one with more than `max_rows` rows (found while reading).
    """
    fh, workbook = _open(path, max_uncompressed_bytes, max_ratio)
    try:
        sheet = workbook.worksheets[0]
        header_row, header = _header(sheet, max_rows)
        if require_columns:
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise RosterFormatError(f"missing required column(s): {', '.join(missing)}")
    except BaseException:
        workbook.close()
        fh.close()
        raise
    return _data_rows(fh, workbook, sheet, header_row, header, max_rows)


def xlsx_header(
    path: str | Path,
    max_uncompressed_bytes: int = 200 * 1024**2,
    max_ratio: int = 100,
    max_rows: int = 2_000_000,
) -> list[str]:
    """The column names of the first worksheet (its first non-empty row), for a layout to check."""
    fh, workbook = _open(path, max_uncompressed_bytes, max_ratio)
    try:
        return _header(workbook.worksheets[0], max_rows)[1]
    finally:
        workbook.close()
        fh.close()


def _open(path: str | Path, max_uncompressed_bytes: int, max_ratio: int):
    _require_defused_xml()
    fh = open(path, "rb")  # noqa: SIM115 - handed to the caller, who closes it
    try:
        _check_archive(fh, max_uncompressed_bytes, max_ratio)
        fh.seek(0)
        # The same open file that was checked is parsed, so it cannot be swapped in between.
        # data_only=False: formulas come back as their text and are never evaluated.
        with _unreadable():
            workbook = load_workbook(
                fh, read_only=True, data_only=False, keep_vba=False, keep_links=False
            )
        if not workbook.worksheets:
            workbook.close()
            raise RosterFormatError("the workbook has no worksheet")
        # The declared <dimension> may be wrong (rows silently cut off) or huge (rows padded to
        # 16,384 columns): read the rows that are really there instead.
        workbook.worksheets[0].reset_dimensions()
    except BaseException:
        fh.close()
        raise
    return fh, workbook


def _require_defused_xml() -> None:
    # Verified in openpyxl 3.1 (openpyxl/xml/functions.py): when defusedxml is importable,
    # openpyxl.xml.DEFUSEDXML is True (unless OPENPYXL_DEFUSEDXML=False) and openpyxl's
    # `iterparse` (shared strings, worksheets) and `fromstring` (workbook, styles, relationships)
    # are defusedxml's, which refuse entity declarations (billion laughs) and external entities;
    # with lxml, `fromstring` is lxml with resolve_entities=False. Checked, not trusted, and
    # without defusedxml.defuse_stdlib(), which would patch XML parsing for the whole process.
    safe_fromstring = LXML or openpyxl_xml.fromstring is defused_et.fromstring
    if not (DEFUSEDXML and openpyxl_xml.iterparse is defused_et.iterparse and safe_fromstring):
        raise RuntimeError("openpyxl is not parsing XML through defusedxml: refusing .xlsx files")


def _check_archive(fh: IO[bytes], max_uncompressed_bytes: int, max_ratio: int) -> None:
    """Refuse a file that is not a zip, or whose members would inflate beyond the limits."""
    if fh.read(len(OLE_MAGIC)) == OLE_MAGIC:
        raise RosterFormatError(
            "not an .xlsx workbook: a password-protected workbook or an old .xls file; "
            "save it as .xlsx without a password"
        )
    fh.seek(0)
    # ZipFile builds an object per central-directory entry before members could be counted:
    # bound the directory's size first, found the way ZipFile finds it (zip64 included).
    with _unreadable():
        end = zipfile._EndRecData(fh)
    if end is None:
        raise RosterFormatError("not an .xlsx workbook: the file is not a zip archive")
    if end[zipfile._ECD_SIZE] > MAX_DIRECTORY_BYTES:
        raise RosterFormatError(f"refused: the archive lists more than {MAX_MEMBERS} members")
    try:
        with zipfile.ZipFile(fh) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise RosterFormatError(f"not an .xlsx workbook: {exc}") from exc
    if len(members) > MAX_MEMBERS:
        raise RosterFormatError(f"refused: the archive has more than {MAX_MEMBERS} members")
    if "[Content_Types].xml" not in {m.filename for m in members}:
        raise RosterFormatError("not an .xlsx workbook: a zip without [Content_Types].xml")
    # The sizes are the archive's own claims, but zipfile never inflates a member beyond its
    # declared size (it stops there and the CRC check fails), so they bound what is read.
    for member in members:
        if member.file_size > max_ratio * max(member.compress_size, 1):
            raise RosterFormatError(
                f"refused: {member.filename} inflates {member.file_size} bytes from "
                f"{member.compress_size} (over {max_ratio}:1, a decompression bomb?)"
            )
    total = sum(m.file_size for m in members)
    if total > max_uncompressed_bytes:
        raise RosterFormatError(
            f"refused: the workbook inflates to {total} bytes, over the {max_uncompressed_bytes} "
            "byte limit"
        )


@contextlib.contextmanager
def _unreadable():
    """Turn what a broken or hostile workbook makes openpyxl raise into RosterFormatError."""
    try:
        yield
    except RosterFormatError:
        raise
    except UNREADABLE as exc:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, DefusedXmlException):
            cause = cause.__cause__ or cause.__context__
        if cause is not None:
            raise RosterFormatError(
                f"refused: the workbook's XML declares entities or a DTD ({cause})"
            ) from exc
        raise RosterFormatError(f"cannot read the workbook: {exc}") from exc


def _guarded(rows: Iterator) -> Iterator:
    # Parsing happens as rows are pulled, so each pull is guarded, not the caller's code.
    try:
        while True:
            with _unreadable():
                try:
                    row = next(rows)
                except StopIteration:
                    return
            yield row
    finally:
        rows.close()  # closes the worksheet stream openpyxl opened


def _header(sheet, max_rows: int) -> tuple[int, list[str]]:
    """(row number, column names) of the first non-empty row."""
    rows = _guarded(sheet.iter_rows(max_col=MAX_COLUMNS + 1))
    try:
        for number, cells in enumerate(rows, start=1):
            if number > max_rows:
                raise RosterFormatError(f"refused: no header in the first {max_rows} rows")
            names = [_text(cell) for cell in cells]
            if any(names):
                while not names[-1]:
                    names.pop()
                if len(names) > MAX_COLUMNS:
                    raise RosterFormatError(f"refused: more than {MAX_COLUMNS} columns")
                return number, names
    finally:
        rows.close()
    raise RosterFormatError("the first worksheet is empty: expected a header row")


def _data_rows(fh, workbook, sheet, header_row, header, max_rows):
    try:
        # max_col: cells outside the named columns are ignored, as the CSV schema ignores extras.
        rows = sheet.iter_rows(min_row=header_row + 1, max_col=len(header))
        for number, cells in enumerate(_guarded(rows), start=header_row + 1):
            if number > max_rows:
                raise RosterFormatError(f"refused: the worksheet has more than {max_rows} rows")
            values = [_text(cell) for cell in cells]
            if any(values):
                yield number, dict(zip(header, values, strict=True))
    finally:
        workbook.close()
        fh.close()


def _text(cell) -> str:
    """A cell as the text a CSV export would hold."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return repr(value)  # the shortest text that reads back as the same number
        text = str(int(value))  # an NPI or ZIP typed as a number, never "90012.0"
        # Excel's "Zip Code" format (00000) shows leading zeros the number itself lost.
        fmt = cell.number_format or ""
        return text.zfill(len(fmt)) if fmt and not fmt.strip("0") else text
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    # Array and data-table formulas are objects holding their formula text.
    text = getattr(value, "text", value)
    return str(text if text is not None else value).strip()
