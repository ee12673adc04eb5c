/** Builds small books in every supported format for tests and benchmarks. */
import { strToU8, zipSync } from "fflate";
import { PDFDocument, PDFHexString, PDFName, PDFString, StandardFonts } from "pdf-lib";

export interface FixtureChapter {
  title: string;
  paragraphs: string[];
}

const escapeXml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function makeEpub(chapters: FixtureChapter[], toc: "nav" | "ncx" = "nav"): Uint8Array {
  const files: Record<string, Uint8Array | [Uint8Array, { level: 0 }]> = {
    mimetype: [strToU8("application/epub+zip"), { level: 0 }],
    "META-INF/container.xml": strToU8(
      `<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">` +
        `<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>`,
    ),
  };
  const items = chapters.map((_, i) =>
    `<item id="c${i + 1}" href="text/ch${i + 1}.xhtml" media-type="application/xhtml+xml"/>`
  );
  const tocItem = toc === "nav"
    ? `<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>`
    : `<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>`;
  files["OEBPS/content.opf"] = strToU8(
    `<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata/>` +
      `<manifest>${tocItem}<item id="cover" href="text/cover.xhtml" media-type="application/xhtml+xml"/>${
        items.join("")
      }</manifest>` +
      `<spine${toc === "ncx" ? ' toc="ncx"' : ""}><itemref idref="cover"/>${
        chapters.map((_, i) => `<itemref idref="c${i + 1}"/>`).join("")
      }</spine></package>`,
  );
  files["OEBPS/text/cover.xhtml"] = strToU8(`<html><body><p>Cover</p></body></html>`);
  chapters.forEach((c, i) => {
    files[`OEBPS/text/ch${i + 1}.xhtml`] = strToU8(
      `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>${
        escapeXml(c.title)
      }</title></head><body>` +
        `<h1>${escapeXml(c.title)}</h1>${
          c.paragraphs.map((p) => `<p>${escapeXml(p)}</p>`).join("")
        }</body></html>`,
    );
  });
  if (toc === "nav") {
    files["OEBPS/nav.xhtml"] = strToU8(
      `<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol>` +
        chapters.map((c, i) => `<li><a href="text/ch${i + 1}.xhtml">${escapeXml(c.title)}</a></li>`).join(
          "",
        ) +
        `</ol></nav></body></html>`,
    );
  } else {
    files["OEBPS/toc.ncx"] = strToU8(
      `<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/"><navMap>` +
        chapters.map((c, i) =>
          `<navPoint id="p${i + 1}"><navLabel><text>${
            escapeXml(c.title)
          }</text></navLabel><content src="text/ch${i + 1}.xhtml"/></navPoint>`
        ).join("") + `</navMap></ncx>`,
    );
  }
  return zipSync(files);
}

/** An EPUB 3 of the given documents in this reading order (bodies as XHTML) and a nav list (`<ol>`). */
export function makeEpubDocuments(documents: { href: string; body: string }[], navList: string): Uint8Array {
  const files: Record<string, Uint8Array | [Uint8Array, { level: 0 }]> = {
    mimetype: [strToU8("application/epub+zip"), { level: 0 }],
    "META-INF/container.xml": strToU8(
      `<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">` +
        `<rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>`,
    ),
    "content.opf": strToU8(
      `<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata/><manifest>` +
        `<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>` +
        documents.map((d, i) => `<item id="d${i}" href="${d.href}" media-type="application/xhtml+xml"/>`)
          .join("") +
        `</manifest><spine>${documents.map((_, i) => `<itemref idref="d${i}"/>`).join("")}</spine></package>`,
    ),
    "nav.xhtml": strToU8(
      `<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body>` +
        `<nav epub:type="toc">${navList}</nav></body></html>`,
    ),
  };
  for (const d of documents) {
    files[d.href] = strToU8(`<html xmlns="http://www.w3.org/1999/xhtml"><body>${d.body}</body></html>`);
  }
  return zipSync(files);
}

export function makeDocx(blocks: { heading?: 1 | 2; text: string }[]): Uint8Array {
  const paragraph = (b: { heading?: 1 | 2; text: string }) =>
    `<w:p>${
      b.heading ? `<w:pPr><w:pStyle w:val="Heading${b.heading}"/></w:pPr>` : ""
    }<w:r><w:t xml:space="preserve">${escapeXml(b.text)}</w:t></w:r></w:p>`;
  const w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
  return zipSync({
    "[Content_Types].xml": strToU8(
      `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        `<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
        `<Default Extension="xml" ContentType="application/xml"/>` +
        `<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
        `<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>`,
    ),
    "_rels/.rels": strToU8(
      `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
        `<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
    ),
    "word/_rels/document.xml.rels": strToU8(
      `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
        `<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`,
    ),
    "word/styles.xml": strToU8(
      `<?xml version="1.0"?><w:styles ${w}>` +
        [1, 2].map((n) =>
          `<w:style w:type="paragraph" w:styleId="Heading${n}"><w:name w:val="heading ${n}"/></w:style>`
        ).join("") +
        `</w:styles>`,
    ),
    "word/document.xml": strToU8(
      `<?xml version="1.0"?><w:document ${w}><w:body>${blocks.map(paragraph).join("")}</w:body></w:document>`,
    ),
  });
}

