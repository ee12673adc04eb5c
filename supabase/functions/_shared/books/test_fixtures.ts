/** Builds small books in every supported format for tests and benchmarks. */
import { strToU8, Zip, ZipDeflate, type ZipInputFile, ZipPassThrough, zipSync } from "fflate";
import { Buffer } from "node:buffer";
import { constants, deflateRawSync } from "node:zlib";
import { DEFAULT_LIMITS } from "./limits.ts";
import { PDFDocument, PDFHexString, PDFName, PDFRawStream, PDFString, StandardFonts } from "pdf-lib";

export interface FixtureChapter {
  title: string;
  paragraphs: string[];
}

const escapeXml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function makeEpub(chapters: FixtureChapter[], toc: "nav" | "ncx" = "nav"): Uint8Array {
  return zipSync(epubFiles(chapters, toc));
}

/** The files of a small EPUB: container, package document, a cover, the chapters and a nav or NCX. */
export function epubFiles(
  chapters: FixtureChapter[],
  toc: "nav" | "ncx" = "nav",
): Record<string, Uint8Array | [Uint8Array, { level: 0 }]> {
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
  return files;
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
  return zipSync(docxFiles(blocks));
}

const W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';

/** The files of a small DOCX; `documentXml` replaces word/document.xml. */
export function docxFiles(
  blocks: { heading?: 1 | 2; text: string }[],
  documentXml?: string,
): Record<string, Uint8Array> {
  const paragraph = (b: { heading?: 1 | 2; text: string }) =>
    `<w:p>${
      b.heading ? `<w:pPr><w:pStyle w:val="Heading${b.heading}"/></w:pPr>` : ""
    }<w:r><w:t xml:space="preserve">${escapeXml(b.text)}</w:t></w:r></w:p>`;
  const w = W_NS;
  return {
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
      documentXml ??
        `<?xml version="1.0"?><w:document ${w}><w:body>${
          blocks.map(paragraph).join("")
        }</w:body></w:document>`,
    ),
  };
}

/** The opening of a DOCX document up to a run's text, for documents written by hand. */
export const DOCX_TEXT_OPENING = `<?xml version="1.0"?><w:document ${W_NS}><w:body><w:p><w:r><w:t>`;

/**
 * An entry compressed with deflate that inflates to `prefix` followed by `size` bytes of `fill`
 * repeated (and nothing after: no reader may get that far), built without ever holding those bytes:
 * about 16 MiB of fill is compressed once, flushed to a byte boundary, and repeated.
 */
export function deflatedBomb(
  prefix: string,
  size: number,
  fill = " ",
): { chunks: Uint8Array[]; size: number } {
  const segmentBytes = Math.floor(16 * 1024 * 1024 / fill.length) * fill.length;
  const flush = { finishFlush: constants.Z_FULL_FLUSH };
  const segment = deflateRawSync(Buffer.alloc(segmentBytes, fill), flush);
  const chunks: Uint8Array[] = [deflateRawSync(Buffer.from(prefix), flush)];
  for (let left = size; left > 0; left -= segmentBytes) {
    chunks.push(left >= segmentBytes ? segment : deflateRawSync(Buffer.alloc(left, fill), flush));
  }
  chunks.push(new Uint8Array([0x03, 0x00])); // an empty final block
  return { chunks, size: prefix.length + size };
}

/**
 * A zip of plain files and already-deflated entries, each entry's headers declaring `declared`
 * bytes (the truth when not given; a zip bomb's headers may say anything).
 */
export function zipOf(
  files: Record<string, Uint8Array | [Uint8Array, { level: 0 }]>,
  deflated: Record<string, { chunks: Uint8Array[]; size: number; declared?: number }> = {},
): Uint8Array {
  const out: Uint8Array[] = [];
  const zip = new Zip((error, chunk) => {
    if (error) throw error;
    out.push(chunk);
  });
  for (const [name, data] of Object.entries(files)) {
    const [bytes, stored] = data instanceof Uint8Array ? [data, data.length === 0] : [data[0], true];
    const file = stored ? new ZipPassThrough(name) : new ZipDeflate(name);
    zip.add(file);
    file.push(bytes, true);
  }
  for (const [name, entry] of Object.entries(deflated)) {
    // The CRC is never checked: every reader must refuse the entry before its end.
    const file: ZipInputFile = { filename: name, size: entry.declared ?? entry.size, crc: 0, compression: 8 };
    zip.add(file);
    entry.chunks.forEach((chunk, i) => file.ondata!(null, chunk, i === entry.chunks.length - 1));
  }
  zip.end();
  return Buffer.concat(out);
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

/** Chapters of prose (about 20,000 characters each) whose text as one book is just under the text limit. */
export function chaptersAtTextLimit(chapters = 400): FixtureChapter[] {
  const charsPerWord = prose(10_000).length / 10_000;
  const words = Math.floor(DEFAULT_LIMITS.maxTextChars * 0.97 / charsPerWord / chapters);
  return Array.from({ length: chapters }, (_, i) => ({
    title: `Chapter ${i + 1}`,
    paragraphs: prose(words, i + 1).split("\n\n"),
  }));
}

/** The chapters as plain text, each title on its own line. */
export function chaptersAsText(chapters: FixtureChapter[]): string {
  return chapters.map((c) => `${c.title}\n\n${c.paragraphs.join("\n\n")}`).join("\n\n");
}

/** The chapters as DOCX blocks, each title a Heading 1. */
export function chaptersAsDocx(chapters: FixtureChapter[]): { heading?: 1; text: string }[] {
  return chapters.flatMap((
    c,
  ) => [{ heading: 1 as const, text: c.title }, ...c.paragraphs.map((text) => ({ text }))]);
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

/** A PDF of one page whose content stream inflates to `size` bytes of operators that draw nothing. */
export async function pdfBomb(size: number): Promise<Uint8Array> {
  const { chunks } = deflatedBomb("", size, "q Q ");
  const data = Buffer.concat([new Uint8Array([0x78, 0x9c]), ...chunks]); // a zlib header, then deflate
  const doc = await PDFDocument.create();
  const page = doc.addPage([200, 200]);
  const contents = PDFRawStream.of(doc.context.obj({ Filter: "FlateDecode", Length: data.length }), data);
  page.node.set(PDFName.of("Contents"), doc.context.register(contents));
  return await doc.save();
}
