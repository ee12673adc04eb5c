/**
 * Chapters of a book, found in this order: the format's own table of contents; heading patterns
 * in the text (Chapter N, Chapter One, roman numerals, Part/Book, Prologue, Epilogue, Interlude);
 * last, fixed parts of about 3,000 words.
 */
import { BookFormatError, type ExtractedBook, stripRunningLines } from "./extract.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { paragraphsOf, wordCount } from "../providers/text/text_utils.ts";

export interface DetectedChapter {
  title: string;
  partTitle: string | null;
  content: string;
}

export interface DetectedStructure {
  /** books.structure_type: chapters in one level, parts (or volumes) of chapters, or no markers at all. */
  structureType: "chapters" | "mixed" | "linear";
  extractionMethod: "toc" | "ai";
  detector: string;
  chapters: DetectedChapter[];
  /** Front and back matter (title page, contents, copyright, index): not chapters unless confirmed. */
  matter: { title: string; words: number; content: string }[];
}

export const MAX_CHAPTERS = 1000;
const PART_WORDS = 3000;

const NUMBER_WORDS = [
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
  "twenty",
  "thirty",
  "forty",
  "fifty",
  "sixty",
  "seventy",
  "eighty",
  "ninety",
  "hundred",
  "first",
  "second",
  "third",
  "fourth",
  "fifth",
  "sixth",
  "seventh",
  "eighth",
  "ninth",
  "tenth",
  "last",
  "final",
];
const NUMBER = `(?:\\d{1,4}|[ivxlcdm]{1,8}|(?:${NUMBER_WORDS.join("|")})(?:[- ](?:${
  NUMBER_WORDS.join("|")
}))?)`;
const CHAPTER_RE = new RegExp(`^(?:chapter|chap\\.)\\s+${NUMBER}\\b\\.?(?:\\s*[:.—–-]\\s*|\\s+)?(.*)$`, "i");
const PART_RE = new RegExp(`^(?:part|book|volume)\\s+${NUMBER}\\b\\.?(?:\\s*[:.—–-]\\s*|\\s+)?(.*)$`, "i");
const SPECIAL_RE =
  /^(?:prologue|epilogue|interlude|introduction|preface|foreword|afterword|appendix(?:\s+[a-z\d]{1,3}\b)?)\b\.?(?:\s*[:.—–-]\s*|\s+)?(.*)$/i;
const ROMAN_ONLY_RE = /^[IVXLC]{1,7}\.?$/;

type LineKind = "chapter" | "part" | "roman" | null;

function headingKind(line: string): LineKind {
  if (line.length > 70 || /[,;]$/.test(line)) return null;
  // The rest of a heading is a short title, never the rest of a sentence ("Chapter 7, Basics of ...").
  const rest = (m: RegExpMatchArray | null) =>
    m !== null && wordCount(m[1] ?? "") <= 10 && !/^[,;)]/.test(m[1] ?? "");
  if (rest(line.match(CHAPTER_RE)) || rest(line.match(SPECIAL_RE))) return "chapter";
  if (rest(line.match(PART_RE))) return "part";
  if (ROMAN_ONLY_RE.test(line)) return "roman";
  return null;
}

