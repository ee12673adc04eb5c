/**
 * Reads an uploaded book into text plus, where the format has one, its own table of contents:
 * plain text (UTF-8 or Latin-1), Markdown, EPUB (spine, nav or NCX), PDF (text layer, outline)
 * and DOCX (headings). Anything unreadable raises a BookFormatError with a message for the user.
 */
import { getDocumentProxy } from "unpdf";
import { TextBudget, tooMuchText } from "./book_text.ts";
import { type DocxText, readDocx } from "./docx.ts";
import { type EpubText, readEpub } from "./epub.ts";
import { checkPdfStreams } from "./pdf_streams.ts";
import { BookFormatError, DEFAULT_LIMITS, type ExtractLimits, mib } from "./limits.ts";
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

export { BookFormatError, DEFAULT_LIMITS, type ExtractLimits };

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

/**
 * Reads a book within `limits` (defaults in limits.ts): whatever the file holds, what reading it
 * keeps in memory is bounded by them, and anything refused or unreadable is a BookFormatError whose
 * message says what is wrong and what to do, never a parser's own words.
 */
export async function extractBook(
  fileName: string,
  upload: Uint8Array | { file: string },
  overrides: Partial<ExtractLimits> = {},
): Promise<ExtractedBook> {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  const size = upload instanceof Uint8Array ? upload.length : (await Deno.stat(upload.file)).size;
  if (size === 0) throw new BookFormatError("the file is empty");
  if (size > limits.maxFileBytes) {
    throw new BookFormatError(
      `the file is ${mib(size)}; the limit is ${mib(limits.maxFileBytes)}: split the book into ` +
        "volumes, or save it without its pictures",
    );
  }
  const format = detectFormat(fileName, upload instanceof Uint8Array ? upload : await head(upload.file));
  const name = format.toUpperCase();
  const deadline = performance.now() + limits.maxExtractMs;
  const inTime = () => {
    if (performance.now() > deadline) {
      throw new BookFormatError(
        `reading the ${name} took longer than ${limits.maxExtractMs / 1000} s; refusing it (save it again ` +
          "from the program that made it, or upload it in another format)",
      );
    }
  };
  let book: ExtractedBook;
  try {
    // An EPUB or DOCX in a file is read from there, entry by entry; other formats are read whole.
    const source = upload instanceof Uint8Array || format === "epub" || format === "docx"
      ? upload
      : await Deno.readFile(upload.file);
    book = await readFormat(format, source, limits, inTime);
  } catch (error) {
    if (error instanceof BookFormatError) throw error;
    // A reader's own failure (a parser's message, a stack or string too large) means nothing to the user.
    throw new BookFormatError(
      `the ${name} file could not be read; it may be damaged: save it again from the program that made ` +
        "it and upload the new copy, or upload the book in another format (PDF, EPUB or plain text)",
      { cause: error },
    );
  }
  if (book.text.trim() === "") throw new BookFormatError(`the ${name} file contains no text`);
  checkLines(book.text, limits);
  return book;
}

/** The first bytes of a file, enough to tell its format. */
async function head(file: string): Promise<Uint8Array> {
  using handle = await Deno.open(file);
  const bytes = new Uint8Array(512);
  const read = await handle.read(bytes);
  return bytes.subarray(0, read ?? 0);
}

async function readFormat(
  format: BookFormat,
  source: Uint8Array | { file: string },
  limits: ExtractLimits,
  inTime: () => void,
): Promise<ExtractedBook> {
  if (format === "epub" || format === "docx") {
    return format === "epub"
      ? fromEpub(await readEpub(source, limits), inTime)
      : fromDocx(await readDocx(source, limits), inTime);
  }
  const bytes = source as Uint8Array;
  switch (format) {
    case "txt":
      return { format, text: normaliseText(decodeText(bytes, limits)), outline: null, outlineSource: null };
    case "md":
      return fromMarkdown(decodeText(bytes, limits));
    case "pdf":
      return await fromPdf(bytes, limits, inTime);
  }
}

function fromEpub({ text, outline, outlineSource }: EpubText, inTime: () => void): ExtractedBook {
  inTime();
  return { format: "epub", text, outline: outline.length > 0 ? outline : null, outlineSource };
}

