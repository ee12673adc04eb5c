/**
 * What reading one upload may cost, in one place: the readers, the ingest worker, the worker
 * service's heap settings, the benchmarks and the tests read these numbers, and a test checks that
 * the storage bucket's upload limit (SQL and config.toml) says the same.
 */

import { PermanentError } from "../errors.ts";

const MIB = 1024 * 1024;

/** A file refused as a book, with a message for the person who uploaded it: what is wrong, what to do. */
export class BookFormatError extends PermanentError {
  override name = "BookFormatError";
}

export interface ExtractLimits {
  /** Size of an upload (the books bucket's file_size_limit). */
  maxFileBytes: number;
  /** Characters of text one book may have once read (about 1.3 million words at the default). */
  maxTextChars: number;
  /** Lines of that text (a line each few characters would cost more than the characters). */
  maxTextLines: number;
  /** Characters of one chapter: a longer one becomes several, so each chapter's work stays bounded. */
  maxChapterChars: number;
  /** Entries an EPUB or DOCX may hold. */
  maxZipEntries: number;
  /** Bytes one entry read from an EPUB or DOCX may inflate to, counted as it inflates. */
  maxEntryBytes: number;
  /** Bytes all the entries read from one EPUB or DOCX may inflate to together. */
  maxExpandedBytes: number;
  /** Elements nested in one another in an XML or HTML part. */
  maxXmlDepth: number;
  /** Elements in all the XML and HTML parts of one book. */
  maxXmlElements: number;
  /** Pages a PDF may have. */
  maxPdfPages: number;
  /** Bytes one PDF stream that holds text, fonts or objects may decode to (images are not decoded). */
  maxPdfStreamBytes: number;
  /** Milliseconds reading one book's text may take. */
  maxExtractMs: number;
}

export const DEFAULT_LIMITS: ExtractLimits = {
  maxFileBytes: 50 * MIB,
  maxTextChars: 8 * MIB,
  maxTextLines: 1_000_000,
  maxChapterChars: 512 * 1024,
  maxZipEntries: 10_000,
  maxEntryBytes: 64 * MIB,
  maxExpandedBytes: 128 * MIB,
  maxXmlDepth: 256,
  maxXmlElements: 5_000_000,
  maxPdfPages: 2_000,
  maxPdfStreamBytes: 32 * MIB,
  maxExtractMs: 60_000,
};

/**
 * The books group of the worker service (ingest and embed in one process): the memory it is built
 * to stay within whatever an upload holds (the hosted Edge Functions limit), how many books it reads
 * at once, and the V8 heap settings that make it collect garbage before it grows past the budget.
 */
export const BOOKS_WORKER = {
  memoryBudgetMb: 256,
  booksReadAtOnce: 1,
  /**
   * For DENO_V8_FLAGS: the old generation's cap, a small young generation, and gc() for the ingest
   * worker to collect between books.
   */
  v8Flags: "--max-old-space-size=128,--max-semi-space-size=4,--expose-gc",
};

/** A size for messages: "50 MiB", "2.5 MiB", "12 KiB". */
export function mib(bytes: number): string {
  const [value, unit] = bytes >= MIB ? [bytes / MIB, "MiB"] : [bytes / 1024, "KiB"];
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
}