/** A short line that reads like a title (no sentence punctuation at the end). */
function isTitleLine(line: string): boolean {
  return line.length > 0 && line.length <= 60 && !/[.,;:!?"”]$/.test(line) && headingKind(line) === null &&
    /[\p{L}\p{N}]/u.test(line) &&
    !/^\d+(?:\.\d+)*\.?\s/.test(line) && !MATTER_RE.test(line);
}

export function detectStructure(
  book: ExtractedBook,
  maxChapterChars = DEFAULT_LIMITS.maxChapterChars,
): DetectedStructure {
  const fromText = () => {
    // Only when the format's own outline gives nothing: a copy of the whole text without running lines.
    const [clean] = stripRunningLines([book.text]);
    return fromOutline(clean, textHeadings(clean), "chapter_headings", "ai") ?? byFixedParts(clean);
  };
  const structure =
    (book.outline && fromOutline(book.text, book.outline, book.outlineSource ?? "outline", "toc")) ??
      fromText();
  structure.chapters = structure.chapters.flatMap((chapter) => splitLongChapter(chapter, maxChapterChars));
  if (structure.chapters.length > MAX_CHAPTERS) {
    throw new BookFormatError(
      `the book has ${structure.chapters.length} chapters; at most ${MAX_CHAPTERS} are supported`,
    );
  }
  return structure;
}

/** Front and back matter: recorded in book_structure, never made into chapters. */
const MATTER_RE =
  /^(?:(?:table of )?contents|index|general index|copyright|copyright notice|title page|list of (?:figures|tables|examples)|colophon|abstract|legal notice|dedication|start|endnotes|metadata)$/i;
const PART_TITLE_RE = /^(?:part|volume|book)\s+(?:[\divxlc]+|[a-z]+)\b/i;

function cleanTitle(title: string): string {
  return title.replace(/[¶#]+\s*$/u, "").replace(/\s+/g, " ").trim();
}

interface Entry {
  title: string;
  depth: number;
  start: number;
  startsDocument?: boolean;
}

/**
 * Chapters from a table of contents (the file's own, or headings found in the text): the level whose
 * entries look like chapters, the level above kept as parts when its entries look like parts, each
 * chapter cut from its entry's position to the next entry at its level or above. Contents pages,
 * title pages and an index are recorded as matter, as is the text before the first chapter.
 */
function fromOutline(
  text: string,
  outline: Entry[],
  detector: string,
  method: "toc" | "ai",
): DetectedStructure | null {
  // In reading order; of entries at (nearly) the same place, the one with the shallowest level and
  // the shortest title (a contents link and the heading it points at).
  const sorted = outline.map((e) => ({ ...e, title: cleanTitle(e.title) })).filter((e) => e.title !== "")
    .sort((a, b) => a.start - b.start || a.depth - b.depth);
  const entries: Entry[] = [];
  for (const entry of sorted) {
    const last = entries.at(-1);
    if (last && entry.start - last.start <= 3 && wordCount(text.slice(last.start, entry.start)) === 0) {
      if (
        entry.depth < last.depth || (entry.depth === last.depth && entry.title.length < last.title.length)
      ) {
        entries[entries.length - 1] = entry;
      }
      continue;
    }
    entries.push(entry);
  }
  // A contents page's links come again as the headings they point at: an entry whose own section is
  // a few words, and whose title (numbering aside) stands again later at its level over a section at
  // least five times as long, is a contents line.
  // (Chapters that share a title, such as a point-of-view character's, each have their text.)
  const bare = (t: string) =>
    t.toLowerCase().replace(/^(?:(?:chapter|appendix|part)\s+)?(?:\d+(?:\.\d+)*|[ivxlc]+)\b[.:]?\s+/i, "")
      .trim();
  // Each entry's section: up to the next entry at its level or above.
  const sectionEnd = new Array<number>(entries.length).fill(text.length);
  const stack: number[] = [];
  entries.forEach((entry, i) => {
    while (stack.length > 0 && entries[stack.at(-1)!].depth >= entry.depth) {
      sectionEnd[stack.pop()!] = entry.start;
    }
    stack.push(i);
  });
  const sectionWords = entries.map((e, i) => wordCount(text.slice(e.start, sectionEnd[i])));
  const later = new Map<string, number>(); // title at a level -> the words of its later section
  const drop = new Set<number>();
  for (let i = entries.length - 1; i >= 0; i--) {
    const key = `${entries[i].depth}|${bare(entries[i].title)}`;
    const twinWords = later.get(key);
    if (twinWords !== undefined && sectionWords[i] < 300 && sectionWords[i] * 5 < twinWords) {
      drop.add(i);
      continue;
    }
    later.set(key, sectionWords[i]);
  }
  if (drop.size > 0) {
    const kept = entries.filter((_, i) => !drop.has(i));
    entries.length = 0;
    entries.push(...kept);
  }
  if (entries.length === 0) return null;
  // The outermost level; an entry around everything else (the book's title) does not count, nor does
  // one that holds nearly all the words beside matter (contents, endnotes, an index), whose entries
  // are then matter too.
  let top = Math.min(...entries.map((e) => e.depth));
  let around = { start: 0, end: text.length };
  const totalWords = Math.max(1, wordCount(text));
  for (;;) {
    const level = entries.map((e, i) => ({ e, i })).filter(({ e }) => e.depth === top);
    if (!entries.some((e) => e.depth > top)) break;
    const ends = level.map(({ i }, k) => {
      const next = entries.findIndex((e, j) => j > i && e.depth <= top);
      return k < level.length && next >= 0 ? entries[next].start : around.end;
    });
    const holding = level.findIndex(({ e }, k) =>
      wordCount(text.slice(e.start, ends[k])) >= totalWords * 0.85 &&
      entries.some((x) => x.depth > top && x.start >= e.start && x.start < ends[k]) &&
      level.every((other, j) => j === k || MATTER_RE.test(normaliseForMatch(other.e.title)))
    );
    if (level.length !== 1 && holding < 0) break;
    const wrapper = level.length === 1 ? 0 : holding;
    around = { start: level[wrapper].e.start, end: ends[wrapper] };
    top++;
  }
  const isMatter = (i: number) =>
    MATTER_RE.test(normaliseForMatch(entries[i].title)) ||
    (entries[i].depth >= top && (entries[i].start < around.start || entries[i].start >= around.end));
  const at = (depth: number) => entries.map((e, i) => ({ e, i })).filter(({ e }) => e.depth === depth);
  // For each entry, the next one at its level or above, and its direct children (one pass).
  const nextAtOrAbove = new Array<number>(entries.length).fill(entries.length);
  const children: Entry[][] = entries.map(() => []);
  const open: number[] = [];
  entries.forEach((entry, i) => {
    while (open.length > 0 && entries[open.at(-1)!].depth >= entry.depth) nextAtOrAbove[open.pop()!] = i;
    if (open.length > 0 && entries[open.at(-1)!].depth === entry.depth - 1) {
      children[open.at(-1)!].push(entry);
    }
    open.push(i);
  });
  // A first outer entry without children while most others have them is the title page.
  const outer = at(top);
  const titlePage = outer.length >= 3 && children[outer[0].i].length === 0 &&
      outer[0].e.start <= text.length * 0.01 && !/^(?:chapter\b|\d)/i.test(outer[0].e.title) &&
      !SPECIAL_RE.test(outer[0].e.title) &&
      outer.slice(1).filter(({ i }) => children[i].length > 0).length >= (outer.length - 1) * 0.6
    ? outer[0].i
    : -1;

  // Parts: the outer entries are called Part/Volume/Book, or each holds entries called Chapter, or
  // each is a grouping page; a prologue, an epilogue or an introduction may stand among them as
  // chapters of their own.
  const special = (i: number) => SPECIAL_RE.test(entries[i].title) && children[i].length === 0;
  const tops = at(top).filter(({ i }) => !isMatter(i) && !special(i) && i !== titlePage);
  const partLike = tops.length >= 2 &&
    tops.every(({ e, i }) =>
      (PART_TITLE_RE.test(e.title) && children[i].length > 0) ||
      (children[i].length >= 2 && children[i].every((c) => /^chapter\b/i.test(c.title))) ||
      groupingPage(text, e, children[i])
    );
  const chapterDepth = partLike ? top + 1 : top;

  const chapters: DetectedChapter[] = [];
  const matter: DetectedStructure["matter"] = [];
  let part: string | null = null;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (entry.depth > chapterDepth) continue;
    // Up to the next entry at the chapter level or above.
    let j = nextAtOrAbove[i];
    while (j < entries.length && entries[j].depth > chapterDepth) j = nextAtOrAbove[j];
    const end = entries[j]?.start ?? text.length;
    if (isMatter(i) || i === titlePage) {
      const content = text.slice(entry.start, end).trim();
      matter.push({ title: entry.title, words: wordCount(content), content });
      continue;
    }
    if (entry.depth < chapterDepth && !special(i)) {
      // An entry around the others (the book's title) is no part.
      if (entry.depth >= top) part = entry.title;
      // What a part says before its first chapter (a grouping page's list of them) is matter.
      const own = withoutTitle(text.slice(entry.start, entries[i + 1]?.start ?? end), entry.title);
      if (wordCount(own) > 0) matter.push({ title: entry.title, words: wordCount(own), content: own });
      continue;
    }
    if (entry.depth < chapterDepth) part = null; // a prologue or epilogue beside the parts
    const content = withoutTitle(text.slice(entry.start, end), entry.title);
    if (wordCount(content) === 0) continue; // a heading with nothing under it (a contents link)
    chapters.push({ title: entry.title, partTitle: part, content });
  }
  let firstStart =
    entries.find((e, i) => e.depth === chapterDepth && !isMatter(i) && i !== titlePage)?.start ?? 0;
  if (chapters.length === 0) return null;
  // Headings the table of contents leaves out: a preface before the first chapter, an appendix after
  // the last one start (unnumbered LaTeX chapters, an NCX that stops early).
  if (!chapters.some((c) => c.partTitle)) {
    const lastStart = entries.filter((e) => e.depth === chapterDepth).at(-1)?.start ?? text.length;
    const known = new Set(chapters.map((c) => bare(c.title)));
    const extra = textHeadings(text).filter((h) =>
      !known.has(bare(h.title)) &&
      ((h.start < firstStart && /^(?:preface|foreword|prologue)\b/i.test(h.title)) ||
        (h.start > lastStart && /^(?:chapter\s+\d+|appendix)\b/i.test(h.title)))
    );
    for (const h of extra) {
      const next = [
        ...entries.filter((e) => e.depth <= chapterDepth).map((e) => e.start),
        ...extra.map((x) => x.start),
      ]
        .filter((at) => at > h.start).sort((a, b) => a - b)[0] ?? text.length;
      const content = withoutTitle(text.slice(h.start, next), h.title);
      if (wordCount(content) < 20) continue;
      const chapter = { title: h.title, partTitle: null, content };
      if (h.start < firstStart) {
        chapters.unshift(chapter);
      } else {
        // The appendix's text is no longer the last chapter's.
        const last = chapters[chapters.length - 1];
        const cut = last.content.indexOf(text.slice(h.start, h.start + 200).trim());
        if (cut >= 0) last.content = last.content.slice(0, cut).trim();
        if (last.content === "") chapters.pop(); // it only held what is now its own chapter
        chapters.push(chapter);
      }
    }
    const firstExtra = extra.find((h) => h.start < firstStart);
    if (firstExtra) firstStart = firstExtra.start;
  }
  const front = text.slice(0, Math.min(firstStart, entries[0].start)).trim();
  if (wordCount(front) > 0) {
    matter.unshift({ title: "Front matter", words: wordCount(front), content: front });
  }
  return {
    structureType: chapters.some((c) => c.partTitle) ? "mixed" : "chapters",
    extractionMethod: method,
    detector,
    chapters,
    matter,
  };
}

/**
 * A grouping page, as a documentation generator makes one for each group of chapters: its entries
 * each start a document of their own, and its own text (before the first of them) is a list that
 * names each one: at most a fifth of its words stand in paragraphs that end a sentence (a chapter
 * whose sections are documents of their own opens with prose before its list of them).
 */
function groupingPage(text: string, entry: Entry, children: Entry[]): boolean {
  if (children.length === 0 || !children.every((c) => c.startsDocument)) return false;
  const own = text.slice(entry.start, children[0].start);
  const prose = own.split(/\n\s*\n/).filter((p) => /\p{Ll}[.!?]["”’)]?(?=\s|$)/u.test(p))
    .reduce((n, p) => n + wordCount(p), 0);
  if (prose > wordCount(own) * 0.2) return false;
  const key = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
  return children.every((c) => key(c.title) !== "" && key(own).includes(key(c.title)));
}

function normaliseForMatch(title: string): string {
  return title.replace(/^[\d.\s]+/, "").replace(/[:.]+$/, "").trim();
}

/**
 * Content without its leading lines when they only repeat the title (numbered, or printed twice as
 * "[Title]Title" by a typesetter that did not know the heading's command).
 */
function withoutTitle(content: string, title: string): string {
  const key = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
  const numbering = /^(?:chapter|appendix|part|volume|book)?[0-9ivxlc]*$/;
  const wanted = key(title);
  const lines = content.trim().split("\n");
  let consumed = "";
  for (let n = 0; n < Math.min(4, lines.length); n++) {
    consumed += key(lines[n]);
    const before = consumed.slice(0, consumed.length - wanted.length);
    if (consumed.endsWith(wanted) && (numbering.test(before) || before === wanted)) {
      return lines.slice(n + 1).join("\n").trim();
    }
    if (!(wanted.includes(consumed) || numbering.test(consumed))) break;
  }
  return content.trim();
}

/**
 * Headings in plain text, as an outline: lines that stand alone (blank lines around them, or an
 * underline of = * - ~ # beneath), called Chapter/Appendix/Prologue..., or Part/Volume/Book (a
 * level above), or roman numerals alone, or underlined; never a line that continues a sentence.
 */
export function textHeadings(text: string): Entry[] {
  const lines = text.split("\n");
  const offsets: number[] = [];
  let offset = 0;
  for (const line of lines) {
    offsets.push(offset);
    offset += line.length + 1;
  }
  const blank = (i: number) => i < 0 || i >= lines.length || lines[i].trim() === "";
  // A heading follows a blank line or the end of a sentence, never words that run on into it.
  const after = (i: number) => blank(i) || /[.!?:"”’)\]]$/.test(lines[i].trim());
  const before = (i: number) => blank(i) || /^[\p{Lu}\d"“(]/u.test(lines[i].trim());
  const underline = (i: number) => {
    const l = (lines[i] ?? "").trim();
    const t = (lines[i - 1] ?? "").trim();
    return /^([=*\-~#^])\1{2,}$/.test(l) && t !== "" && Math.abs(l.length - t.length) <= 3 ? l[0] : null;
  };
  const underlineLevels: string[] = [];
  let lastChapterNumber = 0;
  const found: (Entry & { kind: string })[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim().replace(/\u00a0/g, " ");
    if (line === "" || line.length > 90) continue;
    const mark = underline(i + 1);
    const kind = headingKind(line);
    // "Chapter 9." right after "Chapter 8." stands alone whatever precedes it (a PDF loses blank lines).
    const number = kind === "chapter" ? Number(line.match(/^chapter\s+(\d+)\b/i)?.[1] ?? NaN) : NaN;
    const inSequence = number === lastChapterNumber + 1;
    const standsAlone = (after(i - 1) || inSequence) && (before(i + 1) || mark !== null);
    if (!standsAlone || /[,;]$/.test(line) || /^[a-z]/.test(line)) continue;
    if (Number.isFinite(number)) lastChapterNumber = number;
    if (kind === "part") found.push({ title: line, depth: 0, start: offsets[i], kind });
    else if (kind === "chapter" || kind === "roman") {
      found.push({ title: line, depth: 1, start: offsets[i], kind });
    } else if (mark) {
      if (!underlineLevels.includes(mark)) underlineLevels.push(mark);
      found.push({
        title: line,
        depth: 2 + underlineLevels.indexOf(mark),
        start: offsets[i],
        kind: `underline${mark}`,
      });
    }
  }
  // Named headings win over underlined ones; roman numerals count only when there are several and
  // no named chapters.
  const named = found.filter((f) => f.kind === "chapter" || f.kind === "part");
  const roman = found.filter((f) => f.kind === "roman");
  const underlined = found.filter((f) => f.kind.startsWith("underline"));
  let chosen =
    named.filter((f) => f.kind === "chapter").length >= 2 || (named.length > 0 && underlined.length < 2)
      ? named
      : roman.length >= 2
      ? [...named, ...roman]
      : found.filter((f) => f.kind !== "roman");
  if (!chosen.some((f) => f.kind === "chapter" || f.kind === "roman")) {
    // Underlined headings only: levels by the order their marks first appear.
    chosen = found.filter((f) => f.kind.startsWith("underline"));
  }
  // A heading that stands again later (with no part between) was a line of a contents listing.
  chosen = chosen.filter((f, k) => {
    const key = f.title.toLowerCase();
    for (const later of chosen.slice(k + 1)) {
      if (later.kind === "part") return true;
      if (later.title.toLowerCase() === key) return false;
    }
    return true;
  });
  // "Chapter I" alone on its line takes the short title line that follows it.
  return chosen.map((f) => {
    if (f.kind !== "chapter" && f.kind !== "roman") return f;
    const rest = (f.title.match(CHAPTER_RE) ?? f.title.match(SPECIAL_RE))?.[1] ?? "";
    if (rest !== "" && f.kind !== "roman") return f;
    const i = lines.findIndex((_, k) => offsets[k] === f.start);
    let j = i + 1;
    while (j < lines.length && lines[j].trim() === "") j++;
    return j < lines.length && isTitleLine(lines[j].trim())
      ? { ...f, title: `${f.title.replace(/\.$/, "")}: ${lines[j].trim()}` }
      : f;
  });
}

/**
 * A chapter longer than `maxChars` as consecutive chapters ("Title (1/3)", ...) cut at paragraphs
 * (or, inside a paragraph longer than that, at a space): what each chapter costs to summarise, embed
 * and make into a video stays bounded whatever one heading holds.
 */
function splitLongChapter(chapter: DetectedChapter, maxChars: number): DetectedChapter[] {
  if (chapter.content.length <= maxChars) return [chapter];
  const pieces: string[] = [];
  let rest = chapter.content;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars + 1);
    let cut = window.lastIndexOf("\n\n");
    if (cut < maxChars / 2) cut = window.lastIndexOf(" ");
    if (cut < maxChars / 2) cut = maxChars;
    pieces.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest !== "") pieces.push(rest);
  return pieces.map((content, i) => ({
    ...chapter,
    title: `${chapter.title} (${i + 1}/${pieces.length})`,
    content,
  }));
}

function byFixedParts(text: string): DetectedStructure {
  const parts: string[][] = [[]];
  let words = 0;
  for (const paragraph of paragraphsOf(text)) {
    if (words >= PART_WORDS) {
      parts.push([]);
      words = 0;
    }
    parts[parts.length - 1].push(paragraph);
    words += wordCount(paragraph);
  }
  // A short tail joins the part before it.
  if (parts.length > 1 && wordCount(parts[parts.length - 1].join(" ")) < PART_WORDS / 3) {
    parts[parts.length - 2].push(...parts.pop()!);
  }
  return {
    structureType: "linear",
    extractionMethod: "ai",
    detector: "fixed_parts",
    chapters: parts.map((p, i) => ({ title: `Part ${i + 1}`, partTitle: null, content: p.join("\n\n") })),
    matter: [],
  };
}
