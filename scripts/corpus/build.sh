#!/usr/bin/env bash
# Builds the real-book corpus (supabase/functions/_shared/books/corpus/files) from Debian's packages:
# books Debian ships as EPUB, PDF and text, and the same texts converted by pandoc, LibreOffice,
# calibre and enscript + Ghostscript. Run by hand when the corpus changes (it installs those tools);
# the tests read the committed files and never need them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/supabase/functions/_shared/books/corpus/files"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
say() { printf '==> %s\n' "$*"; }

TOOLS=(pandoc enscript ghostscript libreoffice-writer-nogui calibre poppler-utils)
PACKAGES=(debian-policy developers-reference debian-reference-en maint-guide debian-faq)
if ! command -v pandoc >/dev/null || ! command -v soffice >/dev/null || ! command -v ebook-convert >/dev/null ||
  ! command -v enscript >/dev/null; then
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

say "Package versions:"
echo "$versions"
ls -la "$OUT"
