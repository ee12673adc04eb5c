/**
 * Reads an uploaded book into text plus, where the format has one, its own table of contents:
 * plain text (UTF-8 or Latin-1), Markdown, EPUB (spine, nav or NCX), PDF (text layer, outline)
 * and DOCX (headings). Anything unreadable raises a BookFormatError with a message for the user.
 */
import { Unzip, UnzipInflate, zipSync } from "fflate";
import { XMLParser } from "fast-xml-parser";
import { getDocumentProxy } from "unpdf";
import mammoth from "mammoth";
import { Buffer } from "node:buffer";
import { PermanentError } from "../errors.ts";
import { withoutDocumentFurniture } from "./document_furniture.ts";
import {
  destinationPosition,
  headingLine,
  headingsAboveOutline,
  type PageHeading,
  pageLines,
  pagesText,
  type PdfPage,
  removePageFurniture,
  typographicHeadings,
} from "./pdf_layout.ts";

export class BookFormatError extends PermanentError {
  override name = "BookFormatError";
}

export type BookFormat = "txt" | "md" | "epub" | "pdf" | "docx";

/** An entry of a book's own table of contents, at an offset of the extracted text. */
export interface OutlineEntry {
  title: string;
  /** 0 for the outermost level. */
  depth: number;
  /** Where the entry's section starts in `ExtractedBook.text`. */
  start: number;
  /** The entry starts a document of its own (an EPUB spine item), with no words of it before. */
  startsDocument?: boolean;
}

export interface ExtractedBook {
  format: BookFormat;
  /** The whole text, paragraphs separated by blank lines. */
  text: string;
  /** The format's own table of contents (EPUB nav or NCX, PDF outline, DOCX or Markdown headings). */
  outline: OutlineEntry[] | null;
  outlineSource: string | null;
}

/** Joins pieces of text with blank lines; returns the text and where each piece starts in it. */
export function joinPieces(pieces: string[]): { text: string; starts: number[] } {
  const starts: number[] = [];
  let text = "";
  for (const piece of pieces) {
    const trimmed = piece.trim();
    if (text !== "" && trimmed !== "") text += "\n\n";
    starts.push(text.length);
    text += trimmed;
  }
  return { text, starts };
}

export interface ExtractLimits {
  maxFileBytes: number;
  /** Total uncompressed size an EPUB or DOCX may expand to, counted as it is inflated. */
  maxExpandedBytes: number;
  /** Pages a PDF may have. */
  maxPdfPages: number;
  /** Milliseconds reading one book's text may take (checked between pages and files). */
  maxExtractMs: number;
}

export const DEFAULT_LIMITS: ExtractLimits = {
  maxFileBytes: 50 * 1024 * 1024,
  maxExpandedBytes: 200 * 1024 * 1024,
  maxPdfPages: 2_000,
  maxExtractMs: 60_000,
};

const MIB = 1024 * 1024;

export function detectFormat(fileName: string, bytes: Uint8Array): BookFormat {
  const ext = fileName.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1] ?? "";
  if (ext === "epub" || ext === "docx" || ext === "pdf") return ext;
  if (ext === "md" || ext === "markdown") return "md";
  if (startsWith(bytes, "%PDF-")) return "pdf";
  if (startsWith(bytes, "PK\x03\x04")) {
    const head = new TextDecoder("latin1").decode(bytes.subarray(0, 200));
    return head.includes("application/epub+zip") ? "epub" : "docx";
  }
  return "txt";
}

function startsWith(bytes: Uint8Array, prefix: string): boolean {
  return prefix.split("").every((ch, i) => bytes[i] === ch.charCodeAt(0));
}

