/**
 * `deno run --allow-read extract_cli.ts <file>...`: reads each book as ingestion does (from its file,
 * its text, then its chapters) and prints one JSON line per file: its format, characters and chapters,
 * or why it was refused. The memory test runs it under a small V8 heap.
 */
import { BookFormatError, extractBook } from "./extract.ts";
import { detectStructure } from "./structure.ts";

export interface CliResult {
  file: string;
  format?: string;
  chars?: number;
  chapters?: number;
  refused?: string;
}

if (import.meta.main) {
  for (const file of Deno.args) {
    let result: CliResult;
    try {
      const book = await extractBook(file, { file }); // as the ingest worker reads its download
      const structure = detectStructure(book);
      result = { file, format: book.format, chars: book.text.length, chapters: structure.chapters.length };
    } catch (error) {
      if (!(error instanceof BookFormatError)) throw error;
      result = { file, refused: error.message };
    }
    console.log(JSON.stringify(result));
  }
}
