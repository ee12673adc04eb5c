/**
 * Content benchmark (figures, not a test): ingest of a 150,000-word book through the ingest worker,
 * embedding time per chapter, and search latency (p50, p95) with recall@10 against exact search at
 * 10,000 and 100,000 passages of one library: searched exactly, through the library's own HNSW index
 * as the embed worker builds it, and through alternative indexes of its own.
 * BENCH_SEARCH_SIZES=10000,100000 chooses the sizes.
 */
import { createSql } from "../../supabase/functions/_shared/db.ts";
import { offlineContent } from "../../supabase/functions/_shared/providers/content.ts";
import {
  hashedEmbedding,
  offlineEmbedder,
  vectorLiteral,
} from "../../supabase/functions/_shared/providers/embeddings.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import { prose } from "../../supabase/functions/_shared/books/test_fixtures.ts";
import { runIngest } from "../../worker/ingest/ingest.ts";
import { runEmbed } from "../../worker/embed/embed.ts";
import { asUser } from "../../supabase/functions/_shared/db.ts";
import { ms, percentile } from "./lib/stats.ts";

const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const sizes = (Deno.env.get("BENCH_SEARCH_SIZES") ?? "10000,100000").split(",").map(Number);
const sql = createSql(dbUrl, { max: 4 });

async function benchUser(): Promise<string> {
  const [{ id }] =
    await sql`insert into auth.users (email) values (${`bench-${crypto.randomUUID()}@bench.local`}) returning id`;
  return id;
}

async function ingestBench() {
  const userId = await benchUser();
  const dir = await Deno.makeTempDir({ prefix: "litinkai-bench-" });
  try {
    const chapters = Array.from({ length: 50 }, (_, i) => `Chapter ${i + 1}\n\n${prose(3000, i + 1)}`);
    const text = chapters.join("\n\n");
    const storage = new LocalStorage(sql, dir, "http://127.0.0.1:54321");
    const path = `${userId}/bench/book.txt`;
    await storage.put("books", path, new TextEncoder().encode(text), "text/plain");
    const bookId = await asUser(sql, userId, async (tx) => {
      const [{ id }] =
        await tx`insert into public.books (title, file_url, book_type) values ('Bench', ${path}, 'learning') returning id`;
      await tx`select public.process_book(${id})`;
      return id;
    });
    const started = performance.now();
    await runIngest({ sql, storage, content: offlineContent });
    const ingestMs = performance.now() - started;
    const [book] =
      await sql`select status, word_count, total_chapters from public.books where id = ${bookId}`;
    console.log(
      `ingest: ${book.word_count} words, ${book.total_chapters} chapters, status ${book.status}: ${
        (ingestMs / 1000).toFixed(2)
      } s`,
    );

    const embedStarted = performance.now();
    await runEmbed(sql, offlineEmbedder);
    const embedMs = performance.now() - embedStarted;
    const [{ n }] = await sql`
      select count(distinct chapter_id)::integer as n from public.chapter_passages e
      join public.chapters c on c.id = e.chapter_id where c.book_id = ${bookId}`;
    console.log(
      `embedding: ${n} chapters of 3,000 words in ${(embedMs / 1000).toFixed(2)} s, ${
        ms(embedMs / n)
      } per chapter (offline embedder, passages of 400 words)`,
    );
  } finally {
    await sql`delete from auth.users where id = ${userId}`;
    await Deno.remove(dir, { recursive: true });
  }
}

// A corpus with topics, so neighbours exist: each document mixes its topic's words with noise.
// Letter-only words ending in "o" (no stemming rule touches them), so every one is a real term.
const letters = (n: number): string =>
  (n < 26 ? "" : letters(Math.floor(n / 26) - 1)) + String.fromCharCode(97 + (n % 26));