function fromDocx({ text, headings }: DocxText, inTime: () => void): ExtractedBook {
  inTime();
  if (headings.length === 0) return { format: "docx", text, outline: null, outlineSource: null };
  const top = Math.min(...headings.map((h) => h.level));
  return {
    format: "docx",
    text,
    outline: headings.map((h) => ({ title: h.title, depth: h.level - top, start: h.start })),
    outlineSource: "docx_headings",
  };
}

/** Refuses a text of more lines than the limit (each line costs the structure detection a string). */
function checkLines(text: string, limits: ExtractLimits) {
  let lines = 1;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) lines++;
  new TextBudget(limits).add(0, lines);
}

/** Text is decoded in slices this size, so a file larger than the text limit is refused before it is whole. */
const DECODE_SLICE = 1024 * 1024;

/** UTF-8 when it decodes cleanly, else Latin-1; refuses binary data dressed as text. */
export function decodeText(
  bytes: Uint8Array,
  limits: Pick<ExtractLimits, "maxTextChars"> = DEFAULT_LIMITS,
): string {
  const sample = bytes.subarray(0, 65536);
  let control = 0;
  for (const b of sample) if (b === 0 || (b < 32 && b !== 9 && b !== 10 && b !== 12 && b !== 13)) control++;
  if (control > sample.length * 0.01) {
    throw new BookFormatError("the file looks binary, not text: upload TXT, Markdown, EPUB, PDF or DOCX");
  }
  const decode = (encoding: "utf-8" | "latin1") => {
    const decoder = new TextDecoder(encoding, { fatal: true });
    const slices: string[] = [];
    let chars = 0;
    for (let at = 0; at < bytes.length; at += DECODE_SLICE) {
      const slice = decoder.decode(bytes.subarray(at, at + DECODE_SLICE), { stream: true });
      chars += slice.length;
      if (chars > limits.maxTextChars) throw tooMuchText(limits);
      slices.push(slice);
    }
    slices.push(decoder.decode());
    return slices.join("");
  };
  let text: string;
  try {
    text = decode("utf-8");
  } catch (error) {
    if (error instanceof BookFormatError) throw error;
    text = decode("latin1");
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

// ---------------------------------------------------------------- PDF

interface OutlineItem {
  title: string;
  dest: string | unknown[] | null;
  items: OutlineItem[];
}

async function fromPdf(bytes: Uint8Array, limits: ExtractLimits, inTime: () => void): Promise<ExtractedBook> {
  if (!startsWith(bytes, "%PDF-")) {
    throw new BookFormatError("not a valid PDF: the file does not start with %PDF");
  }
  checkPdfStreams(bytes, limits);
  // deno-lint-ignore no-explicit-any
  let pdf: any;
  try {
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === "PasswordException") {
      throw new BookFormatError("the PDF is encrypted with a password; upload an unprotected copy");
    }
    throw new BookFormatError(
      "not a valid PDF: the file is damaged or is not a PDF; save or export it again and upload the new copy",
      { cause: error },
    );
  }
  try {
    return await pdfText(pdf, limits, inTime);
  } finally {
    await pdf.destroy();
  }
}

// deno-lint-ignore no-explicit-any
async function pdfText(pdf: any, limits: ExtractLimits, inTime: () => void): Promise<ExtractedBook> {
  if (pdf.numPages > limits.maxPdfPages) {
    throw new BookFormatError(
      `the PDF has ${pdf.numPages} pages; the limit is ${limits.maxPdfPages}: split it into volumes`,
    );
  }
  const budget = new TextBudget(limits);
  const layout: PdfPage[] = [];
  for (let n = 1; n <= pdf.numPages; n++) {
    inTime();
    const page = await pdf.getPage(n);
    const content = await page.getTextContent();
    const lines = pageLines(content.items).map((line) => ({ ...line, text: repairMojibake(line.text) }));
    const height: number = page.view?.[3] ?? 792;
    page.cleanup(); // the page's fonts and parsed content are not needed again
    budget.add(lines.reduce((sum, line) => sum + line.text.length + 1, 1), lines.length + 1);
    layout.push({ lines, height });
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
      const title = item.title.replace(/\s+/g, " ").trim().slice(0, 500);
      budget.add(title.length, 0);
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
