/** Ingests the real-book corpus through extraction and structure detection and prints each book's score. */
import { extractBook } from "../../supabase/functions/_shared/books/extract.ts";
import { detectStructure } from "../../supabase/functions/_shared/books/structure.ts";
import { type CorpusBook, scoreBook } from "../../supabase/functions/_shared/books/corpus/evaluate.ts";

const dir = new URL("../../supabase/functions/_shared/books/corpus/", import.meta.url);
const { books } = JSON.parse(await Deno.readTextFile(new URL("corpus.json", dir))) as { books: CorpusBook[] };
let passed = 0;
for (const book of books) {
  const bytes = await Deno.readFile(new URL(book.file, dir));
  const started = performance.now();
  try {
    const extracted = await extractBook(book.file, bytes);
    const score = scoreBook(book, extracted, detectStructure(extracted));
    if (score.failures.length === 0) passed++;
    console.log(
      `${score.failures.length === 0 ? "pass" : "FAIL"}  ${book.file.replace("files/", "").padEnd(40)} ${
        String(score.chapters).padStart(4)
      }/${String(score.truth).padEnd(3)} words ${(score.wordsKept * 100).toFixed(1).padStart(5)}%  ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s  ${score.failures.join("; ")}`,
    );
  } catch (error) {
    console.log(`FAIL  ${book.file.replace("files/", "").padEnd(40)} ${(error as Error).message}`);
  }
}
console.log(`${passed} of ${books.length} books with their true structure`);
