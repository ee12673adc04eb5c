"""pandoc's reference DOCX with a book template's page furniture: the title as running head and the page
number as footer (pandoc keeps a reference document's header and footer); with --page-break-before,
each first-level heading (a chapter) starts a new page.
Usage: reference_docx.py SOURCE TARGET TITLE [--page-break-before]"""
import re
import sys
import zipfile

source, target, title = sys.argv[1:4]
page_break_before = "--page-break-before" in sys.argv[4:]
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TYPES = "application/vnd.openxmlformats-officedocument.wordprocessingml"
page_field = ('<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
              '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>')
centred = '<w:pPr><w:jc w:val="center"/></w:pPr>'
header = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:hdr {W}><w:p>{centred}<w:r><w:t>{title}</w:t></w:r></w:p></w:hdr>'
footer = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:ftr {W}><w:p>{centred}{page_field}</w:p></w:ftr>'
refs = '<w:headerReference w:type="default" r:id="rIdHeader"/><w:footerReference w:type="default" r:id="rIdFooter"/>'
with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        data = zin.read(item.filename).decode("utf-8") if item.filename.endswith((".xml", ".rels")) else None
        if item.filename == "word/_rels/document.xml.rels":
            data = data.replace("</Relationships>",
                                f'<Relationship Id="rIdHeader" Type="{RELS}/header" Target="header1.xml"/>'
                                f'<Relationship Id="rIdFooter" Type="{RELS}/footer" Target="footer1.xml"/></Relationships>')
        elif item.filename == "[Content_Types].xml":
            data = data.replace("</Types>",
                                f'<Override PartName="/word/header1.xml" ContentType="{TYPES}.header+xml"/>'
                                f'<Override PartName="/word/footer1.xml" ContentType="{TYPES}.footer+xml"/></Types>')
        elif item.filename == "word/styles.xml" and page_break_before:
            data = re.sub(r'(w:styleId="Heading1".*?<w:pPr>)', r"\1<w:pageBreakBefore/>", data, count=1,
                          flags=re.S)
        elif item.filename == "word/document.xml":
            data = re.sub(r"<w:sectPr\s*/>", f"<w:sectPr>{refs}</w:sectPr>", data, count=1)
            if "xmlns:r=" not in data[:2000]:
                data = data.replace("<w:document ", f'<w:document xmlns:r="{RELS}" ', 1)
        zout.writestr(item, data.encode("utf-8") if data is not None else zin.read(item.filename))
    zout.writestr("word/header1.xml", header)
    zout.writestr("word/footer1.xml", footer)
