"""Linked documents parsed into text and metadata: plain text, HTML and PDF.

Outside contract:

- Kind: told by ``domain.documents.document_kind`` from the first bytes, then the
  name; binary content of another kind is refused.
- Plain text: UTF-8 (with or without a BOM), UTF-16 with a BOM, else Windows-1251.
  Its title is its first non-blank line.
- HTML: Beautiful Soup with the standard library's ``html.parser`` (no compiled
  parser to install); the encoding comes from the BOM, the ``<meta charset>`` or a
  guess. Scripts, styles and templates are dropped; the text is the body's, a line
  per block element. Its title is ``<title>``, else the first ``<h1>``.
- PDF: ``pypdf``, pure Python. Text is extracted page by page; the title comes from
  the document information. An encrypted PDF is opened with the empty password if
  it allows that, refused otherwise. A damaged PDF raises UnparsableDocumentError
  with pypdf's reason, so one bad file does not stop a batch.
- A document without a title of its own gets its norm's title from the catalogue.
"""

from __future__ import annotations

import io
import logging

import bs4
import pypdf

from domain import documents as dc
from domain.documents import ParsedDocument, SourceDocument, UnparsableDocumentError

logger = logging.getLogger(__name__)

_DROPPED_TAGS = ("script", "style", "noscript", "template")
# Elements that end a line of text; inline ones (b, a, span) run on.
_BLOCK_TAGS = (
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "dt",
    "dd",
)


def parse_document(source: SourceDocument) -> ParsedDocument:
    """The document's text and metadata; UnparsableDocumentError if it has none."""
    kind = dc.document_kind(source.link, source.content[:4096])
    if kind == dc.PDF:
        title, text, pages = _pdf(source)
    elif kind == dc.HTML:
        title, text, pages = _html(source)
    else:
        text = dc.tidy_text(dc.decode_text(source.link, source.content))
        title, pages = dc.first_line(text), 0
    logger.debug("parsed %s as %s, %d characters", source.link, kind, len(text))
    return ParsedDocument(
        checksum=source.checksum,
        code=source.code,
        link=source.link,
        kind=kind,
        title=dc.short_title(title) or dc.short_title(source.title),
        size=len(source.content),
        pages=pages,
        language=dc.guess_language(text),
        text=text,
    )


def _html(source: SourceDocument) -> tuple[str, str, int]:
    soup = bs4.BeautifulSoup(source.content, "html.parser")
    for tag in soup(_DROPPED_TAGS):
        tag.decompose()
    heading = soup.title or soup.find("h1")
    title = heading.get_text(" ") if heading is not None else ""
    body = soup.body or soup
    for tag in body(_BLOCK_TAGS):
        tag.insert_after("\n")
    return title, dc.tidy_text(body.get_text()), 0


def _pdf(source: SourceDocument) -> tuple[str, str, int]:
    try:
        reader = pypdf.PdfReader(io.BytesIO(source.content))
        _unlock(source.link, reader)
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else ""
    except UnparsableDocumentError:
        raise
    except Exception as error:  # noqa: BLE001 - pypdf raises many kinds on bad input
        raise UnparsableDocumentError(
            source.link, f"not a readable PDF ({type(error).__name__}: {error})"
        ) from error
    return str(title or ""), dc.tidy_text("\n\n".join(pages)), len(pages)


def _unlock(link: str, reader: pypdf.PdfReader) -> None:
    if not reader.is_encrypted:
        return
    if reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
        raise UnparsableDocumentError(link, "the PDF is protected by a password")
