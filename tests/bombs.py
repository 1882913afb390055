"""Inputs that cost little to send and much to read, made in a second for tests and
benchmarks: decompression bombs (a .docx, an .xlsx, a plain .zip that unpack to hundreds
of MB from a few hundred KB), a workbook and a Parquet file of millions of rows, and a
long CSV. The zip members are written as a stream (``ZipFile.open(..., "w")``), so the
unpacked bytes never sit in memory."""

from __future__ import annotations

import zipfile
from pathlib import Path

MB = 2**20

_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"

DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.document.main+xml"/></Types>')
DOCX_RELS = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_RELS_NS}">'
             f'<Relationship Id="rId1" Type="{_DOC_TYPE}" Target="word/document.xml"/></Relationships>')
PARAGRAPH = ('<w:p><w:r><w:t>The city will retrofit social housing units to cut heating emissions.'
             '</w:t></w:r></w:p>')

XLSX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>')
XLSX_RELS = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_RELS_NS}">'
             f'<Relationship Id="rId1" Type="{_DOC_TYPE}" Target="xl/workbook.xml"/></Relationships>')
XLSX_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="twins" sheetId="1" r:id="rId1"/></sheets></workbook>')
XLSX_WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_RELS_NS}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
TWIN_ROW = ("Lyon", "FR", "Frankfurt am Main", "DE")


def docx_bomb(path: str | Path, unpacked_mb: float = 200) -> Path:
    """A Word document whose body is ``unpacked_mb`` MB of the same short paragraph
    (about 300 times its size on disk)."""
    path = Path(path)
    block = (PARAGRAPH * 10_000).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", DOCX_TYPES)
        z.writestr("_rels/.rels", DOCX_RELS)
        with z.open("word/document.xml", "w", force_zip64=True) as out:
            out.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
                      b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            for _ in range(int(unpacked_mb * MB / len(block)) + 1):
                out.write(block)
            out.write(b"</w:body></w:document>")
    return path


def docx_paragraphs(path: str | Path, n: int) -> Path:
    """A well-formed Word document of ``n`` short paragraphs (small, and not a bomb by
    its ratio when ``n`` is modest)."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", DOCX_TYPES)
        z.writestr("_rels/.rels", DOCX_RELS)
        body = "".join(PARAGRAPH.replace("units", f"units ({i})") for i in range(n))
        z.writestr("word/document.xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
                   '"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
                   f"{body}</w:body></w:document>")
    return path


def _cell(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def xlsx_rows(path: str | Path, rows: int, *, dimension: bool = True,
              header: tuple[str, ...] = ("city1", "country1", "city2", "country2"),
              values: tuple[str, ...] = TWIN_ROW) -> Path:
    """A workbook (twinning columns by default) of ``rows`` identical data rows, written
    without row and cell references (which the format leaves optional), so that a
    million rows pack into well under 1 MB. With ``dimension`` the sheet declares its
    size (as Excel writes it); without, a reader learns it only by reading."""
    path = Path(path)
    last = chr(ord("A") + len(header) - 1)
    row = ("<row>" + "".join(_cell(v) for v in values) + "</row>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", XLSX_TYPES)
        z.writestr("_rels/.rels", XLSX_RELS)
        z.writestr("xl/workbook.xml", XLSX_WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", XLSX_WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                      b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            if dimension:
                out.write(f'<dimension ref="A1:{last}{rows + 1}"/>'.encode())
            out.write(b"<sheetData>")
            out.write(("<row>" + "".join(_cell(h) for h in header) + "</row>").encode())
            block = row * 10_000
            for _ in range(rows // 10_000):
                out.write(block)
            out.write(row * (rows % 10_000))
            out.write(b"</sheetData></worksheet>")
    return path


def xlsx_bomb(path: str | Path, unpacked_mb: float = 200) -> Path:
    """A workbook whose one sheet unpacks to ``unpacked_mb`` MB (rows of the same cells,
    without a declared size)."""
    row_bytes = len("<row>" + "".join(_cell(v) for v in TWIN_ROW) + "</row>")
    return xlsx_rows(path, int(unpacked_mb * MB / row_bytes), dimension=False)


def parquet_rows(path: str | Path, rows: int = 3_000_000) -> Path:
    """A Parquet file of ``rows`` identical twinning rows: dictionary and run-length
    encoding pack three million rows into some tens of KB."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    chunk = min(rows, 1_000_000)
    table = pa.table({name: pa.array([value] * chunk) for name, value in
                      zip(("city1", "country1", "city2", "country2"), TWIN_ROW)})
    with pq.ParquetWriter(path, table.schema, compression="zstd") as w:
        left = rows
        while left > 0:
            w.write_table(table.slice(0, min(chunk, left)))
            left -= chunk
    return path


def zip_bomb(path: str | Path, unpacked_mb: float = 300, *, name: str = "data.csv") -> Path:
    """A plain zip holding one member of ``unpacked_mb`` MB of zeros (about 1,000 times
    its size on disk)."""
    path = Path(path)
    block = b"0" * MB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open(name, "w", force_zip64=True) as out:
            for _ in range(int(unpacked_mb)):
                out.write(block)
    return path


def html_page(path: str | Path, mb: float = 20) -> Path:
    """An HTML page of ``mb`` MB of short paragraphs (parsed whole, a tree of it takes
    about 20 times its size)."""
    path = Path(path)
    para = "<p>Bus lanes and cycle paths cut the emissions of commuting in the city.</p>\n"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("<!doctype html><html><head><title>Plan</title></head><body><h1>Mobility</h1>\n")
        block = para * 10_000
        for _ in range(int(mb * MB / len(block)) + 1):
            fh.write(block)
        fh.write("</body></html>\n")
    return path


def csv_rows(path: str | Path, rows: int) -> Path:
    """A twinning CSV of ``rows`` rows (distinct names, so it packs like real data)."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("city1,country1,city2,country2\n")
        buf = []
        for i in range(rows):
            buf.append(f"Town {i},FR,Stadt {i},DE\n")
            if len(buf) == 10_000:
                fh.write("".join(buf))
                buf = []
        fh.write("".join(buf))
    return path
