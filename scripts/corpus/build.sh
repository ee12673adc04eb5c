#!/usr/bin/env bash
# Builds the real-book corpus (supabase/functions/_shared/books/corpus/files) from Debian's packages:
# books Debian ships as EPUB, PDF and text, the same texts converted by pandoc, LibreOffice, calibre,
# enscript + Ghostscript, texinfo, dblatex (XeTeX), DocBook XSL, pdfLaTeX, SiSU and Sphinx, and Jane Austen's
# novels (public domain, from r-cran-janeaustenr) typeset by them. Last, each file's words as an
# independent reading counts them (lib/words.py), for corpus.json. Run by hand when the corpus changes (it installs those tools);
# the tests read the committed files and never need them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/supabase/functions/_shared/books/corpus/files"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
say() { printf '==> %s\n' "$*"; }

LIB="$ROOT/scripts/corpus/lib"
TOOLS=(pandoc enscript ghostscript libreoffice-writer-nogui calibre poppler-utils qpdf texinfo texlive-base
  texlive-plain-generic texlive-latex-recommended texlive-xetex dblatex docbook-xsl xsltproc zip sisu imagemagick
  python3-sphinx r-base-core)
EPUB3_XSL=/usr/share/xml/docbook/stylesheet/docbook-xsl/epub3/chunk.xsl
PACKAGES=(debian-policy developers-reference debian-reference-en maint-guide debian-faq sisu r-cran-janeaustenr)
if ! command -v pandoc >/dev/null || ! command -v soffice >/dev/null || ! command -v ebook-convert >/dev/null ||
  ! command -v enscript >/dev/null || ! command -v texi2pdf >/dev/null || ! command -v dblatex >/dev/null ||
  ! command -v sisu >/dev/null || ! command -v sphinx-build >/dev/null || ! command -v Rscript >/dev/null ||
  ! command -v qpdf >/dev/null || ! [ -f "$EPUB3_XSL" ]; then
  say "Installing the converters: ${TOOLS[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${TOOLS[@]}"