/** A PDF with one page per entry of `pages` (lines of text), an optional outline and running header. */
export async function makePdf(
  pages: string[][],
  options: {
    /** `top`: the destination's y (XYZ), else the page's top. */
    outline?: { title: string; page: number; top?: number }[];
    header?: string | ((page: number) => string);
    /** Lines drawn at 18 pt rather than 11 (headings by type size). */
    large?: string[];
    encrypt?: boolean;
  } = {},
): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  pages.forEach((lines, n) => {
    const page = doc.addPage([595, 842]);
    const header = typeof options.header === "function" ? options.header(n) : options.header;
    if (header) page.drawText(header, { x: 50, y: 800, size: 9, font });
    lines.forEach((line, i) =>
      page.drawText(line, { x: 50, y: 760 - i * 16, size: options.large?.includes(line) ? 18 : 11, font })
    );
    page.drawText(String(n + 1), { x: 290, y: 30, size: 9, font });
  });
  const ctx = doc.context;
  const outline = options.outline ?? [];
  if (outline.length > 0) {
    const root = ctx.nextRef();
    const refs = outline.map(() => ctx.nextRef());
    outline.forEach((entry, i) => {
      ctx.assign(
        refs[i],
        ctx.obj({
          Title: PDFString.of(entry.title),
          Parent: root,
          Dest: [doc.getPage(entry.page).ref, "XYZ", null, entry.top ?? null, null],
          ...(i > 0 ? { Prev: refs[i - 1] } : {}),
          ...(i < outline.length - 1 ? { Next: refs[i + 1] } : {}),
        }),
      );
    });
    ctx.assign(
      root,
      ctx.obj({ Type: "Outlines", First: refs[0], Last: refs[refs.length - 1], Count: refs.length }),
    );
    doc.catalog.set(PDFName.of("Outlines"), root);
  }
  if (options.encrypt) {
    // A standard security handler whose user password is not empty: readers must ask for it.
    ctx.trailerInfo.Encrypt = ctx.obj({
      Filter: "Standard",
      V: 1,
      R: 2,
      O: PDFHexString.of("ab".repeat(32)),
      U: PDFHexString.of("cd".repeat(32)),
      P: -4,
    });
    ctx.trailerInfo.ID = ctx.obj([PDFHexString.of("01".repeat(16)), PDFHexString.of("01".repeat(16))]);
  }
  return await doc.save({ useObjectStreams: false });
}

const WORDS =
  ("the lamp keeper watched storm harbour boat rope tide light glass oil night morning gull rock cliff wind " +
    "village letter school lesson river bridge market bread winter summer house door road mountain forest")
    .split(" ");

/** Deterministic filler prose of about `words` words, in paragraphs. */
export function prose(words: number, seed = 1): string {
  let state = seed;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) % WORDS.length;
  const paragraphs: string[] = [];
  let written = 0;
  while (written < words) {
    const sentencesOut: string[] = [];
    for (let s = 0; s < 5 && written < words; s++) {
      const n = 8 + (next() % 8);
      const sentence = Array.from({ length: n }, () => WORDS[next()]).join(" ");
      sentencesOut.push(sentence[0].toUpperCase() + sentence.slice(1) + ".");
      written += n;
    }
    paragraphs.push(sentencesOut.join(" "));
  }
  return paragraphs.join("\n\n");
}

/** A zip of one entry of `size` bytes whose headers declare `declared` bytes (an upload bomb). */
export function lyingZip(name: string, size: number, declared: number): Uint8Array {
  const zip = zipSync({ [name]: new Uint8Array(size).fill(65) });
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  view.setUint32(22, declared, true); // local file header: uncompressed size
  for (let at = zip.length - 22; at >= 0; at--) { // central directory entry
    if (view.getUint32(at, true) === 0x02014b50) {
      view.setUint32(at + 24, declared, true);
      break;
    }
  }
  return zip;
}

/** A PDF of `pages` blank pages, as pdf-lib writes it. */
export async function blankPdf(pages: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  for (let i = 0; i < pages; i++) doc.addPage([200, 200]);
  return await doc.save();
}
