/**
 * EPUB: the spine's documents in reading order, the nav document (EPUB 3) or NCX (EPUB 2) as the
 * outline. Every part is parsed as it inflates by a forgiving streaming HTML/XML parser (publishers'
 * XHTML is not always well-formed), in three passes over the archive: the package document, then the
 * table of contents, then the documents, each kept only as its text. Images, fonts and styles are
 * never inflated.
 */
import { Parser } from "htmlparser2";
import { BookText, MarkupBudget, TextBudget, tooMuchText } from "./book_text.ts";
import { withoutDocumentFurniture } from "./document_furniture.ts";
import { BookFormatError, type ExtractLimits } from "./limits.ts";
import { type ArchiveSource, type EntrySink, ZipArchive } from "./zip.ts";

export interface EpubText {
  text: string;
  outline: { title: string; depth: number; start: number; startsDocument: boolean }[];
  outlineSource: "epub_nav" | "epub_ncx" | null;
}

const CONTAINER = "META-INF/container.xml";
/** Elements whose end ends a paragraph. */
const BLOCKS = new Set([
  "p",
  "div",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "li",
  "tr",
  "section",
  "blockquote",
  "title",
]);
/** Elements whose content is not text of the book. */
const HIDDEN = new Set(["head", "script", "style"]);
/** A longer title in a table of contents is cut here. */
const MAX_TITLE = 500;

interface TocEntry {
  title: string;
  href: string;
  depth: number;
}

export async function readEpub(source: ArchiveSource, limits: ExtractLimits): Promise<EpubText> {
  const zip = new ZipArchive(source, "EPUB", limits);
  const markup = new MarkupBudget("EPUB", limits);
  const budget = new TextBudget(limits);

  // 1. The container and the package documents it may name.
  let opfPath: string | null = null;
  const packages = new Map<string, PackageDocument>();
  const names = await zip.read((name) => {
    if (name === CONTAINER) {
      return markupSink(name, markup, true, {
        open(tag, attributes) {
          if (tag === "rootfile" && opfPath === null) opfPath = attributes["full-path"] ?? null;
        },
      });
    }
    if (!/\.opf$/i.test(name)) return null;
    const opf = new PackageDocument(name);
    packages.set(name, opf);
    return markupSink(name, markup, true, opf);
  });
  if (!names.includes(CONTAINER)) throw new BookFormatError(`not a valid EPUB: ${CONTAINER} is missing`);
  if (!opfPath) throw new BookFormatError("not a valid EPUB: container.xml names no package document");
  const opf = packages.get(opfPath);
  if (!opf) throw new BookFormatError(`not a valid EPUB: ${opfPath} is missing`);
  const present = new Set(names);
  const spine = opf.readingOrder().filter((path) => present.has(path));
  if (spine.length === 0) {
    throw new BookFormatError("not a valid EPUB: the spine lists no readable documents");
  }

  // 2. The table of contents with its nesting: the nav document, else the NCX.
  const toc = opf.tableOfContents();
  let entries: TocEntry[] = [];
  if (toc && present.has(toc.path)) {
    const reader = toc.kind === "nav" ? new NavReader(toc.path, budget) : new NcxReader(toc.path, budget);
    await zip.read((name) => name === toc.path ? markupSink(name, markup, toc.kind === "ncx", reader) : null);
    entries = reader.entries();
  }

  // 3. The documents in reading order, each cut where a table of contents entry points into it.
  const wanted = new Map<string, Set<string>>();
  for (const entry of entries) {
    const [file, fragment] = entry.href.split("#");
    if (fragment) wanted.set(file, (wanted.get(file) ?? new Set()).add(fragment));
  }
  const documents = new Map<string, DocumentText>();
  const inSpine = new Set(spine);
  await zip.read((name) => {
    if (!inSpine.has(name)) return null;
    const document = new DocumentText(name, wanted.get(name) ?? new Set(), budget);
    documents.set(name, document);
    return markupSink(name, markup, false, document);
  });

  // Each document cut into its pieces (where entries point into it), without the furniture its
  // generator set at the ends of every document (a site header, a previous/next bar); the entries
  // of a document name what its lines may mention as its own.
  const titlesOf = new Map<string, string[]>();
  for (const entry of entries) {
    const file = entry.href.split("#")[0];
    if (entry.title !== "") titlesOf.set(file, [...(titlesOf.get(file) ?? []), entry.title]);
  }
  const pieces = spine.map((path) => documents.get(path)?.pieces() ?? { cuts: [0], texts: [""] });
  const cleaned = withoutDocumentFurniture(
    pieces.map((p) => p.texts),
    spine.map((path) => titlesOf.get(path) ?? []),
  );

  // The documents joined (as pieces are: a blank line between), the entries placed in the text.
  const texts: string[] = [];
  const startOf = new Map<string, { at: number; pieceStarts: number[]; cuts: number[]; texts: string[] }>();
  let length = 0;
  spine.forEach((path, d) => {
    const joined = joinPieces(cleaned[d]);
    const separator = length > 0 && joined.text !== "" ? 2 : 0;
    if (!startOf.has(path)) {
      startOf.set(path, {
        at: length + separator,
        pieceStarts: joined.starts,
        cuts: pieces[d].cuts,
        texts: cleaned[d],
      });
    }
    length += separator + joined.text.length;
    if (length > limits.maxTextChars) throw tooMuchText(limits); // a document repeated in the spine
    texts.push(separator ? `\n\n${joined.text}` : joined.text);
  });
  const outline = entries.flatMap((entry) => {
    const [file, fragment] = entry.href.split("#");
    const placed = startOf.get(file);
    if (placed === undefined || entry.title === "") return []; // not in the reading order
    // The piece the entry starts (a document's start is its first piece).
    const piece = Math.max(0, placed.cuts.lastIndexOf(documents.get(file)!.startOf(fragment)));
    return [{
      title: entry.title,
      depth: entry.depth,
      start: placed.at + placed.pieceStarts[piece],
      // No words of its document before it (once the furniture is out).
      startsDocument: placed.texts.slice(0, piece).every((text) => !/[\p{L}\p{N}]/u.test(text)),
    }];
  });
  return {
    text: texts.join(""),
    outline,
    outlineSource: outline.length > 0 ? (toc!.kind === "nav" ? "epub_nav" : "epub_ncx") : null,
  };
}

