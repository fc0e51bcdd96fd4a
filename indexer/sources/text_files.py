"""Opening a roster's text whatever a spreadsheet saved it as: UTF-8 (with or without a byte-order
mark), or Windows-1252, what Excel on Windows writes for "CSV" (`Peña` as the byte 0xF1)."""

import codecs
from pathlib import Path
from typing import TextIO

CHUNK = 1 << 20


def encoding_of(path: str | Path) -> str:
    """`utf-8-sig` when the whole file is UTF-8, else `cp1252` (else `latin-1`, which reads any
    byte). The check reads the file once in chunks; it never holds it whole."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as fh:
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("cp1252")()
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"


def open_text(path: str | Path) -> TextIO:
    """The file as text for the csv module (universal newlines left to it)."""
    return open(path, newline="", encoding=encoding_of(path))
