/**
 * Real books through the real ingestion path: each corpus file is uploaded, processed by the ingest
 * worker and scored from the chapters it wrote (chapter count, titles in order, parts, no tiny
 * chapters, no text in two chapters, the words all there, no running headers).
 */
import assert from "node:assert/strict";
import { extractBook } from "../../supabase/functions/_shared/books/extract.ts";
import { type CorpusBook, scoreBook } from "../../supabase/functions/_shared/books/corpus/evaluate.ts";
import type { DetectedStructure } from "../../supabase/functions/_shared/books/structure.ts";
import { offlineContent } from "../../supabase/functions/_shared/providers/content.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import { asUser, createTestUser, deleteTestUser, withSql } from "../../supabase/functions/_shared/testing.ts";
import { runIngest } from "./ingest.ts";

const corpus = new URL("../../supabase/functions/_shared/books/corpus/", import.meta.url);
const { books } = JSON.parse(await Deno.readTextFile(new URL("corpus.json", corpus))) as {
  books: CorpusBook[];
};

Deno.test("real books from other tools come out with their true chapters, every one of them", async () => {
  assert.ok(books.length >= 20, "at least 20 books");
  assert.ok(new Set(books.map((b) => b.producer.split(" ")[0])).size >= 5, "from at least five tools");
  await withSql(async (sql) => {
    const dir = await Deno.makeTempDir({ prefix: "litinkai-corpus-" });
    const userId = await createTestUser(sql, "corpus");
    try {
      // One user uploads the whole corpus: more than the hourly process_book limit allows.
      await sql`update private.rate_limits set max_calls = 1000 where action = 'process_book'`;
      const storage = new LocalStorage(sql, dir, "http://127.0.0.1:54321");
      const ids = new Map<string, string>();
      for (const book of books) {
        const bytes = await Deno.readFile(new URL(book.file, corpus));
        const path = `${userId}/corpus/${book.file.split("/").pop()}`;
        await storage.put("books", path, bytes, "application/octet-stream");
        ids.set(
          book.file,
          await asUser(sql, userId, async (tx) => {
            const [{ id }] = await tx<{ id: string }[]>`
            insert into public.books (title, file_url, source_file_size, book_type)
            values (${book.file}, ${path}, ${bytes.length}, 'learning') returning id`;
            await tx`select public.process_book(${id})`;
            return id;
          }),
        );
      }
      const summary = await runIngest({ sql, storage, content: offlineContent });
      assert.deepEqual(summary.failures, []);

      const failing: string[] = [];
      for (const book of books) {
        const id = ids.get(book.file)!;
        const chapters = await sql<{ title: string; part_title: string | null; content: string }[]>`
          select title, part_title, content from public.chapters where book_id = ${id} order by chapter_number`;
        const [{ structure_data: data }] =
          await sql`select structure_data from public.book_structure where book_id = ${id}`;
        const extracted = await extractBook(book.file, await Deno.readFile(new URL(book.file, corpus)));
        const structure = {
          chapters: chapters.map((c) => ({ title: c.title, partTitle: c.part_title, content: c.content })),
          matter: data.matter ?? [],
        } as unknown as DetectedStructure;
        const score = scoreBook(book, extracted, structure);
        if (score.failures.length > 0) failing.push(`${book.file}: ${score.failures.join("; ")}`);
      }
      assert.deepEqual(failing, [], `failing:\n${failing.join("\n")}`);
    } finally {
      await sql`update private.rate_limits set max_calls = 20 where action = 'process_book'`;
      await deleteTestUser(sql, userId);
      await Deno.remove(dir, { recursive: true });
    }
  });
});
