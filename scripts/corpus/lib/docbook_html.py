"""The chapters of DocBook's HTML output as one HTML document, without its title page, contents and
navigation, and without the numbers DocBook wrote into headings (the next tool numbers them again).
Usage: docbook_html.py TITLE FILE..."""
import re
import sys

title, files = sys.argv[1], sys.argv[2:]
body = []
for name in files:
    page = open(name, encoding="utf-8").read()
    start = re.search(r'<div class="(chapter|appendix)"', page).start()
    end = page.find('<div class="navfooter"')
    page = page[start:end if end >= 0 else page.rindex("</body>")]
    page = re.sub(r'(<h[1-4] class="title"[^>]*>(?:<a [^>]*(?:/>|></a>))?)'
                  r'(?:(?:Chapter|Appendix)\s[0-9A-Z]+\.|[0-9A-Z]+(?:\.[0-9]+)+\.)\s*', r"\1", page)
    body.append(page)
print(f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>{"".join(body)}</body></html>')