export async function extractBook(
  fileName: string,
  bytes: Uint8Array,
  overrides: Partial<ExtractLimits> = {},
): Promise<ExtractedBook> {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  if (bytes.length === 0) throw new BookFormatError("the file is empty");
  if (bytes.length > limits.maxFileBytes) {
    throw new BookFormatError(
      `the file is ${(bytes.length / MIB).toFixed(1)} MiB; the limit is ${
        (limits.maxFileBytes / MIB).toFixed(0)
      } MiB`,
    );
  }
  const format = detectFormat(fileName, bytes);
  const deadline = performance.now() + limits.maxExtractMs;
  const inTime = () => {
    if (performance.now() > deadline) {
      throw new BookFormatError(
        `reading the ${format.toUpperCase()} took longer than ${limits.maxExtractMs / 1000} s; refusing it`,
      );
    }
  };
  let book: ExtractedBook;
  switch (format) {
    case "txt":
      book = { format, text: normaliseText(decodeText(bytes)), outline: null, outlineSource: null };
      break;
    case "md":
      book = fromMarkdown(decodeText(bytes));
      break;
    case "epub":
      book = fromEpub(unzipLimited(bytes, "EPUB", limits.maxExpandedBytes));
      inTime();
      break;
    case "pdf":
      book = await fromPdf(bytes, limits.maxPdfPages, inTime);
      break;
    case "docx":
      book = await fromDocx(bytes, limits.maxExpandedBytes);
      inTime();
      break;
  }
  if (book.text.trim() === "") throw new BookFormatError(`the ${format.toUpperCase()} file contains no text`);
  return book;
}

/** UTF-8 when it decodes cleanly, else Latin-1; refuses binary data dressed as text. */
export function decodeText(bytes: Uint8Array): string {
  const sample = bytes.subarray(0, 65536);
  let control = 0;
  for (const b of sample) if (b === 0 || (b < 32 && b !== 9 && b !== 10 && b !== 12 && b !== 13)) control++;
  if (control > sample.length * 0.01) {
    throw new BookFormatError("the file looks binary, not text: upload TXT, Markdown, EPUB, PDF or DOCX");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder("latin1").decode(bytes);
  }
  return text.replace(/^\uFEFF/, "");
}

/**
 * UTF-8 that a tool read as Latin-1 ("Â©" for "©", "Ã©" for "é"; enscript does this) is decoded again;
 * anything that does not decode is left as it is.
 */
export function repairMojibake(text: string): string {
  // A no-break space read as Latin-1 is "Â" and a space once the PDF's text layer has made it a space.
  return text.replace(/\u00c2(?=[ \u00a0])/g, "").replace(/[\u00c2-\u00f4][\u0080-\u00bf]{1,3}/g, (run) => {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(run, (c) => c.charCodeAt(0)));
    } catch {
      return run;
    }
  });
}

function normaliseText(text: string): string {
  return text.replace(/\r\n?/g, "\n").replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim();
}

// ---------------------------------------------------------------- Markdown

