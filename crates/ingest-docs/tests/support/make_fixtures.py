#!/usr/bin/env python3
"""Builds the PDF/DOCX fixtures of the ingest-docs tests from known Markdown texts.

usage: make_fixtures.py OUT_DIR SOURCE.md...

Writes, per source NAME: NAME.docx and NAME-2col.docx (python-docx, with a table; the
test turns them into PDFs with LibreOffice), NAME-rl.pdf (reportlab, DejaVu Sans, one
column) and NAME-rl-2col.pdf (reportlab, Helvetica/WinAnsi, two columns), each with a
NAME*.known.txt holding the exact words put in. Also image-only.pdf and encrypted.pdf.
"""
import os
import sys
from xml.sax.saxutils import escape

TABLE = [["Situação", "Cuidado"], ["Cansaço", "Pausas curtas"], ["Preocupação", "Respiração lenta"]]


def parse(path):
    """Returns [(level, text)]: level 1-3 for headings, 0 for paragraphs."""
    blocks, para = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                if para:
                    blocks.append((0, " ".join(para)))
                    para = []
                level = len(line) - len(line.lstrip("#"))
                blocks.append((min(level, 3), line.lstrip("#").strip()))
            elif not line.strip():
                if para:
                    blocks.append((0, " ".join(para)))
                    para = []
            else:
                para.append(line.strip())
    if para:
        blocks.append((0, " ".join(para)))
    return blocks


def write_known(path, blocks, table=False):
    with open(path, "w", encoding="utf-8") as f:
        for _, text in blocks:
            f.write(text + "\n")
        if table:
            for row in TABLE:
                f.write(" ".join(row) + "\n")


def docx_fixture(out, name, blocks, columns):
    import docx
    from docx.oxml.ns import qn

    d = docx.Document()
    d.core_properties.title = blocks[0][1]
    for level, text in blocks:
        if level:
            d.add_heading(text, level=level)
        else:
            d.add_paragraph(text)
    # LibreOffice clips a page-wide table to one column of a two-column page.
    if columns == 1:
        table = d.add_table(rows=len(TABLE), cols=2)
        table.style = "Table Grid"
        for r, row in enumerate(TABLE):
            for c, cell in enumerate(row):
                table.cell(r, c).text = cell
    if columns > 1:
        sect = d.sections[0]._sectPr
        cols = sect.find(qn("w:cols"))
        if cols is None:
            cols = sect.makeelement(qn("w:cols"), {})
            sect.append(cols)
        cols.set(qn("w:num"), str(columns))
        cols.set(qn("w:space"), "567")
    suffix = "-2col" if columns > 1 else ""
    d.save(os.path.join(out, f"{name}{suffix}.docx"))
    write_known(os.path.join(out, f"{name}{suffix}.known.txt"), blocks, table=columns == 1)


def reportlab_fixture(out, name, blocks, columns):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet, ParagraphStyle
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

    styles = getSampleStyleSheet()
    if columns == 1:
        pdfmetrics.registerFont(TTFont("DejaVu", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
        font = "DejaVu"
    else:
        font = "Helvetica"
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=font, fontSize=10, leading=13,
                          alignment=TA_JUSTIFY if columns > 1 else 0)
    heads = {lvl: ParagraphStyle(f"h{lvl}", parent=styles[f"Heading{lvl}"], fontName=font) for lvl in (1, 2, 3)}
    path = os.path.join(out, f"{name}-rl{'-2col' if columns > 1 else ''}.pdf")
    doc = BaseDocTemplate(path, pagesize=A4, title=blocks[0][1])
    margin, gap = doc.leftMargin, 28
    width = (doc.width - gap * (columns - 1)) / columns
    frames = [Frame(margin + i * (width + gap), doc.bottomMargin, width, doc.height, id=f"c{i}")
              for i in range(columns)]
    doc.addPageTemplates([PageTemplate(id="p", frames=frames)])
    def typeset(text):
        # DejaVu has the fi/fl ligature glyphs: use them, as typesetters do, so the
        # extractor has to expand them back (the known text keeps plain letters).
        return text.replace("fi", "\ufb01").replace("fl", "\ufb02") if columns == 1 else text

    story = [Paragraph(escape(typeset(t)), heads[lvl] if lvl else body) for lvl, t in blocks]
    doc.build(story)
    write_known(path[:-4] + ".known.txt", blocks)


def image_only(out):
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    img = Image.new("RGB", (1200, 400), "white")
    ImageDraw.Draw(img).text((40, 40), "Scanned page: no text layer", fill="black")
    png = os.path.join(out, "scan.png")
    img.save(png)
    c = canvas.Canvas(os.path.join(out, "image-only.pdf"), pagesize=A4)
    c.drawImage(png, 50, 400, width=500, height=166)
    c.showPage()
    c.save()


def encrypted(out, source):
    import pikepdf

    with pikepdf.open(source) as pdf:
        pdf.save(os.path.join(out, "encrypted.pdf"),
                 encryption=pikepdf.Encryption(user="secret", owner="owner", R=6))


def main():
    out, sources = sys.argv[1], sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    for src in sources:
        name = os.path.splitext(os.path.basename(src))[0]
        blocks = parse(src)
        for columns in (1, 2):
            docx_fixture(out, name, blocks, columns)
            reportlab_fixture(out, name, blocks, columns)
    image_only(out)
    first = os.path.splitext(os.path.basename(sources[0]))[0]
    encrypted(out, os.path.join(out, f"{first}-rl.pdf"))


if __name__ == "__main__":
    main()