/** Joins pieces with a blank line between those with text; returns where each piece starts. */
function joinPieces(pieces: string[]): { text: string; starts: number[] } {
  const starts: number[] = [];
  const parts: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    const trimmed = piece.trim();
    if (length > 0 && trimmed !== "") {
      parts.push("\n\n");
      length += 2;
    }
    starts.push(length);
    parts.push(trimmed);
    length += trimmed.length;
  }
  return { text: parts.join(""), starts };
}

interface MarkupHandlers {
  open(name: string, attributes: Record<string, string>): void;
  text?(text: string): void;
  close?(name: string): void;
}

/** Local names: "opf:item" is "item", "xml:lang" is "lang". */
function local(name: string): string {
  return name.slice(name.indexOf(":") + 1);
}

/** A sink that parses an entry as it inflates, counting its elements and their nesting. */
function markupSink(
  part: string,
  markup: MarkupBudget,
  xmlMode: boolean,
  handlers: MarkupHandlers,
): EntrySink {
  const decoder = new TextDecoder();
  const run = markup.runs(part);
  let depth = 0;
  const parser = new Parser({
    onopentag(name, attributes) {
      markup.open(part, ++depth);
      const plain: Record<string, string> = {};
      for (const [key, value] of Object.entries(attributes)) plain[local(key)] = value;
      handlers.open(local(name), plain);
    },
    ontext(text) {
      handlers.text?.(text);
    },
    onclosetag(name) {
      depth--;
      handlers.close?.(local(name));
    },
    // Without a handler the parser keeps every chunk since the last text or tag: comments without end
    // would pile up.
    oncomment() {},
  }, { xmlMode, decodeEntities: true, lowerCaseTags: !xmlMode, recognizeSelfClosing: true });
  return {
    data(chunk) {
      const text = decoder.decode(chunk, { stream: true });
      run(text);
      parser.write(text);
    },
    end() {
      const text = decoder.decode();
      run(text);
      parser.write(text);
      parser.end();
    },
  };
}

