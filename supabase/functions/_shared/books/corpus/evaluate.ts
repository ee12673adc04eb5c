/**
 * Scores a detected structure against a real book's true chapters (corpus.json): the measures the
 * corpus test asserts, per book.
 */
import type { ExtractedBook } from "../extract.ts";
import type { DetectedStructure } from "../structure.ts";
import { wordCount } from "../../providers/text/text_utils.ts";

export interface CorpusBook {
  file: string;
  format: string;
  producer: string;
  source: string;
  licence: string;
  chapters: string[];
  parts: string[];
  /** Patterns of running headers or footers that must not be left in any chapter. */
  running_lines: string[];
  /** Words in the file as an independent reading counts them (scripts/corpus/lib/words.py). */
  words: number;
}

export interface BookScore {
  file: string;
  chapters: number;
  truth: number;
  titlesInOrder: number;
  shortest: number;
  duplicated: number;
  coverage: number;
  runningLinesLeft: number;
  partsFound: boolean;
  /** Words in chapters and recorded matter, over the file's words (`CorpusBook.words`). */
  wordsKept: number;
  failures: string[];
}

/** At least this share of a file's words must come out in its chapters and recorded matter. */
export const MIN_WORDS_KEPT = 0.98;

/** Words as the corpus counts them: runs of non-space characters holding a letter or a digit. */
export function countWords(text: string): number {
  let n = 0;
  for (const token of text.split(/\s+/)) if (/[\p{L}\p{N}]/u.test(token)) n++;
  return n;
}

/** Lower case, letters and digits only, no leading numbering ("Chapter 3.", "A.", "12."). */
export function normaliseTitle(title: string): string {
  return title.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .replace(/^\s*(?:chapter|appendix|part|volume|book)\s+[\divxlc]+\s*[.:]?\s*/i, "")
    .replace(/^\s*(?:[\d]+|[a-z])(?:\.\d+)*\s*[.:)]\s+/i, "")
    .replace(/[^a-z0-9]+/g, " ").trim();
}

function sameTitle(detected: string, truth: string): boolean {
  // A title that is only its numbering ("CHAPTER IV") is compared whole.
  const whole = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
  const numberOnly = normaliseTitle(truth) === "";
  const d = numberOnly ? whole(detected) : normaliseTitle(detected);
  const t = numberOnly ? whole(truth) : normaliseTitle(truth);
  if (numberOnly) return d === t || d.startsWith(`${t} `);
  return d !== "" && t !== "" && (d === t || d.endsWith(` ${t}`) || d.startsWith(`${t} `) || d.includes(t));
}

/** How many true titles appear among the detected ones in the same order (longest common subsequence). */
function titlesInOrder(detected: string[], truth: string[]): number {
  const row = new Array(detected.length + 1).fill(0);
  for (const t of truth) {
    let diagonal = 0;
    for (let j = 1; j <= detected.length; j++) {
      const above = row[j];
      row[j] = sameTitle(detected[j - 1], t) ? diagonal + 1 : Math.max(row[j], row[j - 1]);
      diagonal = above;
    }
  }
  return row[detected.length];
}

/** Share of 8-word runs that stand in more than one chapter. */
function duplicatedShare(chapters: string[]): number {
  const seen = new Map<string, number>();
  let total = 0;
  chapters.forEach((text, index) => {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    const mine = new Set<string>();
    for (let i = 0; i + 8 <= words.length; i += 4) mine.add(words.slice(i, i + 8).join(" "));
    total += mine.size;
    for (const run of mine) {
      const first = seen.get(run);
      if (first === undefined) seen.set(run, index);
      else if (first !== index) seen.set(run, -1);
    }
  });
  const shared = [...seen.values()].filter((v) => v === -1).length;
  return total === 0 ? 0 : shared / total;
}

export function scoreBook(
  book: CorpusBook,
  extracted: ExtractedBook,
  structure: DetectedStructure,
): BookScore {
  const titles = structure.chapters.map((c) => c.title);
  const contents = structure.chapters.map((c) => c.content);
  const inOrder = titlesInOrder(titles, book.chapters) / book.chapters.length;
  const shortest = Math.min(...contents.map(wordCount));
  const duplicated = duplicatedShare(contents);
  // Of the file's words, less what was recorded as front and back matter (title page, contents, index).
  const matterWords = structure.matter.reduce((n, m) => n + m.words, 0);
  const coverage = contents.reduce((n, c) => n + wordCount(c), 0) /
    Math.max(1, wordCount(extracted.text) - matterWords);
  const patterns = book.running_lines.map((p) => new RegExp(p));
  const runningLinesLeft = contents.reduce(
    (n, c) => n + c.split("\n").filter((line) => patterns.some((p) => p.test(line))).length,
    0,
  );
  const parts = new Set(structure.chapters.map((c) => (c.partTitle ?? "").toLowerCase()));
  const partKey = (p: string) => normaliseTitle(p) || p.toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
  const partsFound = book.parts.every((p) =>
    [...parts].some((q) => ` ${q.replace(/[^a-z0-9]+/g, " ").trim()} `.includes(` ${partKey(p)} `))
  );
  const wordsKept = (contents.reduce((n, c) => n + countWords(c), 0) +
    structure.matter.reduce((n, m) => n + countWords(m.content ?? ""), 0)) / book.words;
  const failures: string[] = [];
  const off = Math.abs(titles.length - book.chapters.length) / book.chapters.length;
  if (off > 0.05) failures.push(`${titles.length} chapters, truth ${book.chapters.length}`);
  if (inOrder < 0.95) failures.push(`${Math.round(inOrder * 100)}% of titles in order`);
  if (!partsFound) failures.push("parts missing");
  if (book.parts.length === 0 && structure.chapters.some((c) => c.partTitle)) {
    failures.push("parts where the book has none");
  }
  if (shortest < 20) failures.push(`a chapter of ${shortest} words`);
  if (duplicated > 0.01) failures.push(`${(duplicated * 100).toFixed(1)}% duplicated`);
  if (coverage < 0.9 || coverage > 1.1) {
    failures.push(`chapters hold ${Math.round(coverage * 100)}% of the words`);
  }
  if (runningLinesLeft > 0) failures.push(`${runningLinesLeft} running header/footer lines left`);
  if (wordsKept < MIN_WORDS_KEPT) failures.push(`${(wordsKept * 100).toFixed(1)}% of the file's words kept`);
  return {
    file: book.file,
    chapters: titles.length,
    truth: book.chapters.length,
    titlesInOrder: inOrder,
    shortest,
    duplicated,
    coverage,
    runningLinesLeft,
    partsFound,
    wordsKept,
    failures,
  };
}
