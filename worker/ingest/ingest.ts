/** Ingest worker: file -> text -> chapters with summaries and learning content, in one transaction. */
import type { WorkerRun } from "../../supabase/functions/_shared/serve_worker.ts";
import type { Json, Sql, Tables } from "../../supabase/functions/_shared/db.ts";
import {
  BookFormatError,
  extractBook,
  type ExtractLimits,
} from "../../supabase/functions/_shared/books/extract.ts";
import { BOOKS_WORKER } from "../../supabase/functions/_shared/books/limits.ts";
import { type DetectedStructure, detectStructure } from "../../supabase/functions/_shared/books/structure.ts";
import {
  consumeQueue,
  type ConsumerSummary,
  mapWithConcurrency,
  type QueueMessage,
  retryOrFail,
  wakeChannelOf,
} from "../../supabase/functions/_shared/queue.ts";

const MAX_ATTEMPTS = 5;
import {
  CONTENT_CALL_BOUND,
  type ContentProviders,
} from "../../supabase/functions/_shared/providers/content.ts";
import type { UsageCall } from "../../supabase/functions/_shared/pipeline/worker.ts";
import { findCharacterNames } from "../../supabase/functions/_shared/providers/text/script_rules.ts";
import { readingMinutes, wordCount } from "../../supabase/functions/_shared/providers/text/text_utils.ts";
import type { Storage } from "../../supabase/functions/_shared/storage.ts";
import { recordUsage, reservedCall } from "../../supabase/functions/_shared/usage.ts";

export interface IngestDeps {
  sql: Sql;
  storage: Storage;
  content: ContentProviders;
  /** What one book may cost to read (size, inflated size, pages, time); defaults in extract.ts. */
  limits?: Partial<ExtractLimits>;
}

type BookRow = Pick<Tables<"books">, "id" | "user_id" | "status" | "book_type" | "file_url">;

export interface IngestSummary extends ConsumerSummary {
  failures: { book_id: string; error: string }[];
}

/**
 * The upload read into chapters (and, for a novel, its characters' names). It is downloaded to a
 * temporary file, from which an EPUB or DOCX is read entry by entry (its pictures never in memory);
 * the file's bytes and the whole text are let go when this returns: only the chapters stay.
 */
