"""Counts a book file's words by a reading independent of the ingestion code: the corpus records it as
the words a book holds, and the tests compare the words ingestion keeps with it.
  TXT: the text; PDF: pdftotext (poppler) within the body area, the given bands at the top and bottom
  of each page (running heads, page numbers) left out; EPUB: the spine's documents in the package's
  order, without head, scripts, styles and a theme's navigation bars; DOCX: the document's paragraphs.
Usage: words.py FILE [TOP_POINTS BOTTOM_POINTS]"""
import html.parser
import re
import subprocess
import sys
import zipfile

path = sys.argv[1]


def words(text):
    """Runs of non-space characters that hold a letter or a digit (a dash or a bullet is not a word; nor
    is "Â" alone, enscript's rendering of a UTF-8 no-break space read as Latin-1)."""
    return sum(1 for token in text.split() if re.search(r"[^\W_]", token) and token.strip("Â") != "")


class BodyText(html.parser.HTMLParser):
    SKIPPED = {"head", "script", "style", "nav"}
    VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.stack = [], []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            self.parts.append(" ")
            return
        classes = dict(attrs).get("class") or ""
        navigation = re.search(r"\b(topnav|bottomnav|related|navheader|navfooter)\b", classes) is not None
        self.stack.append(tag in self.SKIPPED or navigation)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()
        self.parts.append(" ")

    def handle_data(self, data):
        if not any(self.stack):
            self.parts.append(data)


if path.endswith(".txt"):
    print(words(open(path, encoding="utf-8", errors="replace").read()))
elif path.endswith(".pdf"):
    top, bottom = (float(sys.argv[2]), float(sys.argv[3])) if len(sys.argv) > 3 else (0, 0)
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    total = 0
    for page in range(1, pages + 1):
        size = subprocess.run(["pdfinfo", "-f", str(page), "-l", str(page), path], capture_output=True,
                              text=True, check=True).stdout
        width, height = map(float, re.search(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", size).groups())
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-x", "0", "-y", str(int(top)),
                               "-W", str(int(width) + 1), "-H", str(int(height - top - bottom)), path, "-"],
                              capture_output=True, text=True, check=True).stdout
        total += words(text)
    print(total)
elif path.endswith(".epub"):
    book = zipfile.ZipFile(path)
    container = book.read("META-INF/container.xml").decode()
    opf_path = re.search(r'full-path="([^"]+)"', container).group(1)
    opf = book.read(opf_path).decode()
    base = opf_path.rsplit("/", 1)[0] + "/" if "/" in opf_path else ""
    items = {m.group(1): m.group(2) for m in re.finditer(r'<item\b(?=[^>]*\bid="([^"]+)")(?=[^>]*\bhref="([^"]+)")', opf)}
    total = 0
    for idref in re.findall(r'<itemref\b[^>]*\bidref="([^"]+)"(?![^>]*linear="no")', opf):
        href = items.get(idref, "")
        if "#" in href or base + href not in book.namelist():
            continue  # a fragment of a document already read (SiSU lists them)
        reader = BodyText()
        reader.feed(book.read(base + href).decode("utf-8"))
        total += words("".join(reader.parts))
    print(total)
elif path.endswith(".docx"):
    document = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
    paragraphs = re.findall(r"<w:p[ >].*?</w:p>", document, re.S)
    spaced = lambda p: re.sub(r"<w:(?:tab|br)\b[^>]*/>", "<w:t> </w:t>", p)  # tabs and breaks part words
    text = "\n".join("".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", spaced(p))) for p in paragraphs)
    print(words(html.unescape(text)))