fi
say "Downloading ${PACKAGES[*]}"
mkdir -p "$WORK/debs" "$OUT"
(cd "$WORK/debs" && apt-get download "${PACKAGES[@]}" >/dev/null)
for deb in "$WORK"/debs/*.deb; do dpkg-deb -x "$deb" "$WORK/x"; done
versions="$(cd "$WORK/debs" && ls *.deb)"
D="$WORK/x/usr/share"

say "As Debian ships them (Sphinx EPUB/PDF/text, DBLaTeX PDF, DocBook text)"
cp "$D/doc/debian-policy/policy.epub" "$OUT/policy.sphinx.epub"
zcat "$D/doc/debian-policy/policy.txt.gz" >"$OUT/policy.sphinx.txt"
cp "$D/developers-reference/developers-reference.epub" "$OUT/developers-reference.sphinx.epub"
cp "$D/developers-reference/developers-reference.pdf" "$OUT/developers-reference.latex.pdf"
zcat "$D/developers-reference/developers-reference.txt.gz" >"$OUT/developers-reference.sphinx.txt"
cp "$D/debian-reference/debian-reference.en.pdf" "$OUT/debian-reference.dblatex.pdf"
zcat "$D/debian-reference/debian-reference.en.txt.gz" >"$OUT/debian-reference.docbook.txt"
cp "$D/doc/maint-guide/maint-guide.en.pdf" "$OUT/maint-guide.dblatex.pdf"
zcat "$D/doc/maint-guide/maint-guide.en.txt.gz" >"$OUT/maint-guide.docbook.txt"
zcat "$D/doc/debian/FAQ/debian-faq.en.txt.gz" >"$OUT/debian-faq.docbook.txt"
zcat "$D/doc/debian-policy/fhs/fhs-3.0.txt.gz" >"$OUT/fhs.docbook.txt"

say "pandoc: the Policy's reStructuredText sources as EPUB and DOCX"
src="$D/doc/debian-policy/policy.html/_sources"
chapters=()
for name in ch-scope ch-archive ch-binary ch-source ch-controlfields ch-maintainerscripts ch-relationships \
  ch-sharedlibs ch-opersys ch-files ch-customized-programs ch-docs; do
  chapters+=("$src/$name.rst.txt")
done
pandoc -f rst -o "$OUT/policy.pandoc.epub" --metadata title="Debian Policy Manual" "${chapters[@]}"
pandoc -f rst -o "$OUT/policy.pandoc.docx" --metadata title="Debian Policy Manual" "${chapters[@]}"

say "pandoc: the whole Policy in its two parts (the chapters, the appendices) as DOCX and EPUB"
parts="$WORK/policy-parts.md"
{
  echo "# Part I. The Policy"
  for name in ch-scope ch-archive ch-binary ch-source ch-controlfields ch-maintainerscripts ch-relationships \
    ch-sharedlibs ch-opersys ch-files ch-customized-programs ch-docs; do
    pandoc --quiet -f rst -t markdown --shift-heading-level-by=1 "$src/$name.rst.txt"
    echo
  done
  echo "# Part II. Appendices"
  for name in ap-pkg-scope ap-pkg-binarypkg ap-pkg-sourcepkg ap-pkg-controlfields ap-pkg-conffiles \
    ap-pkg-alternatives ap-pkg-diversions ap-process ap-flowcharts upgrading-checklist ap-license; do
    pandoc --quiet -f rst -t markdown --shift-heading-level-by=1 "$src/$name.rst.txt"
    echo
  done
} >"$parts"
pandoc --quiet -f markdown -o "$OUT/policy-parts.pandoc.docx" --metadata title="Debian Policy Manual" "$parts"
pandoc --quiet -f markdown -o "$OUT/policy-parts.pandoc.epub" --metadata title="Debian Policy Manual" --toc-depth=2 "$parts"

say "LibreOffice: the Developer's Reference HTML as DOCX, and the pandoc DOCX as PDF"
dr="$D/developers-reference"
html="$WORK/developers-reference.html"
{
  echo '<html><head><meta charset="utf-8"><title>Debian Developer'"'"'s Reference</title></head><body>'
  for page in scope new-maintainer developer-duties resources pkgs best-pkging-practices beyond-pkging l10n tools; do
    sed -n '/<div class="body" role="main">/,/<div class="clearer"><\/div>/p' "$dr/$page.html"
  done
  echo '</body></html>'
} >"$html"
(cd "$WORK" && soffice --headless --convert-to docx:"MS Word 2007 XML" developers-reference.html >/dev/null 2>&1)
cp "$WORK/developers-reference.docx" "$OUT/developers-reference.libreoffice.docx"
(cd "$WORK" && cp "$OUT/policy.pandoc.docx" policy.docx && soffice --headless --convert-to pdf policy.docx >/dev/null 2>&1)
cp "$WORK/policy.pdf" "$OUT/policy.libreoffice.pdf"

say "calibre: the FAQ text and the Maintainers' Guide as EPUB, the guide also as DOCX"
ebook-convert "$OUT/debian-faq.docbook.txt" "$OUT/debian-faq.calibre.epub" --chapter "//*[re:test(., '^Chapter [0-9]+\\.', 'i')]" \
  --formatting-type plain --paragraph-type block >/dev/null 2>&1
ebook-convert "$D/doc/maint-guide/html/index.en.html" "$OUT/maint-guide.calibre.epub" >/dev/null 2>&1
ebook-convert "$OUT/maint-guide.calibre.epub" "$OUT/maint-guide.calibre.docx" >/dev/null 2>&1

say "enscript + Ghostscript: the FAQ and the Maintainers' Guide text as paged PDF (running headers)"
enscript -q -B -f Courier10 --header='$n|%W|Page $% of $=' -p "$WORK/faq.ps" "$OUT/debian-faq.docbook.txt"
ps2pdf "$WORK/faq.ps" "$OUT/debian-faq.enscript.pdf"
enscript -q -f Courier10 --header='$n|%W|Page $% of $=' -p "$WORK/mg.ps" "$OUT/maint-guide.docbook.txt"
ps2pdf "$WORK/mg.ps" "$OUT/maint-guide.enscript.pdf"

say "texinfo + pdfTeX: the Maintainers' Guide (its HTML through pandoc's Texinfo writer)"
mgh="$D/doc/maint-guide/html"
python3 "$LIB/docbook_html.py" "Debian New Maintainers' Guide" "$mgh"/{start,first,modify,dreq,dother,build,checkit,update,upload,advanced}.en.html >"$WORK/mg.html"
pandoc -f html -t texinfo -s --metadata title="Debian New Maintainers' Guide" -o "$WORK/mg.texi" "$WORK/mg.html"
sed -i 's/^@\*$//' "$WORK/mg.texi" # a line break outside a paragraph stops TeX
(cd "$WORK" && texi2pdf --batch -q mg.texi >/dev/null 2>&1)
cp "$WORK/mg.pdf" "$OUT/maint-guide.texinfo.pdf"

say "DocBook XSL, EPUB 3: the Maintainers' Guide (its HTML as DocBook through pandoc), every section a document"
pandoc -f html-native_divs-native_spans -t docbook4 -s --top-level-division=chapter \
  --metadata title="Debian New Maintainers' Guide" -o "$WORK/mg.xml" "$WORK/mg.html"
# A book, not an article (chapters), and no DOCTYPE: the stylesheets run offline.
sed -e '/^<!DOCTYPE/,/docbookx.dtd">$/d' -e 's/<article>/<book>/; s/articleinfo>/bookinfo>/g; s#</article>#</book>#' \
  "$WORK/mg.xml" >"$WORK/mg-book.xml"
mkdir -p "$WORK/mg-epub"
(cd "$WORK/mg-epub" && xsltproc --nonet --stringparam base.dir OEBPS/ --stringparam chunk.first.sections 1 \
  "$EPUB3_XSL" ../mg-book.xml >/dev/null 2>&1)
rm -f "$OUT/maint-guide.docbook-xsl.epub"
(cd "$WORK/mg-epub" && zip -X -q -0 "$OUT/maint-guide.docbook-xsl.epub" mimetype &&
  zip -X -q -r -9 "$OUT/maint-guide.docbook-xsl.epub" META-INF OEBPS)

say "dblatex + XeTeX (xdvipdfmx): the FHS (its HTML as DocBook through pandoc), and a copy with owner-password restrictions"
python3 "$LIB/docbook_html.py" "Filesystem Hierarchy Standard" "$D/doc/debian-policy/fhs/fhs-3.0.html" >"$WORK/fhs.html"
# (Its PDF outline lists the sections but not the chapters: the chapters are known from their headings.)
pandoc -f html-native_divs-native_spans -t docbook4 -s --top-level-division=chapter \
  --metadata title="Filesystem Hierarchy Standard" -o "$WORK/fhs.xml" "$WORK/fhs.html"
dblatex -q -b xetex -o "$OUT/fhs.dblatex-xetex.pdf" "$WORK/fhs.xml" >/dev/null 2>&1
qpdf --encrypt "" owner-only 256 --print=none --modify=none --extract=n -- "$OUT/fhs.dblatex-xetex.pdf" \
  "$OUT/fhs.dblatex-xetex-restricted.pdf"

say "SiSU: its own manual (markup samples in the sisu package) as EPUB"
cp -r "$D/doc/sisu/markup-samples/manual" "$WORK/sisu"
(cd "$WORK/sisu/en" && gunzip -f ./*.gz 2>/dev/null || true)
# SiSU writes under /var/www/sisu; ImageMagick's convert must be the real one.
(cd "$WORK/sisu/en" && PATH="/usr/bin:$PATH" sisu --epub sisu_manual.ssm >/dev/null 2>&1)
cp /var/www/sisu/en/epub/sisu_manual.epub "$OUT/sisu-manual.sisu.epub"

say "Sphinx, haiku theme: the Developer's Reference sources grouped under two pages, navigation bars on every page"
sph="$WORK/sphinx"
mkdir -p "$sph"
for page in scope new-maintainer developer-duties resources pkgs best-pkging-practices beyond-pkging l10n tools; do
  cp "$dr/_sources/$page.rst.txt" "$sph/$page.rst"
done
printf '%s\n' "Debian Developer's Reference" "############################" "" \
  "This is Debian Developer's Reference version |VERSION|." "" ".. toctree::" "   :maxdepth: 3" "   :numbered:" "" \
  "   manual" "   appendix" >"$sph/index.rst"
printf '%s\n' "Working in Debian" "*****************" "" ".. toctree::" "   :maxdepth: 3" "" "   scope" "   new-maintainer" \
  "   developer-duties" "   resources" "   pkgs" "   best-pkging-practices" "   beyond-pkging" "   l10n" >"$sph/manual.rst"
printf '%s\n' "Appendix" "********" "" ".. toctree::" "   :maxdepth: 3" "" "   tools" >"$sph/appendix.rst"
printf '%s\n' "project = \"Debian Developer's Reference\"" "author = \"Developer's Reference Team\"" \
  "rst_epilog = '.. |VERSION| replace:: 12\\n'" "epub_theme = 'haiku'" "epub_tocdepth = 3" "epub_show_urls = 'no'" \
  >"$sph/conf.py"
sphinx-build -q -b epub "$sph" "$sph/out" >/dev/null 2>&1 || true
cp "$sph/out/DebianDevelopersReference.epub" "$OUT/developers-reference.sphinx-haiku.epub"

say "Novels: Jane Austen (public domain) from r-cran-janeaustenr"
Rscript -e 'library(janeaustenr, lib.loc = commandArgs(TRUE)[1]); for (n in c("emma", "persuasion", "northangerabbey", "sensesensibility")) writeLines(get(n), file.path(commandArgs(TRUE)[2], paste0(n, ".txt")))' \
  "$WORK/x/usr/lib/R/site-library" "$WORK"
cp "$WORK/emma.txt" "$OUT/emma.janeaustenr.txt"
say "calibre, its own EPUB (not a conversion): Emma, a file per volume, the contents generated from the headings"
calibre-debug "$LIB/calibre_book.py" "$WORK/emma.txt" "$OUT/emma.calibre-native.epub" "Emma" "Jane Austen" >/dev/null 2>&1
say "LibreOffice: Persuasion from DOCX (running head and page numbers, chapters run on without page breaks)"
python3 "$LIB/novel_markdown.py" "$WORK/persuasion.txt" >"$WORK/persuasion.md"
pandoc -o "$WORK/default.docx" --print-default-data-file reference.docx
python3 "$LIB/reference_docx.py" "$WORK/default.docx" "$WORK/persuasion-reference.docx" "Persuasion"
pandoc -f markdown --reference-doc="$WORK/persuasion-reference.docx" --metadata title="Persuasion" \
  -o "$WORK/persuasion.docx" "$WORK/persuasion.md"
(cd "$WORK" && soffice --headless --convert-to pdf persuasion.docx >/dev/null 2>&1)
cp "$WORK/persuasion.pdf" "$OUT/persuasion.libreoffice.pdf"
say "LibreOffice: Sense and Sensibility from DOCX, each chapter on a new page, exported without bookmarks"
python3 "$LIB/novel_markdown.py" "$WORK/sensesensibility.txt" >"$WORK/sense.md"
python3 "$LIB/reference_docx.py" "$WORK/default.docx" "$WORK/sense-reference.docx" "Sense and Sensibility" \
  --page-break-before
pandoc -f markdown --reference-doc="$WORK/sense-reference.docx" --metadata title="Sense and Sensibility" \
  -o "$WORK/sense.docx" "$WORK/sense.md"
(cd "$WORK" && soffice --headless \
  --convert-to 'pdf:writer_pdf_Export:{"ExportBookmarks":{"type":"boolean","value":"false"}}' sense.docx >/dev/null 2>&1)
cp "$WORK/sense.pdf" "$OUT/sense-and-sensibility.libreoffice-pagebreaks.pdf"
say "pdfLaTeX, two columns: Northanger Abbey, chapters run on mid-column"
python3 "$LIB/novel_markdown.py" "$WORK/northangerabbey.txt" --unnumbered >"$WORK/northanger.md"
pandoc -f markdown -s --top-level-division=section -V documentclass=article -V classoption=twocolumn \
  -V fontsize=10pt -V geometry=margin=1.8cm -V pagestyle=headings --metadata title="Northanger Abbey" \
  --metadata author="Jane Austen" -o "$WORK/northanger.tex" "$WORK/northanger.md"
(cd "$WORK" && pdflatex -interaction=batchmode northanger.tex >/dev/null 2>&1 &&
  pdflatex -interaction=batchmode northanger.tex >/dev/null 2>&1)
cp "$WORK/northanger.pdf" "$OUT/northanger-abbey.latex-twocolumn.pdf"

say "Words in each file (corpus.json's \"words\"; PDFs within the body, without the bands of page furniture given here)"
bands() {
  case "$1" in
  maint-guide.enscript.pdf) echo 55 0 ;; debian-reference.dblatex.pdf | maint-guide.dblatex.pdf) echo 62 0 ;;
  developers-reference.latex.pdf) echo 60 54 ;;
  persuasion.libreoffice.pdf | sense-and-sensibility.libreoffice-pagebreaks.pdf) echo 60 66 ;;
  maint-guide.texinfo.pdf) echo 80 0 ;; fhs.dblatex-xetex*.pdf) echo 62 0 ;;
  northanger-abbey.latex-twocolumn.pdf) echo 40 0 ;; *) echo 0 0 ;;
  esac
}
for file in "$OUT"/*; do
  name="$(basename "$file")"
  # shellcheck disable=SC2046
  printf '%-45s %s\n' "$name" "$(python3 "$LIB/words.py" "$file" $(bands "$name"))"
done

say "Package versions:"
echo "$versions"
ls -la "$OUT"