const VOCABULARY = Array.from({ length: 6000 }, (_, i) => `k${letters(i)}o`);
function rng(seed: number) {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
function topicText(topic: number, words: number, random: () => number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    out.push(
      random() < 0.7
        ? VOCABULARY[(topic * 40 + Math.floor(random() * 40)) % VOCABULARY.length]
        : VOCABULARY[Math.floor(random() * VOCABULARY.length)],
    );
  }
  return out.join(" ");
}

// Every variant is the library's own index (a partial index on its partition, under the name search
// looks for), so match_chapters goes through it; "exact" is the library without one.
const HALFVEC = "embedding_half extensions.halfvec_cosine_ops";
const HNSW_M16 = `using hnsw (${HALFVEC}) with (m = 16, ef_construction = 200)`;
const HNSW_M8 = `using hnsw (${HALFVEC}) with (m = 8, ef_construction = 200)`;
const IVFFLAT = `using ivfflat (${HALFVEC}) with (lists = LISTS)`;
/** Index and search settings to compare; nearest_library_chapters' own settings are changed for each run. */
const INDEXES: { name: string; create: string; settings: string[] }[] = [
  { name: "exact (no index of its own)", create: "", settings: [] },
  {
    name: "hnsw m=16 ef_construction=200, ef_search=100",
    create: HNSW_M16,
    settings: ["hnsw.ef_search = 100"],
  },
  {
    name: "hnsw m=16 ef_construction=200, ef_search=200",
    create: HNSW_M16,
    settings: ["hnsw.ef_search = 200"],
  },
  {
    name: "hnsw m=8 ef_construction=200, ef_search=200",
    create: HNSW_M8,
    settings: ["hnsw.ef_search = 200"],
  },
  {
    name: "hnsw m=8 ef_construction=200, ef_search=400 (chosen)",
    create: HNSW_M8,
    settings: ["hnsw.ef_search = 400"],
  },
  { name: "ivfflat lists=sqrt(n), probes=10", create: IVFFLAT, settings: ["ivfflat.probes = 10"] },
  { name: "ivfflat lists=sqrt(n), probes=30", create: IVFFLAT, settings: ["ivfflat.probes = 30"] },
].filter((index) => !Deno.env.get("BENCH_INDEX") || index.name.includes(Deno.env.get("BENCH_INDEX")!));
const NEAREST = "private.nearest_library_chapters(extensions.halfvec, uuid, integer)";