function resolvePath(base: string, href: string): string {
  const parts = (base.includes("/") ? base.slice(0, base.lastIndexOf("/") + 1) : "").concat(href).split("/");
  const out: string[] = [];
  for (const part of parts) {
    if (part === "..") out.pop();
    else if (part !== "." && part !== "") out.push(part);
  }
  const path = out.join("/");
  try {
    return decodeURIComponent(path);
  } catch {
    return path; // a stray "%" is part of the name
  }
}

/** The package document (OPF): its manifest, its spine and where its table of contents is. */
class PackageDocument implements MarkupHandlers {
  private readonly manifest = new Map<string, { href: string; type: string; properties: string }>();
  private readonly spine: { idref: string; linear: string }[] = [];
  private spineToc: string | null = null;
  private where = "";

  constructor(private readonly path: string) {}

  open(name: string, attributes: Record<string, string>) {
    if (name === "manifest" || name === "spine") this.where = name;
    if (name === "spine") this.spineToc = attributes.toc ?? null;
    if (name === "item" && this.where === "manifest" && attributes.id && attributes.href) {
      this.manifest.set(attributes.id, {
        href: resolvePath(this.path, attributes.href),
        type: attributes["media-type"] ?? "",
        properties: attributes.properties ?? "",
      });
    }
    if (name === "itemref" && this.where === "spine" && attributes.idref) {
      this.spine.push({ idref: attributes.idref, linear: attributes.linear ?? "" });
    }
  }

  close(name: string) {
    if (name === this.where) this.where = "";
  }

  /** The reading order, without the items the publisher marked as not part of it (linear="no"). */
  readingOrder(): string[] {
    return this.spine.filter((ref) => ref.linear !== "no").map((ref) => this.manifest.get(ref.idref)?.href)
      .filter((href): href is string => !!href);
  }

  tableOfContents(): { path: string; kind: "nav" | "ncx" } | null {
    const items = [...this.manifest.values()];
    const nav = items.find((item) => item.properties.split(/\s+/).includes("nav"));
    if (nav) return { path: nav.href, kind: "nav" };
    const ncx = (this.spineToc ? this.manifest.get(this.spineToc) : undefined) ??
      items.find((item) => item.type === "application/x-dtbncx+xml");
    return ncx ? { path: ncx.href, kind: "ncx" } : null;
  }
}

/** Titles of a table of contents, their length counted with the book's text. */
class TitleCollector {
  private parts: string[] = [];
  private chars = 0;

  constructor(private readonly budget: TextBudget) {}

  add(text: string) {
    if (this.chars >= MAX_TITLE) return;
    this.parts.push(text);
    this.chars += text.length;
  }

  take(): string {
    const title = this.parts.join("").replace(/\s+/g, " ").trim().slice(0, MAX_TITLE);
    this.parts = [];
    this.chars = 0;
    this.budget.add(title.length, 0);
    return title;
  }
}

/** EPUB 3 nav document: the links of its toc nav (or of the whole document without one), by <ol> depth. */
class NavReader implements MarkupHandlers {
  private readonly inToc: TocEntry[] = [];
  private readonly anywhere: TocEntry[] = [];
  private readonly title: TitleCollector;
  private depth = -1;
  private tocNavDepth = 0; // open elements inside the first toc nav (0: outside it)
  private tocNavSeen = false;
  private link: string | null = null;

  constructor(private readonly path: string, budget: TextBudget) {
    this.title = new TitleCollector(budget);
  }

  open(name: string, attributes: Record<string, string>) {
    if (this.tocNavDepth > 0) this.tocNavDepth++;
    else if (name === "nav" && attributes.type === "toc" && !this.tocNavSeen) {
      this.tocNavDepth = 1;
      this.tocNavSeen = true;
    }
    if (name === "ol") this.depth++;
    if (name === "a" && attributes.href) this.link = attributes.href;
  }

