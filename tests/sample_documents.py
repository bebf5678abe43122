"""Documents made in the test, byte for byte: a small PDF, HTML, a damaged PDF."""

from __future__ import annotations


def pdf_bytes(lines: list[str], title: str = "") -> bytes:
    """A one-page PDF showing ``lines`` (ASCII) in Helvetica, with ``title`` as its
    document information title when given."""
    shown = b" ".join(b"(" + _escaped(line) + b") Tj T*" for line in lines)
    content = b"BT /F1 12 Tf 14 TL 72 720 Td " + shown + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Title (" + _escaped(title) + b") >>",
    ]
    return _assembled(objects, info=6 if title else 0)


def _assembled(objects: list[bytes], info: int) -> bytes:
    body = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"/Size %d /Root 1 0 R" % (len(objects) + 1)
    if info:
        trailer += b" /Info %d 0 R" % info
    body += b"trailer\n<< " + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(body)


def _escaped(text: str) -> bytes:
    raw = text.encode("ascii")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


DAMAGED_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\nthe rest is lost"

HTML_PAGE = """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8">
<title>ГОСТ 27751-2014 Надёжность строительных конструкций</title>
<style>body { color: red; }</style><script>var hidden = "скрипт";</script>
</head><body><h1>Надёжность строительных конструкций и оснований</h1>
<p>Стандарт устанавливает <b>общие</b> положения по обеспечению надёжности
строительных конструкций: коэффициенты надёжности по ответственности, классы
сооружений и сроки службы.</p></body></html>
"""
