"""Reading export files as text: encoding detection, CSV and XLSX.

Every cell is read as text, so codes keep their leading zeros and letters;
:mod:`risk.ingest.normalize` parses the columns afterwards. The frame's index
is the row number a spreadsheet shows, the header being row 1.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from openpyxl import load_workbook

from risk.errors import RowError

logger = logging.getLogger(__name__)

_BLOCK_BYTES = 1 << 20
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"


class ReadError(Exception):
    """A file that cannot be read as a table; ``errors`` say why in both languages."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(error.describe() for error in errors[:5]))
        self.errors = errors


@dataclass
class RawTable:
    """The cells of one file as text.

    ``frame`` has one column per header position (``headers[i]`` names column
    ``i``), an index of spreadsheet row numbers, and no fully blank rows.
    """

    path: Path
    headers: list[str]
    frame: pd.DataFrame
    encoding: str | None


def read_table(path: Path) -> RawTable:
    """Read a CSV or XLSX file as text, recognising the format and encoding from its bytes.

    Raises
    ------
    ReadError
        When the file is empty, an old binary ``.xls`` file, in an encoding
        other than UTF-8, UTF-16 or GB18030, or not a table.
    """
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(_ZIP_MAGIC):
        table = _read_xlsx(path)
    elif head.startswith(_OLE2_MAGIC):
        raise _read_error(
            path,
            "不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV",
            "old binary .xls files are not supported; save the file as .xlsx or CSV",
        )
    else:
        table = _read_csv(path, detect_encoding(path))
    table.frame = _drop_blank_rows(table.frame)
    logger.debug("Read %s: %d rows, encoding %s", path, len(table.frame), table.encoding)
    return table


def detect_encoding(path: Path) -> str:
    """Return the text encoding of ``path``: ``utf-8-sig``, ``utf-16``, ``utf-8`` or ``gb18030``.

    A byte-order mark decides first. Otherwise the whole file must decode as
    UTF-8, and only then is GB18030 tried: GB18030 is tried last because it
    decodes most UTF-8 byte sequences without error, into the wrong characters.
    The file is decoded in blocks, so a large file is never held as one string.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        if _decodes(path, encoding):
            return encoding
    guess = charset_normalizer.from_path(path).best()
    guessed = "unknown" if guess is None else guess.encoding
    raise _read_error(
        path,
        f"文件编码无法识别（不是UTF-8或GB18030，可能是{guessed}），请另存为UTF-8",
        f"the file is neither UTF-8 nor GB18030 (perhaps {guessed}); save it as UTF-8",
    )


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as handle:
            while block := handle.read(_BLOCK_BYTES):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _read_csv(path: Path, encoding: str) -> RawTable:
    headers, delimiter = _read_header(path, encoding)
    if not headers:
        raise _read_error(path, "文件为空或没有表头", "the file is empty or has no header row")
    names = [f"c{position}" for position in range(len(headers))]
    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(
                column_names=names, skip_rows=1, encoding=_arrow_encoding(encoding)
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, ignore_empty_lines=False, newlines_in_values=True
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        # Rows with too many cells; the csv module reads them and keeps the row numbering.
        return _read_csv_slowly(path, encoding, headers, delimiter)
    frame = table.to_pandas()
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return RawTable(path, headers, frame, encoding)


def _arrow_encoding(encoding: str) -> str:
    # Arrow reads UTF-8 natively and skips its BOM; other encodings go through Python codecs.
    return "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding


def _read_header(path: Path, encoding: str) -> tuple[list[str], str]:
    with path.open("r", encoding=encoding, newline="") as handle:
        first_line = handle.readline()
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    row = next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])
    headers = [header.strip() for header in row]
    while headers and headers[-1] == "":
        headers.pop()
    return headers, delimiter


def _read_csv_slowly(path: Path, encoding: str, headers: list[str], delimiter: str) -> RawTable:
    width = len(headers)
    rows: list[list[str]] = []
    errors: list[RowError] = []
    with path.open("r", encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)
        for number, row in enumerate(reader, start=2):
            if any(cell.strip() for cell in row[width:]):
                errors.append(
                    RowError(
                        str(path),
                        number,
                        None,
                        None,
                        f"该行的单元格多于表头的{width}列",
                        f"the row has more cells than the {width} header columns",
                    )
                )
            rows.append((row + [""] * width)[:width])
    if errors:
        raise ReadError(errors)
    frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(width)], dtype="str")
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return RawTable(path, headers, frame, encoding)


def _read_xlsx(path: Path) -> RawTable:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign zip file
        raise _read_error(
            path,
            f"无法作为XLSX工作簿打开：{exc}",
            f"cannot be opened as an XLSX workbook: {exc}",
        ) from exc
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        headers = [_cell_text(cell).strip() for cell in next(rows, ())]
        while headers and headers[-1] == "":
            headers.pop()
        width = len(headers)
        # One Python call per cell is unavoidable with openpyxl; CSV is the fast path.
        cells = [[_cell_text(cell) for cell in (row + (None,) * width)[:width]] for row in rows]
    finally:
        workbook.close()
    if not headers:
        raise _read_error(
            path, "工作表为空或没有表头", "the first worksheet is empty or has no header row"
        )
    frame = pd.DataFrame(cells, columns=[f"c{i}" for i in range(width)], dtype="str")
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return RawTable(path, headers, frame, None)


def _cell_text(value: object) -> str:
    """Return an XLSX cell as the text an export would have written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        # Numbers typed into Excel come back as floats; 330106.0 is the district code 330106.
        return str(int(value))
    return str(value)


def _drop_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    # Blank rows (often trailing ones) are skipped; the index keeps the other rows' numbers.
    blank = pd.Series(True, index=frame.index)
    for column in frame.columns:
        candidates = blank[blank].index
        if len(candidates) == 0:
            return frame
        blank.loc[candidates] = frame.loc[candidates, column].str.strip().eq("").to_numpy()
    return frame[~blank]


def _read_error(path: Path, reason_zh: str, reason_en: str) -> ReadError:
    return ReadError([RowError(str(path), None, None, None, reason_zh, reason_en)])
