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

export class BookFormatError extends PermanentError {
  override name = "BookFormatError";
}

export type BookFormat = "txt" | "md" | "epub" | "pdf" | "docx";

export interface TocSection {
  title: string;
  content: string;
  partTitle?: string | null;
}

export interface ExtractedBook {
  format: BookFormat;
  /** The whole text, paragraphs separated by blank lines. */
  text: string;
  /** Sections from the format's own table of contents, when it has one. */
  toc: TocSection[] | null;
  tocSource: string | null;
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
      book = { format, text: normaliseText(decodeText(bytes)), toc: null, tocSource: null };
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

function normaliseText(text: string): string {
  return text.replace(/\r\n?/g, "\n").replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim();
}

// ---------------------------------------------------------------- Markdown

function fromMarkdown(source: string): ExtractedBook {
  const text = normaliseText(source);
  const headings = [...text.matchAll(/^(#{1,3})\s+(.+?)\s*#*$/gm)];
  const plain = (s: string) =>
    s.replace(/^#{1,6}\s+/gm, "").replace(/!\[[^\]]*\]\([^)]*\)/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/(\*\*|__|\*|_|`)/g, "");
  if (headings.length === 0) return { format: "md", text: plain(text), toc: null, tocSource: null };
  const marks = headings.map((m) => ({
    level: m[1].length,
    title: plain(m[2]).trim(),
    start: m.index!,
    end: m.index! + m[0].length,
  }));
  const toc = sectionsFromHeadings(marks, text, plain);
  return { format: "md", text: plain(text), toc, tocSource: "markdown_headings" };
}

interface HeadingMark {
  level: number;
  title: string;
  start: number;
  end: number;
}

/**
 * Chapters from headings: the shallowest level used at least twice is the chapter level; shallower
 * headings are parts. Text before the first chapter becomes "Front matter" when it has substance.
 */
function sectionsFromHeadings(
  marks: HeadingMark[],
  text: string,
  clean: (s: string) => string,
): TocSection[] {
  const counts = new Map<number, number>();
  for (const m of marks) counts.set(m.level, (counts.get(m.level) ?? 0) + 1);
  const levels = [...counts.keys()].sort((a, b) => a - b);
  const chapterLevel = levels.find((l) => counts.get(l)! >= 2) ?? levels[0];
  const sections: TocSection[] = [];
  let part: string | null = null;
  const front = clean(text.slice(0, marks[0].start)).trim();
  if (front.split(/\s+/).length >= 30) {
    sections.push({ title: "Front matter", content: front, partTitle: null });
  }
  for (const [i, mark] of marks.entries()) {
    const next = marks.slice(i + 1).find((m) => m.level <= chapterLevel);
    const body = clean(text.slice(mark.end, next ? next.start : text.length)).trim();
    if (mark.level < chapterLevel) {
      part = mark.title;
    } else if (mark.level === chapterLevel) {
      sections.push({ title: mark.title, content: body, partTitle: part });
    }
  }
  return sections;
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
  const spine = asArray(opf?.spine?.itemref).map((ref) => manifest.get(ref.idref)?.href).filter((
    h,
  ): h is string => !!h && !!files[h]);
  if (spine.length === 0) {
    throw new BookFormatError("not a valid EPUB: the spine lists no readable documents");
  }
  const html = spine.map((path) => read(path));

  // The table of contents: EPUB 3 nav document, else the EPUB 2 NCX.
  let entries: { title: string; href: string }[] = [];
  let tocSource: string | null = null;
  const nav = [...manifest.values()].find((m) => m.properties.split(/\s+/).includes("nav"));
  if (nav && files[nav.href]) {
    const navHtml = read(nav.href);
    const tocNav = navHtml.match(/<nav\b[^>]*type\s*=\s*["']toc["'][^>]*>([\s\S]*?)<\/nav>/i)?.[1] ?? navHtml;
    entries = [...tocNav.matchAll(/<a\b[^>]*href\s*=\s*["']([^"']+)["'][^>]*>([\s\S]*?)<\/a>/gi)]
      .map((m) => ({ href: resolvePath(nav.href, m[1]), title: htmlToText(m[2]) }));
    tocSource = "epub_nav";
  } else {
    const ncxId = opf?.spine?.toc;
    const ncx = ncxId
      ? manifest.get(ncxId)
      : [...manifest.values()].find((m) => m.type === "application/x-dtbncx+xml");
    if (ncx && files[ncx.href]) {
      entries = [
        ...read(ncx.href).matchAll(
          /<navPoint\b[\s\S]*?<text>([\s\S]*?)<\/text>[\s\S]*?<content\b[^>]*src\s*=\s*["']([^"']+)["']/gi,
        ),
      ].map((m) => ({ title: htmlToText(m[1]), href: resolvePath(ncx.href, m[2]) }));
      tocSource = "epub_ncx";
    }
  }

  // Each entry starts at its document (and anchor) in reading order and runs to the next entry.
  const starts = entries.map((entry) => {
    const [file, fragment] = entry.href.split("#");
    const doc = spine.indexOf(file);
    if (doc < 0) return null;
    const at = fragment ? html[doc].search(new RegExp(`id\\s*=\\s*["']${escapeRegExp(fragment)}["']`)) : -1;
    const offset = at < 0 ? 0 : html[doc].lastIndexOf("<", at);
    return { title: entry.title, doc, offset };
  }).filter((s): s is { title: string; doc: number; offset: number } => s !== null && s.title !== "")
    .sort((a, b) => a.doc - b.doc || a.offset - b.offset);
  const slice = (from: { doc: number; offset: number }, to: { doc: number; offset: number } | undefined) => {
    const parts: string[] = [];
    const lastDoc = to ? to.doc : html.length - 1;
    for (let d = from.doc; d <= lastDoc; d++) {
      const begin = d === from.doc ? from.offset : 0;
      const end = to && d === to.doc ? to.offset : html[d].length;
      if (end > begin) parts.push(html[d].slice(begin, end));
    }
    return htmlToText(parts.join("\n"));
  };
  const toc = starts.map((start, i) => ({
    title: start.title,
    content: slice(start, starts[i + 1]),
    partTitle: null,
  }))
    .filter((s) => s.content.trim() !== "");
  const text = html.map(htmlToText).join("\n\n");
  return {
    format: "epub",
    text,
    toc: toc.length > 0 ? toc : null,
    tocSource: toc.length > 0 ? tocSource : null,
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
  const pages: string[] = [];
  for (let n = 1; n <= pdf.numPages; n++) {
    inTime();
    const page = await pdf.getPage(n);
    const content = await page.getTextContent();
    let line = "";
    let lastY: number | null = null;
    const lines: string[] = [];
    for (const item of content.items as { str?: string; hasEOL?: boolean; transform?: number[] }[]) {
      if (item.str === undefined) continue;
      const y = item.transform?.[5] ?? null;
      if (lastY !== null && y !== null && Math.abs(y - lastY) > 1) {
        lines.push(line.trim());
        line = "";
      }
      line += item.str;
      lastY = y ?? lastY;
      if (item.hasEOL) {
        lines.push(line.trim());
        line = "";
        lastY = null;
      }
    }
    if (line.trim()) lines.push(line.trim());
    pages.push(lines.filter(Boolean).join("\n"));
  }
  if (pages.every((p) => p.trim() === "")) {
    throw new BookFormatError(
      "the PDF has no text layer (scanned pages?); text recognition is not supported",
    );
  }
  const cleanedPages = stripRunningLines(pages);
  const text = cleanedPages.join("\n\n");

  const outline: OutlineItem[] = (await pdf.getOutline()) ?? [];
  const pageOf = async (dest: OutlineItem["dest"]): Promise<number | null> => {
    try {
      const explicit = typeof dest === "string" ? await pdf.getDestination(dest) : dest;
      if (!Array.isArray(explicit) || !explicit[0]) return null;
      return await pdf.getPageIndex(explicit[0]);
    } catch {
      return null;
    }
  };
  const flat: { title: string; page: number; partTitle: string | null }[] = [];
  for (const item of outline) {
    if (item.items?.length) {
      for (const child of item.items) {
        const page = await pageOf(child.dest);
        if (page !== null) flat.push({ title: child.title.trim(), page, partTitle: item.title.trim() });
      }
    } else {
      const page = await pageOf(item.dest);
      if (page !== null) flat.push({ title: item.title.trim(), page, partTitle: null });
    }
  }
  flat.sort((a, b) => a.page - b.page);
  const toc = flat.map((entry, i) => {
    const end = flat[i + 1] ? Math.max(flat[i + 1].page, entry.page + 1) : cleanedPages.length;
    return {
      title: entry.title,
      partTitle: entry.partTitle,
      content: cleanedPages.slice(entry.page, end).join("\n\n").trim(),
    };
  }).filter((s) => s.content !== "");
  return {
    format: "pdf",
    text,
    toc: toc.length > 0 ? toc : null,
    tocSource: toc.length > 0 ? "pdf_outline" : null,
  };
}

/** Drops page numbers and running headers or footers (a short line repeated on most pages). */
export function stripRunningLines(pages: string[]): string[] {
  // Across pages: a short line on most of them. In one continuous text: a short title-like line
  // (no sentence punctuation) repeated at least three times.
  const running = new Set<string>();
  const counts = new Map<string, number>();
  if (pages.length >= 3) {
    for (const page of pages) {
      for (const line of new Set(page.split("\n").map((l) => l.trim()).filter(Boolean))) {
        if (line.length <= 60) counts.set(line, (counts.get(line) ?? 0) + 1);
      }
    }
    for (const [line, n] of counts) if (n >= pages.length * 0.5) running.add(line);
  } else if (pages.length === 1) {
    for (const line of pages[0].split("\n").map((l) => l.trim())) {
      if (line.length > 0 && line.length <= 60 && !/[.,;:!?"”’)]$/.test(line)) {
        counts.set(line, (counts.get(line) ?? 0) + 1);
      }
    }
    for (const [line, n] of counts) if (n >= 3 && !/^(chapter|part|book)\b/i.test(line)) running.add(line);
  }
  return pages.map((page) =>
    page.split("\n").filter((line) => {
      const t = line.trim();
      return !running.has(t) && !/^(page\s+)?\d{1,4}(\s+of\s+\d{1,4})?$/i.test(t) &&
        !/^[-–]\s*\d{1,4}\s*[-–]$/.test(t);
    }).join("\n")
  );
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
  const text = htmlToText(html);
  const marks = [...html.matchAll(/<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1>/gi)].map((m) => ({
    level: Number(m[1]),
    title: htmlToText(m[2]),
    start: m.index!,
    end: m.index! + m[0].length,
  })).filter((m) => m.title !== "");
  if (marks.length === 0) return { format: "docx", text, toc: null, tocSource: null };
  const toc = sectionsFromHeadings(marks, html, htmlToText).filter((s) => s.content !== "");
  return {
    format: "docx",
    text,
    toc: toc.length > 0 ? toc : null,
    tocSource: toc.length > 0 ? "docx_headings" : null,
  };
}