async function readBook(
  deps: IngestDeps,
  path: string,
  bookType: BookRow["book_type"],
  downloaded: () => Promise<unknown>,
): Promise<{ format: string; structure: DetectedStructure; knownNames: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "litinkai-book-" });
  try {
    const file = `${dir}/${path.split("/").pop()}`;
    try {
      await deps.storage.download("books", path, file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || /not found|404/i.test(String(error))) {
        throw new BookFormatError(`the uploaded file books/${path} does not exist`);
      }
      throw error;
    }
    await downloaded();
    const extracted = await extractBook(path, { file }, deps.limits);
    const structure = detectStructure(extracted);
    const knownNames = bookType === "entertainment" ? findCharacterNames(extracted.text) : [];
    return { format: extracted.format, structure, knownNames };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A full garbage collection, where the process allows it (the books group runs with --expose-gc):
 * before a book is downloaded, the last book's text, chapters and buffers are let go at once instead
 * of whenever V8 gets to them, so two books never stand in memory together.
 */
function collectGarbage() {
  (globalThis as { gc?: () => void }).gc?.();
}

export async function ingestBook(deps: IngestDeps, msg: QueueMessage<{ book_id: string }>): Promise<void> {
  const { sql, content } = deps;
  collectGarbage();
  const started = performance.now();
  // The file is read only if its owner uploaded it (storage.objects), whatever file_url says now.
  const [book] = await sql<(BookRow & { uploaded: boolean })[]>`
    select b.id, b.user_id, b.status, b.book_type, b.file_url,
      exists (select 1 from storage.objects o where o.bucket_id = 'books' and o.name = b.file_url
              and (o.owner_id = b.user_id::text or o.owner = b.user_id)) as uploaded
    from public.books b where b.id = ${msg.message.book_id}`;
  if (!book || book.status !== "processing") {
    await sql`select pgmq.delete('ingest', ${msg.msg_id}::bigint)`;
    return;
  }
  const progress = (pct: number) => sql`select private.set_book_progress(${book.id}, ${pct})`;
  if (!book.file_url) throw new BookFormatError("the book has no uploaded file (file_url)");
  if (!book.uploaded) throw new BookFormatError(`books/${book.file_url} is not among the owner's uploads`);

  const { format, structure, knownNames } = await readBook(
    deps,
    book.file_url,
    book.book_type,
    () => progress(10),
  );
  collectGarbage(); // the upload and the whole text, no longer needed beside the chapters
  await progress(30);

  const usage: UsageCall[] = [];
  // One reservation for the book's calls, a chapter's bound each.
  const reservation = {
    key: `ingest:${msg.msg_id}:${msg.read_ct}`,
    userId: book.user_id,
    model: content.model,
    quantity: {
      input_tokens: CONTENT_CALL_BOUND.chapter.input_tokens * structure.chapters.length,
      output_tokens: CONTENT_CALL_BOUND.chapter.output_tokens * structure.chapters.length,
    },
  };
  const chapters: Record<string, unknown>[] = new Array(structure.chapters.length);
  let done = 0;
  await reservedCall(
    sql,
    reservation,
    () =>
      mapWithConcurrency([...structure.chapters.entries()], 4, async ([i, chapter]) => {
        const { result, usage: call } = await content.chapterContent(
          book.book_type,
          chapter.title,
          chapter.content,
          knownNames,
        );
        usage.push(call);
        const words = wordCount(chapter.content);
        chapters[i] = {
          chapter_number: i + 1,
          title: chapter.title.slice(0, 300),
          part_title: chapter.partTitle,
          content: chapter.content,
          summary: result.summary,
          word_count: words,
          duration: readingMinutes(words),
          ai_content: result.ai_content,
        };
        done++;
        if (done % Math.max(1, Math.ceil(structure.chapters.length / 6)) === 0) {
          await progress(30 + Math.floor((done / structure.chapters.length) * 60));
        }
      }),
  );

  const structureData = {
    format,
    structure_type: structure.structureType,
    extraction_method: structure.extractionMethod,
    detector: structure.detector,
    has_parts: structure.structureType === "mixed",
    // Title page, contents, copyright, index: kept out of the chapters, recorded here.
    matter: structure.matter,
    chapters: structure.chapters.map((c, i) => ({
      number: i + 1,
      title: c.title,
      part_title: c.partTitle,
      word_count: wordCount(c.content),
    })),
  };
  await sql.begin(async (tx) => {
    await recordUsage(
      tx as unknown as Sql,
      book.user_id,
      `ingest:${msg.msg_id}:${msg.read_ct}`,
      usage,
      performance.now() - started,
    );
    await tx`select private.complete_book_ingest(${msg.msg_id}, ${book.id}, ${
      sql.json(structureData as Json)
    },
      ${sql.json(chapters as Json)})`;
  });
}

export async function runIngest(
  deps: IngestDeps,
  options: Partial<WorkerRun> = {},
): Promise<IngestSummary> {
  const failures: IngestSummary["failures"] = [];
  const summary = await consumeQueue<{ book_id: string }>(deps.sql, {
    queue: "ingest",
    wakeChannel: wakeChannelOf("ingest"),
    // One book at a time: two of the largest do not fit the process's memory budget together.
    concurrency: BOOKS_WORKER.booksReadAtOnce,
    leaseSeconds: 60,
    timeoutSeconds: 300,
    ...options, // the run's budget, polling, heartbeat and stop signals
    process: async (msg) => {
      await ingestBook(deps, msg);
      return "completed";
    },
    fail: (msg, error, retryable) =>
      retryOrFail(deps.sql, "ingest", msg, retryable, MAX_ATTEMPTS, async () => {
        failures.push({ book_id: msg.message.book_id, error });
        await deps.sql`select private.fail_book_ingest(${msg.msg_id}, ${msg.message.book_id}, ${error})`;
      }),
  });
  return { ...summary, failures };
}
