"""A book made by calibre itself (run with calibre-debug): a new EPUB from calibre's own template, one
XHTML file per volume holding its chapters, and the table of contents generated from the headings, as
calibre's editor does ("New book", then "Table of Contents > Generate from headings")."""
import html
import re
import sys

from calibre.ebooks.metadata.book.base import Metadata
from calibre.ebooks.oeb.polish.container import get_container
from calibre.ebooks.oeb.polish.create import create_book
from calibre.ebooks.oeb.polish.toc import commit_toc, from_xpaths

source, target, title, author = sys.argv[1:5]
volumes = []
paragraph = []


def end_paragraph():
    if paragraph and volumes:
        volumes[-1]["body"].append("<p>" + html.escape(" ".join(paragraph)) + "</p>")
    paragraph.clear()


for line in open(source, encoding="utf-8").read().split("\n"):
    text = line.strip()
    if re.match(r"^VOLUME [IVX]+$", text):
        end_paragraph()
        volumes.append({"title": text, "body": [f"<h1>{text}</h1>"]})
    elif re.match(r"^CHAPTER [IVXL]+$", text):
        end_paragraph()
        volumes[-1]["body"].append(f"<h2>{text}</h2>")
    elif not volumes:
        continue  # the title lines before the first volume
    elif text == "":
        end_paragraph()
    else:
        paragraph.append(text)
end_paragraph()

metadata = Metadata(title, [author])
metadata.language = "en"
create_book(metadata, target, fmt="epub")
book = get_container(target)
for number, volume in enumerate(volumes, 1):
    document = ('<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head>'
                f'<title>{volume["title"]}</title></head><body>{"".join(volume["body"])}</body></html>')
    book.add_file(f"text/volume{number}.xhtml", document.encode("utf-8"), spine_index=-1)
for name in list(book.name_path_map):
    if name.endswith("start.xhtml"):
        book.remove_item(name)  # the template's empty first page
commit_toc(book, from_xpaths(book, ["//h:h1", "//h:h2"]))
book.commit()