  text(text: string) {
    if (this.link !== null) this.title.add(text);
  }

  close(name: string) {
    if (name === "ol") this.depth--;
    if (name === "a" && this.link !== null) {
      const entry = {
        href: resolvePath(this.path, this.link),
        title: this.title.take(),
        depth: Math.max(0, this.depth),
      };
      this.anywhere.push(entry);
      if (this.tocNavDepth > 0) this.inToc.push(entry);
      this.link = null;
    }
    if (this.tocNavDepth > 0) this.tocNavDepth--;
  }

  entries(): TocEntry[] {
    return this.tocNavSeen ? this.inToc : this.anywhere;
  }
}

/** EPUB 2 NCX: the navMap's navPoints (not a pageList's page numbers), by nesting. */
class NcxReader implements MarkupHandlers {
  private readonly found: TocEntry[] = [];
  private readonly title: TitleCollector;
  private depth = -1;
  private inNavMap = false;
  private inText = false;

  constructor(private readonly path: string, budget: TextBudget) {
    this.title = new TitleCollector(budget);
  }

  open(name: string, attributes: Record<string, string>) {
    if (name === "navMap") this.inNavMap = true;
    if (!this.inNavMap) return;
    if (name === "navPoint") this.depth++;
    if (name === "text") this.inText = true;
    const last = this.found.at(-1);
    if (name === "content" && attributes.src && last && last.href === "") {
      last.href = resolvePath(this.path, attributes.src);
    }
  }

  text(text: string) {
    if (this.inText) this.title.add(text);
  }

  close(name: string) {
    if (name === "navMap") this.inNavMap = false;
    if (!this.inNavMap) return;
    if (name === "navPoint") this.depth--;
    if (name === "text" && this.inText) {
      this.found.push({ title: this.title.take(), href: "", depth: this.depth });
      this.inText = false;
    }
  }

  entries(): TocEntry[] {
    return this.found.filter((entry) => entry.href !== "");
  }
}

/** One XHTML document as text, cut into pieces where the wanted fragments' elements start. */
class DocumentText implements MarkupHandlers {
  private readonly out: BookText;
  private readonly pieceOf = new Map<string, number>();
  private hiddenDepth = 0;
  private content_: string | null = null;

  constructor(readonly path: string, private readonly fragments: Set<string>, budget: TextBudget) {
    this.out = new BookText(budget);
  }

  open(name: string, attributes: Record<string, string>) {
    if (this.hiddenDepth > 0 || HIDDEN.has(name)) {
      this.hiddenDepth++;
      return;
    }
    const id = attributes.id;
    if (id !== undefined && this.fragments.has(id) && !this.pieceOf.has(id)) {
      this.pieceOf.set(id, this.out.startPiece());
    }
    if (name === "br") this.out.write("\n");
  }

  text(text: string) {
    if (this.hiddenDepth === 0) this.out.write(text);
  }

  close(name: string) {
    if (this.hiddenDepth > 0) this.hiddenDepth--;
    else if (BLOCKS.has(name)) this.out.paragraph();
  }

  /** The document's text (once it has been read). */
  content(): string {
    this.content_ ??= this.out.text();
    return this.content_;
  }

  /**
   * The document's text cut where its pieces start: `cuts[i]` is where `texts[i]` starts (the first
   * at 0; pieces that start at one place are one).
   */
  pieces(): { cuts: number[]; texts: string[] } {
    const text = this.content();
    const cuts = [0];
    for (
      const start of [...this.pieceOf.values()].map((piece) => this.out.startOf(piece)).sort((a, b) => a - b)
    ) {
      if (start > cuts.at(-1)!) cuts.push(start);
    }
    return { cuts, texts: cuts.map((at, i) => text.slice(at, cuts[i + 1] ?? text.length)) };
  }

  /** Where a fragment's piece starts in this document's text; its start when there is none. */
  startOf(fragment: string | undefined): number {
    const piece = fragment === undefined ? undefined : this.pieceOf.get(fragment);
    return piece === undefined ? 0 : this.out.startOf(piece);
  }
}