function fromMarkdown(source: string): ExtractedBook {
  const text = normaliseText(source);
  const headings = [...text.matchAll(/^(#{1,6})\s+(.+?)\s*#*$/gm)];
  const plain = (s: string) =>
    s.replace(/^#{1,6}\s+/gm, "").replace(/!\[[^\]]*\]\([^)]*\)/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/(\*\*|__|\*|_|`)/g, "");
  if (headings.length === 0) return { format: "md", text: plain(text), outline: null, outlineSource: null };
  const cuts = [0, ...headings.map((m) => m.index!)];
  const joined = joinPieces(cuts.map((at, i) => plain(text.slice(at, cuts[i + 1] ?? text.length))));
  const top = Math.min(...headings.map((m) => m[1].length));
  return {
    format: "md",
    text: joined.text,
    outline: headings.map((m, i) => ({
      title: plain(m[2]).trim(),
      depth: m[1].length - top,
      start: joined.starts[i + 1],
    })),
    outlineSource: "markdown_headings",
  };
}

/**
 * HTML documents as one text, cut at the given marks; returns where each mark starts in the text and
 * whether it starts its document (no words of the document before it). `clean` may take lines out of
 * each document's pieces (page furniture) before they are joined.
 */
function htmlWithMarks(
  docs: string[],
  marks: { doc: number; offset: number }[],
  clean: (documents: string[][]) => string[][] = (documents) => documents,
): { text: string; at: number[]; startsDocument: boolean[] } {
  const order = marks.map((m, i) => ({ ...m, i })).sort((a, b) => a.doc - b.doc || a.offset - b.offset);
  const documents: string[][] = docs.map(() => []);
  const pieceOfMark = new Array<{ doc: number; piece: number }>(marks.length);
  let k = 0;
  for (let d = 0; d < docs.length; d++) {
    let from = 0;
    while (k < order.length && order[k].doc === d) {
      documents[d].push(htmlToText(docs[d].slice(from, order[k].offset)));
      from = order[k].offset;
      pieceOfMark[order[k].i] = { doc: d, piece: documents[d].length };
      k++;
    }
    documents[d].push(htmlToText(docs[d].slice(from)));
  }
  const cleaned = clean(documents);
  const firstPiece: number[] = []; // each document's first piece among all of them
  let pieceCount = 0;
  for (const pieces of cleaned) {
    firstPiece.push(pieceCount);
    pieceCount += pieces.length;
  }
  const joined = joinPieces(cleaned.flat());
  return {
    text: joined.text,
    at: pieceOfMark.map(({ doc, piece }) => joined.starts[firstPiece[doc] + piece]),
    startsDocument: pieceOfMark.map(({ doc, piece }) =>
      cleaned[doc].slice(0, piece).every((p) => !/[\p{L}\p{N}]/u.test(p))
    ),
  };
}

// ---------------------------------------------------------------- zip containers (EPUB, DOCX)

/**
 * Unzips, counting the bytes actually inflated: the sizes a zip declares can lie (a small "bomb"
 * declares a few bytes and inflates to gigabytes). The archive is fed in small slices, so no slice
 * inflates to more than about 16 MiB before the count stops it.
 */
export function unzipLimited(
  bytes: Uint8Array,
  kind: string,
  maxExpanded: number,
): Record<string, Uint8Array> {
  const parts: Record<string, Uint8Array[]> = {};
  let total = 0;
  let tooLarge = false;
  let broken = false;
  const unzip = new Unzip((file) => {
    if (tooLarge) return;
    const chunks: Uint8Array[] = (parts[file.name] = []);
    file.ondata = (error, chunk) => {
      if (error) {
        broken = true;
        return;
      }
      total += chunk.length;
      if (total > maxExpanded) {
        tooLarge = true;
        file.terminate();
        return;
      }
      chunks.push(chunk);
    };
    try {
      file.start();
    } catch {
      broken = true; // a compression method we cannot read
    }
  });
  unzip.register(UnzipInflate);
  const SLICE = 16 * 1024;
  try {
    for (let at = 0; at < bytes.length && !tooLarge && !broken; at += SLICE) {
      unzip.push(bytes.subarray(at, at + SLICE), at + SLICE >= bytes.length);
    }
  } catch {
    broken = true;
  }
  if (tooLarge) {
    throw new BookFormatError(
      `the ${kind} expands to more than ${(maxExpanded / MIB).toFixed(0)} MiB when unzipped; refusing it`,
    );
  }
  const names = Object.keys(parts);
  if (broken || names.length === 0) {
    throw new BookFormatError(`not a valid ${kind}: the file is not a readable zip archive`);
  }
  const files: Record<string, Uint8Array> = {};
  for (const name of names) {
    const out = new Uint8Array(parts[name].reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const chunk of parts[name]) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    files[name] = out;
  }
  return files;
}

// ---------------------------------------------------------------- EPUB

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", removeNSPrefix: true });

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function resolvePath(base: string, href: string): string {
  const parts = (base.includes("/") ? base.slice(0, base.lastIndexOf("/") + 1) : "").concat(href).split("/");
  const out: string[] = [];
  for (const part of parts) {
    if (part === "..") out.pop();
    else if (part !== "." && part !== "") out.push(part);
  }
  return decodeURIComponent(out.join("/"));
}

function fromEpub(files: Record<string, Uint8Array>): ExtractedBook {
  const read = (path: string) => {
    const file = files[path];
    if (!file) throw new BookFormatError(`not a valid EPUB: ${path} is missing`);
    return new TextDecoder().decode(file);
  };
  const container = xml.parse(read("META-INF/container.xml"));
  const opfPath: string | undefined = asArray(container?.container?.rootfiles?.rootfile)[0]?.["full-path"];
  if (!opfPath) throw new BookFormatError("not a valid EPUB: container.xml names no package document");
  const opf = xml.parse(read(opfPath))?.package;
  const manifest = new Map<string, { href: string; type: string; properties: string }>();
  for (const item of asArray(opf?.manifest?.item)) {
    manifest.set(item.id, {
      href: resolvePath(opfPath, item.href),
      type: item["media-type"] ?? "",
      properties: item.properties ?? "",
    });
  }
  // The reading order, without the items the publisher marked as not part of it (linear="no").
  const spine = asArray(opf?.spine?.itemref).filter((ref) => ref.linear !== "no")
    .map((ref) => manifest.get(ref.idref)?.href).filter((h): h is string => !!h && !!files[h]);
  if (spine.length === 0) {
    throw new BookFormatError("not a valid EPUB: the spine lists no readable documents");
  }
  const html = spine.map((path) => read(path));

  // The table of contents with its nesting: EPUB 3 nav document, else the EPUB 2 NCX.
  let entries: { title: string; href: string; depth: number }[] = [];
  let source: string | null = null;
  // A table of contents larger than any real book's is not read (a crafted file); headings then serve.
  const readable = (href: string) => files[href] !== undefined && files[href].length <= 5 * MIB;
  const nav = [...manifest.values()].find((m) => m.properties.split(/\s+/).includes("nav"));
  if (nav && readable(nav.href)) {
    const navHtml = read(nav.href);
    const tocNav = navHtml.match(/<nav\b[^>]*type\s*=\s*["']toc["'][^>]*>([\s\S]*?)<\/nav>/i)?.[1] ?? navHtml;
    let depth = -1;
    for (
      const m of tocNav.matchAll(
        // (A link's text is bounded: an unclosed <a> must not make the scan quadratic.)
        /<(\/?)ol\b[^>]*>|<a\b[^>]*href\s*=\s*["']([^"']+)["'][^>]*>([\s\S]{0,2000}?)<\/a>/gi,
      )
    ) {
      if (m[2] === undefined) depth += m[1] ? -1 : 1;
      else {entries.push({
          href: resolvePath(nav.href, m[2]),
          title: htmlToText(m[3]),
          depth: Math.max(0, depth),
        });}
    }
    source = "epub_nav";
  } else {
    const ncxId = opf?.spine?.toc;
    const ncx = ncxId
      ? manifest.get(ncxId)
      : [...manifest.values()].find((m) => m.type === "application/x-dtbncx+xml");
    if (ncx && readable(ncx.href)) {
      let depth = -1;
      // Only the navMap: a pageList's page numbers are not a table of contents.
      const ncxText = read(ncx.href);
      const navMap = ncxText.match(/<navMap\b[^>]*>([\s\S]*)<\/navMap>/i)?.[1] ?? ncxText;
      for (
        const m of navMap.matchAll(
          /<(\/?)navPoint\b[^>]*>|<text>([\s\S]{0,2000}?)<\/text>|<content\b[^>]*src\s*=\s*["']([^"']+)["']/gi,
        )
      ) {
        if (m[2] !== undefined) entries.push({ title: htmlToText(m[2]), href: "", depth });
        else if (m[3] !== undefined) {
          const last = entries.at(-1);
          if (last && last.href === "") last.href = resolvePath(ncx.href, m[3]);
        } else depth += m[1] ? -1 : 1;
      }
      entries = entries.filter((e) => e.href !== "");
      source = "epub_ncx";
    }
  }

  // Each entry starts at its document (and anchor) in reading order; the text is cut there.
  const marks = entries.map((entry) => {
    const [file, fragment] = entry.href.split("#");
    const doc = spine.indexOf(file);
    if (doc < 0 || entry.title === "") return null; // not in the reading order
    const at = fragment ? html[doc].search(new RegExp(`id\\s*=\\s*["']${escapeRegExp(fragment)}["']`)) : -1;
    return {
      title: entry.title,
      depth: entry.depth,
      doc,
      offset: at < 0 ? 0 : html[doc].lastIndexOf("<", at),
    };
  }).filter((m): m is { title: string; depth: number; doc: number; offset: number } => m !== null);
  const { text, at, startsDocument } = htmlWithMarks(
    html,
    marks,
    (documents) =>
      withoutDocumentFurniture(
        documents,
        html.map((_, d) => marks.filter((m) => m.doc === d).map((m) => m.title)),
      ),
  );
  const outline = marks.map((m, i) => ({
    title: m.title,
    depth: m.depth,
    start: at[i],
    startsDocument: startsDocument[i],
  }));
  return {
    format: "epub",
    text,
    outline: outline.length > 0 ? outline : null,
    outlineSource: outline.length > 0 ? source : null,
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

export function htmlToText(html: string): string {
  return normaliseText(
    html.replace(/<(head|script|style)\b[\s\S]*?<\/\1>/gi, "")
      .replace(/<br\s*\/?>/gi, "\n")
      .replace(/<\/(p|div|h[1-6]|li|tr|section|blockquote|title)>/gi, "\n\n")
      .replace(/<[^>]+>/g, "")
      .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, code: string) => {
        if (code[0] === "#") {
          const n = code[1].toLowerCase() === "x" ? parseInt(code.slice(2), 16) : parseInt(code.slice(1), 10);
          return Number.isFinite(n) ? String.fromCodePoint(n) : whole;
        }
        return ENTITIES[code.toLowerCase()] ?? whole;
      })
      .split("\n").map((line) => line.replace(/[ \t]+/g, " ").trim()).join("\n"),
  );
}

// ---------------------------------------------------------------- PDF

interface OutlineItem {
  title: string;
  dest: string | unknown[] | null;
  items: OutlineItem[];
}

async function fromPdf(bytes: Uint8Array, maxPages: number, inTime: () => void): Promise<ExtractedBook> {
  if (!startsWith(bytes, "%PDF-")) {
    throw new BookFormatError("not a valid PDF: the file does not start with %PDF");
  }
  // deno-lint-ignore no-explicit-any
  let pdf: any;
  try {
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === "PasswordException") {
      throw new BookFormatError("the PDF is encrypted with a password; upload an unprotected copy");
    }
    throw new BookFormatError(`not a valid PDF: ${(error as Error).message}`);
  }
  if (pdf.numPages > maxPages) {
    throw new BookFormatError(`the PDF has ${pdf.numPages} pages; the limit is ${maxPages}`);
  }
  const layout: PdfPage[] = [];
  for (let n = 1; n <= pdf.numPages; n++) {
    inTime();
    const page = await pdf.getPage(n);
    const content = await page.getTextContent();
    const lines = pageLines(content.items).map((line) => ({ ...line, text: repairMojibake(line.text) }));
    layout.push({ lines, height: page.view?.[3] ?? 792 });
  }
  if (layout.every((p) => p.lines.length === 0)) {
    throw new BookFormatError(
      "the PDF has no text layer (scanned pages?); text recognition is not supported",
    );
  }
  // Page furniture by its place on the page first, then running lines by their text.
  const kept = removePageFurniture(layout);
  const cleaned = pagesText(kept, stripRunningLines);
  const { text, starts } = joinPieces(cleaned.pages);
  const at = (page: number, line: number) => starts[page] + (cleaned.lineStart[page][line] ?? 0);

  // The outline with its nesting; each entry starts at its heading, where its destination points.
  const outline: OutlineItem[] = (await pdf.getOutline()) ?? [];
  const place = async (
    dest: OutlineItem["dest"],
    title: string,
  ): Promise<{ page: number; line: number } | null> => {
    try {
      const explicit = typeof dest === "string" ? await pdf.getDestination(dest) : dest;
      if (!Array.isArray(explicit) || !explicit[0]) return null;
      const page: number = await pdf.getPageIndex(explicit[0]);
      if (page >= kept.length) return null;
      return { page, line: headingLine(kept[page].lines, title, destinationPosition(explicit)) };
    } catch {
      return null;
    }
  };
  const placed: (PageHeading & { depth: number })[] = [];
  const visit = async (items: OutlineItem[], depth: number) => {
    for (const item of items) {
      const title = item.title.replace(/\s+/g, " ").trim();
      const where = title === "" ? null : await place(item.dest, title);
      if (where !== null) placed.push({ title, depth, ...where });
      if (item.items?.length) await visit(item.items, depth + 1);
    }
  };
  await visit(outline, 0);
  // Chapters the outline leaves out, found on the pages, become the level above its entries.
  const above = headingsAboveOutline(kept, placed);
  const entries: OutlineEntry[] = [
    ...above.map((h) => ({ title: h.title, depth: 0, start: at(h.page, h.line) })),
    ...placed.map((e) => ({
      title: e.title,
      depth: e.depth + (above.length > 0 ? 1 : 0),
      start: at(e.page, e.line),
    })),
  ];
  if (entries.length > 0) return { format: "pdf", text, outline: entries, outlineSource: "pdf_outline" };
  // Without an outline, headings by their type size.
  const headings = typographicHeadings(kept).map((h) => ({
    title: h.title,
    depth: h.depth,
    start: at(h.page, h.line),
  }));
  return {
    format: "pdf",
    text,
    outline: headings.length > 0 ? headings : null,
    outlineSource: headings.length > 0 ? "pdf_type_sizes" : null,
  };
}

export function stripRunningLines(pages: string[]): string[] {
  // Across pages: the first and last lines of pages that recur, page numbers and dates masked
  // ("Page 3 of 40", "debian-faq.txt  2026-01-02  7"), on at least three pages and a fifth of them.
  // In one continuous text: a short title-like line (no sentence punctuation) repeated at least
  // three times.
  // Page numbers are digits or lower-case roman numerals (front matter).
  const NUMBER_TOKEN = /\d+|\b[ivxlc]{1,7}\b/g;
  const mask = (line: string) => line.trim().replace(NUMBER_TOKEN, "#").replace(/\s+/g, " ");
  const numbersIn = (line: string) =>
    (line.match(NUMBER_TOKEN) ?? []).map((t) => /\d/.test(t) ? Number(t) : romanValue(t));
  if (pages.length >= 3) {
    const ends = (page: string) => {
      const lines = page.split("\n").map((l) => l.trim()).filter(Boolean);
      return new Set([...lines.slice(0, 2), ...lines.slice(-2)]);
    };
    // A line recurs as itself, or (masked) with a number that follows the page number: a page header.
    const exact = new Map<string, number>();
    const masked = new Map<string, { page: number; numbers: number[] }[]>();
    pages.forEach((page, index) => {
      for (const line of ends(page)) {
        exact.set(line, (exact.get(line) ?? 0) + 1);
        const seen = masked.get(mask(line)) ?? [];
        seen.push({ page: index, numbers: numbersIn(line) });
        masked.set(mask(line), seen);
      }
    });
    const enough = (n: number) => n >= 3 && n >= pages.length * 0.2;
    const running = new Set<string>();
    for (const [line, n] of exact) if (line.length <= 100 && enough(n)) running.add(mask(line));
    for (const [key, seen] of masked) {
      // (A number that follows the page is evidence enough: a few front-matter pages count too.)
      if (key.length > 100 || pages.length < 6 || seen.length < 3) continue;
      const slots = Math.min(...seen.map((s) => s.numbers.length));
      // The number moves with the page (piecewise: roman front matter, then arabic from 1).
      for (let k = 0; k < slots; k++) {
        const steady = seen.filter((s, j) =>
          j > 0 && s.numbers[k] - s.page === seen[j - 1].numbers[k] - seen[j - 1].page
        );
        if (steady.length >= (seen.length - 1) * 0.7) running.add(key);
      }
    }
    return pages.map((page) => {
      const lines = page.split("\n");
      const kept = lines.map((line, i) => {
        const t = line.trim();
        const nearEnd = lines.slice(0, i).filter((l) => l.trim()).length < 2 ||
          lines.slice(i + 1).filter((l) => l.trim()).length < 2;
        return (nearEnd && running.has(mask(t))) || isPageNumber(t) ? null : line;
      });
      return kept.filter((l): l is string => l !== null).join("\n");
    });
  }
  const counts = new Map<string, number>();
  const running = new Set<string>();
  for (const page of pages) {
    for (const line of page.split("\n").map((l) => l.trim())) {
      if (line.length > 0 && line.length <= 60 && !/[.,;:!?"”’)]$/.test(line)) {
        counts.set(line, (counts.get(line) ?? 0) + 1);
      }
    }
  }
  // Only lines that stand next to a page number: a play's speaker names or a section number that
  // recurs are not running heads.
  const text = pages[0] ?? "";
  const lines = text.split("\n").map((l) => l.trim());
  const nearPageNumber = new Set<string>();
  lines.forEach((line, i) => {
    if (lines.slice(Math.max(0, i - 2), i + 3).some((l) => l !== line && isPageNumber(l))) {
      nearPageNumber.add(line);
    }
  });
  for (const [line, n] of counts) {
    if (
      n >= 3 && !/^(chapter|part|book|volume|appendix)\b/i.test(line) &&
      nearPageNumber.has(line)
    ) running.add(line);
  }
  return pages.map((page) =>
    page.split("\n").filter((line) => !running.has(line.trim()) && !isPageNumber(line.trim())).join("\n")
  );
}

function romanValue(roman: string): number {
  const values: Record<string, number> = { i: 1, v: 5, x: 10, l: 50, c: 100 };
  let total = 0;
  for (let i = 0; i < roman.length; i++) {
    const v = values[roman[i]];
    total += v < (values[roman[i + 1]] ?? 0) ? -v : v;
  }
  return total;
}

function isPageNumber(line: string): boolean {
  return /^(page\s+)?\d{1,4}(\s+of\s+\d{1,4})?$/i.test(line) || /^[-–]\s*\d{1,4}\s*[-–]$/.test(line) ||
    /^[ivxlc]{1,6}$/.test(line);
}

// ---------------------------------------------------------------- DOCX

async function fromDocx(bytes: Uint8Array, maxExpanded: number): Promise<ExtractedBook> {
  const files = unzipLimited(bytes, "DOCX", maxExpanded);
  if (!files["word/document.xml"]) {
    throw new BookFormatError("not a valid DOCX: word/document.xml is missing");
  }
  let html: string;
  try {
    // mammoth unzips again: give it the files as counted above, stored uncompressed, never the original.
    const checked = zipSync(files, { level: 0 });
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(checked) })).value;
  } catch (error) {
    throw new BookFormatError(`not a valid DOCX: ${(error as Error).message}`);
  }
  const headings = [...html.matchAll(/<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1>/gi)]
    .map((m) => ({ level: Number(m[1]), title: htmlToText(m[2]), offset: m.index! }))
    .filter((m) => m.title !== "");
  const { text, at } = htmlWithMarks([html], headings.map((h) => ({ doc: 0, offset: h.offset })));
  if (headings.length === 0) return { format: "docx", text, outline: null, outlineSource: null };
  const top = Math.min(...headings.map((h) => h.level));
  return {
    format: "docx",
    text,
    outline: headings.map((h, i) => ({ title: h.title, depth: h.level - top, start: at[i] })),
    outlineSource: "docx_headings",
  };
}