async function searchBench(size: number) {
  const userId = await benchUser();
  const random = rng(size);
  // Hundreds of searches by one user: above the per-user rate limit, which is not what is measured.
  const [{ limit }] = await sql`select max_calls as limit from private.rate_limits where action = 'search'`;
  await sql`update private.rate_limits set max_calls = 1000000 where action = 'search'`;
  try {
    const [{ id: bookId }] =
      await sql`insert into public.books (user_id, title, status) values (${userId}, 'Search bench', 'ready') returning id`;
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`; // no per-chapter embed messages
      await tx`insert into public.chapters (book_id, chapter_number, title, content)
               select ${bookId}, n, 'C' || n, 'x' from generate_series(1, ${size}) n`;
    });
    const chapterIds =
      (await sql`select id from public.chapters where book_id = ${bookId} order by chapter_number`).map((r) =>
        r.id
      );
    try {
      const loadStarted = performance.now();
      for (let start = 0; start < size; start += 1000) {
        const ids = chapterIds.slice(start, start + 1000);
        const vectors = ids.map((_, i) =>
          vectorLiteral(hashedEmbedding(topicText((start + i) % 250, 60, random)))
        );
        await sql`
          insert into public.chapter_passages (chapter_id, user_id, passage_index, content, content_hash, embedding,
            embedding_model)
          select id, ${userId}, 0, 'x', 'bench', v::extensions.vector, 'offline-hashed-bow-1536'
          from unnest(${ids}::uuid[], ${vectors}::text[]) as t (id, v)`;
      }
      console.log(
        `search @ ${size.toLocaleString("en")} embeddings (loaded in ${
          ((performance.now() - loadStarted) / 1000).toFixed(1)
        } s)`,
      );
      await sql`analyze public.chapter_passages`;
      const queries = Array.from(
        { length: 100 },
        (_, i) => vectorLiteral(hashedEmbedding(topicText((i * 7) % 250, 12, random))),
      );
      // Exact top 10 by distance; a result counts as a hit when it is as close as the 10th (ties).
      const exact: number[] = [];
      for (const q of queries) {
        exact.push(
          await asUser(sql, userId, async (tx) => {
            await tx`set local enable_indexscan = off`;
            const rows =
              await tx`select embedding operator(extensions.<=>) ${q}::extensions.vector as distance
            from public.chapter_passages order by 1 limit 10`;
            return Number(rows[rows.length - 1].distance);
          }),
        );
      }
      const [{ name, partition }] = await sql`select private.library_index_name(${userId}) as name,
        (select tableoid::regclass::text from public.chapter_passages where user_id = ${userId} limit 1) as partition`;
      let built: string | undefined;
      let buildSeconds = 0;
      for (const index of INDEXES) {
        const lists = Math.round(Math.sqrt(size));
        if (built !== index.create) {
          await sql.unsafe(`drop index if exists private.${name}`);
          const buildStarted = performance.now();
          if (index.create) {
            await sql.begin(async (tx) => {
              await tx`set local maintenance_work_mem = '2GB'`;
              await tx.unsafe(
                `create index ${name} on ${partition} ${
                  index.create.replace("LISTS", String(lists))
                } where user_id = '${userId}'`,
              );
            });
          }
          buildSeconds = (performance.now() - buildStarted) / 1000;
          built = index.create;
        }
        for (const setting of index.settings) await sql.unsafe(`alter function ${NEAREST} set ${setting}`);
        const latencies: number[] = [];
        let hits = 0;
        for (const [i, q] of queries.entries()) {
          const got: number[] = await asUser(sql, userId, async (tx) => {
            const started = performance.now();
            const rows = await tx`select similarity from public.match_chapters(${q}::extensions.vector, 10)`;
            latencies.push(performance.now() - started);
            return rows.map((r) => 1 - Number(r.similarity));
          });
          hits += got.filter((distance) => distance <= exact[i] + 1e-6).length;
        }
        const plan = await sql.begin(async (tx) => { // as private.nearest_library_chapters runs it
          for (const setting of index.settings) await tx.unsafe(`set local ${setting}`);
          await tx`set local enable_sort = off`;
          const rows = await tx.unsafe(
            `explain select p.chapter_id from public.chapter_passages p where p.user_id = '${userId}'::uuid
            order by p.embedding_half operator(extensions.<=>) $1::extensions.halfvec(1536) limit 200`,
            [queries[0]],
          );
          return rows.map((r) => r["QUERY PLAN"]).find((line: string) => /Index Scan|Seq Scan/.test(line))
            ?.trim();
        });
        console.log(
          `  ${index.name.padEnd(56)} build ${buildSeconds.toFixed(1)} s  p50 ${
            ms(percentile(latencies, 50))
          }  p95 ${ms(percentile(latencies, 95))}  recall@10 ${(hits / (queries.length * 10)).toFixed(3)}${
            index.create ? `  plan: ${plan}` : ""
          }`,
        );
      }
    } finally {
      await sql.unsafe(`alter function ${NEAREST} set hnsw.ef_search = 400`);
      await sql.unsafe(`alter function ${NEAREST} reset ivfflat.probes`);
      const [{ name }] = await sql`select private.library_index_name(${userId}) as name`;
      await sql.unsafe(`drop index if exists private.${name}`);
      await sql`delete from public.chapter_passages e using public.chapters c where c.id = e.chapter_id and c.book_id = ${bookId}`;
    }
  } finally {
    await sql`update private.rate_limits set max_calls = ${limit} where action = 'search'`;
    await sql`delete from auth.users where id = ${userId}`;
  }
}

try {
  await ingestBench();
  for (const size of sizes) await searchBench(size);
} finally {
  await sql.end({ timeout: 5 });
}
