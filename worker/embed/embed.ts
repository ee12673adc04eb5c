/**
 * Embed worker: a chapter's passages embedded and saved with the hash of the content they came from;
 * and a large library's own search index built (or dropped) when SQL asks for it.
 */
import type { WorkerRun } from "../../supabase/functions/_shared/serve_worker.ts";
import type { Json, Sql } from "../../supabase/functions/_shared/db.ts";
import {
  consumeQueue,
  type ConsumerSummary,
  type Outcome,
  type QueueMessage,
  retryOrFail,
  wakeChannelOf,
} from "../../supabase/functions/_shared/queue.ts";
import {
  type EmbeddingProvider,
  splitIntoPassages,
  vectorLiteral,
} from "../../supabase/functions/_shared/providers/embeddings.ts";
import { recordUsage, reservedCall } from "../../supabase/functions/_shared/usage.ts";

interface ChapterRow {
  id: string;
  user_id: string;
  content: string;
  content_hash: string;
}

export async function embedChapter(
  sql: Sql,
  embedder: EmbeddingProvider,
  msg: QueueMessage<{ chapter_id: string }>,
): Promise<void> {
  const started = performance.now();
  const [chapter] = await sql<ChapterRow[]>`
    select c.id, b.user_id, c.content, encode(sha256(convert_to(c.content, 'UTF8')), 'hex') as content_hash
    from public.chapters c join public.books b on b.id = c.book_id where c.id = ${msg.message.chapter_id}`;
  if (!chapter) {
    await sql`select pgmq.delete('embed', ${msg.msg_id}::bigint)`; // the chapter was deleted
    return;
  }
  const passages = splitIntoPassages(chapter.content);
  // Tokens bounded at one per three characters of the passages, whatever the tokenizer makes of them.
  const reservation = {
    key: `embed:${msg.msg_id}:${msg.read_ct}`,
    userId: chapter.user_id,
    model: embedder.model,
    quantity: { input_tokens: Math.ceil(passages.reduce((n, p) => n + p.length, 0) / 3) },
  };
  const { vectors, usage } = await reservedCall(sql, reservation, () => embedder.embed(passages));
  const rows = passages.map((content, i) => ({
    passage_index: i,
    content,
    embedding: vectorLiteral(vectors[i]),
  }));
  await sql.begin(async (tx) => {
    await recordUsage(
      tx as unknown as Sql,
      chapter.user_id,
      `embed:${msg.msg_id}:${msg.read_ct}`,
      [usage],
      performance.now() - started,
    );
    await tx`select private.save_chapter_embeddings(${msg.msg_id}, ${chapter.id}, ${chapter.content_hash},
      ${embedder.model}, ${sql.json(rows as Json)})`;
  });
}

/** A message of the embed queue: a chapter to embed, or a library whose search index needs looking after. */
export type EmbedMessage = { chapter_id: string } | { library_index: string };

/** What private.library_index_work raises while the library's index is being built. */
const BUILD_UNDER_WAY = "55006";

/**
 * Brings a library's own search index to its right state with the statements private.library_index_work
 * gives (CREATE or DROP INDEX CONCURRENTLY, each on its own, outside any transaction), then deletes the
 * message. The statements run on a connection of its own without a statement timeout (a build can take
 * minutes; hosted Supabase stops statements after two minutes unless the session says otherwise), so
 * it needs a direct or session-mode connection. One worker at a time looks after a library (a session
 * lock); a message that finds another worker at it, or a build under way, has nothing left to do (the
 * sweep asks again if that build dies). A build that dies leaves an invalid index, which the next
 * request's statements replace.
 */
export async function maintainLibraryIndex(
  sql: Sql,
  msg: QueueMessage<{ library_index: string }>,
): Promise<Outcome> {
  const lockKey = `library_index:${msg.message.library_index}`;
  const connection = await sql.reserve();
  let outcome: Outcome = "completed";
  try {
    const [{ locked }] =
      await connection`select pg_try_advisory_lock(hashtextextended(${lockKey}, 0)) as locked`;
    if (!locked) {
      outcome = "stale";
    } else {
      try {
        await connection`set statement_timeout = 0`;
        const statements = await connection<{ statement: string }[]>`
          select s.statement from private.library_index_work(${msg.message.library_index}) s (statement)`;
        for (const { statement } of statements) await connection.unsafe(statement);
      } catch (error) {
        if ((error as { code?: string }).code !== BUILD_UNDER_WAY) throw error;
        outcome = "stale";
      } finally {
        await connection`reset statement_timeout`;
        await connection`select pg_advisory_unlock(hashtextextended(${lockKey}, 0))`;
      }
    }
  } finally {
    connection.release();
  }
  await sql`select pgmq.delete('embed', ${msg.msg_id}::bigint)`;
  return outcome;
}

export async function runEmbed(
  sql: Sql,
  embedder: EmbeddingProvider,
  options: Partial<WorkerRun> = {},
): Promise<ConsumerSummary> {
  return await consumeQueue<EmbedMessage>(sql, {
    queue: "embed",
    wakeChannel: wakeChannelOf("embed"),
    concurrency: 4,
    leaseSeconds: 30,
    timeoutSeconds: (msg) => ("library_index" in msg.message ? 3600 : 120), // a large index builds for minutes
    ...options, // the run's budget, polling, heartbeat and stop signals
    process: async (msg) => {
      const { message } = msg;
      if ("library_index" in message) return await maintainLibraryIndex(sql, { ...msg, message });
      await embedChapter(sql, embedder, { ...msg, message });
      return "completed";
    },
    fail: (msg, error, retryable) =>
      retryOrFail(sql, "embed", msg, retryable, 5, async () => {
        const what = "library_index" in msg.message
          ? `looking after the search index of library ${msg.message.library_index}`
          : `embedding chapter ${msg.message.chapter_id}`;
        console.error(`${what} failed: ${error}`);
        await sql`select pgmq.archive('embed', ${msg.msg_id}::bigint)`;
      }),
  });
}
