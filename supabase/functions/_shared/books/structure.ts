/**
 * Chapters of a book, found in this order: the format's own table of contents; heading patterns
 * in the text (Chapter N, Chapter One, roman numerals, Part/Book, Prologue, Epilogue, Interlude);
 * last, fixed parts of about 3,000 words.
 */
import { BookFormatError, type ExtractedBook, stripRunningLines } from "./extract.ts";
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
const PART_RE = new RegExp(`^(?:part|book)\\s+${NUMBER}\\b\\.?(?:\\s*[:.—–-]\\s*|\\s+)?(.*)$`, "i");
const SPECIAL_RE =
  /^(?:prologue|epilogue|interlude|introduction|preface|foreword|afterword)\b\.?(?:\s*[:.—–-]\s*|\s+)?(.*)$/i;
const ROMAN_ONLY_RE = /^[IVXLC]{1,7}\.?$/;

type LineKind = "chapter" | "part" | "roman" | null;

function headingKind(line: string): LineKind {
  if (line.length > 70 || /[,;]$/.test(line)) return null;
  const rest = (m: RegExpMatchArray | null) => m !== null && wordCount(m[1] ?? "") <= 10;
  if (rest(line.match(CHAPTER_RE)) || rest(line.match(SPECIAL_RE))) return "chapter";
  if (rest(line.match(PART_RE))) return "part";
  if (ROMAN_ONLY_RE.test(line)) return "roman";
  return null;
}

/** A short line that reads like a title (no sentence punctuation at the end). */
function isTitleLine(line: string): boolean {
  return line.length > 0 && line.length <= 60 && !/[.,;:!?"”]$/.test(line) && headingKind(line) === null;
}

export function detectStructure(book: ExtractedBook): DetectedStructure {
  const fromToc = book.toc?.filter((s) => s.content.trim() !== "") ?? [];
  const structure = fromToc.length > 0
    ? {
      structureType: fromToc.some((s) => s.partTitle) ? "mixed" as const : "chapters" as const,
      extractionMethod: "toc" as const,
      detector: book.tocSource ?? "toc",
      chapters: fromToc.map((s) => ({
        title: s.title,
        partTitle: s.partTitle ?? null,
        content: withoutTitle(s.content, s.title),
      }))
        .filter((c) => c.content !== ""),
    }
    : byHeadings(book.text) ?? byFixedParts(book.text);
  if (structure.chapters.length > MAX_CHAPTERS) {
    throw new BookFormatError(
      `the book has ${structure.chapters.length} chapters; at most ${MAX_CHAPTERS} are supported`,
    );
  }
  return structure;
}

/** Content without its first line when that line only repeats the title. */
function withoutTitle(content: string, title: string): string {
  const trimmed = content.trim();
  const [first, ...rest] = trimmed.split("\n");
  return first.trim().toLowerCase() === title.trim().toLowerCase() ? rest.join("\n").trim() : trimmed;
}

function byHeadings(text: string): DetectedStructure | null {
  const [clean] = stripRunningLines([text]);
  const lines = clean.split("\n").map((l) => l.trim());
  const kinds = lines.map(headingKind);
  const chapterCount = kinds.filter((k) => k === "chapter").length;
  const romanCount = kinds.filter((k) => k === "roman").length;
  const romanIsHeading = chapterCount === 0 && romanCount >= 2;
  if (chapterCount === 0 && !romanIsHeading) return null;

  const chapters: DetectedChapter[] = [];
  let part: string | null = null;
  let current: { title: string; partTitle: string | null; body: string[] } | null = null;
  const front: string[] = [];
  const close = () => {
    if (current) {
      chapters.push({
        title: current.title,
        partTitle: current.partTitle,
        content: current.body.join("\n").trim(),
      });
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const kind = kinds[i] === "roman" && !romanIsHeading ? null : kinds[i];
    if (kind === null) {
      (current ? current.body : front).push(lines[i]);
      continue;
    }
    // "Chapter I" alone on its line takes the short title line that follows it.
    let title = lines[i];
    const rest = (title.match(CHAPTER_RE) ?? title.match(SPECIAL_RE) ?? title.match(PART_RE))?.[1] ?? "";
    let j = i + 1;
    while (j < lines.length && lines[j] === "") j++;
    if ((rest === "" || kind === "roman") && j < lines.length && isTitleLine(lines[j])) {
      title = `${title.replace(/\.$/, "")}: ${lines[j]}`;
      i = j;
    }
    if (kind === "part") {
      close();
      current = null;
      part = title;
      continue;
    }
    close();
    current = { title, partTitle: part, body: [] };
  }
  close();
  const withText = chapters.filter((c) => wordCount(c.content) > 0); // drops a contents listing
  const frontText = front.join("\n").trim();
  if (wordCount(frontText) >= 30) {
    withText.unshift({ title: "Front matter", partTitle: null, content: frontText });
  }
  if (withText.length === 0) return null;
  const hasParts = withText.some((c) => c.partTitle !== null);
  return {
    structureType: hasParts ? "mixed" : "chapters",
    extractionMethod: "ai",
    detector: romanIsHeading ? "roman_numeral_headings" : "chapter_headings",
    chapters: withText,
  };
}

function byFixedParts(text: string): DetectedStructure {
  const [clean] = stripRunningLines([text]);
  const parts: string[][] = [[]];
  let words = 0;
  for (const paragraph of paragraphsOf(clean)) {
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
  };
}
