/**
 * Multi-tenant search benchmark (figures, not a test; its own command: loading takes minutes on two
 * cores). Many users share one index: passages over BENCH_TENANT_USERS users with a skewed library
 * size (most a few books, a few power users), vectors drawn around 250 shared topics (generated in
 * the database), one HNSW index as the migrations create it. Queries near a topic, as randomly
 * chosen users; recall@10 against exact search over that user's own passages. Reports p50/p95 and
 * recall per library size class, the index build time and size.
 * BENCH_TENANT_PASSAGES (200000) and BENCH_TENANT_USERS (200) set the scale.
 */
import { asUser, createSql } from "../../../supabase/functions/_shared/db.ts";
import { hashedEmbedding, vectorLiteral } from "../../../supabase/functions/_shared/providers/embeddings.ts";
import { percentile } from "../lib/stats.ts";

const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const TOTAL = Number(Deno.env.get("BENCH_TENANT_PASSAGES") ?? 200_000);
const USERS = Number(Deno.env.get("BENCH_TENANT_USERS") ?? 200);
const QUERIES_PER_CLASS = 30;
/** The migration's ANN index (supabase/migrations/..._library.sql), dropped for the load and built after it. */
const HNSW_INDEX = `create index chapter_passages_embedding_hnsw_idx on public.chapter_passages
  using hnsw ((embedding::extensions.halfvec(1536)) extensions.halfvec_cosine_ops) with (m = 16, ef_construction = 200)`;
const sql = createSql(dbUrl, { max: 4 });
const WORDS =
  "harbour lamp storm tide rope boat light glass night morning gull rock cliff wind village letter school river bridge market bread winter summer house door road mountain forest engine signal"
    .split(" ");
const topic = (t: number) =>
  Array.from({ length: 40 }, (_, i) => WORDS[(t * 7 + i * 13) % WORDS.length] + (t % 17)).join(" ");

/** Library sizes: a few power users hold a large share, most users a few books (a Zipf-like skew). */
function librarySizes(total: number, users: number): number[] {
  const weights = Array.from({ length: users }, (_, i) => 1 / Math.pow(i + 1, 1.1));
  const sum = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.max(20, Math.round((w / sum) * total)));
  return sizes;
}

const classOf = (
  n: number,
) => (n < 1_000 ? "under 1,000" : n < 3_000 ? "1,000-3,000" : n < 20_000 ? "3,000-20,000" : "20,000+");

try {
  const sizes = librarySizes(TOTAL, USERS);
  const total = sizes.reduce((a, b) => a + b, 0);
  console.log(
    `multi-tenant search: ${total.toLocaleString("en")} passages over ${USERS} users (largest ${
      sizes[0].toLocaleString("en")
    })`,
  );
  const started = performance.now();
  await sql`create temp table if not exists bench_topics (t int primary key, v real[])`;
  const centroids = Array.from({ length: 250 }, (_, t) => hashedEmbedding(topic(t)));
  await sql`insert into bench_topics ${sql(centroids.map((v, t) => ({ t, v })))} on conflict do nothing`;
  const users: { id: string; size: number }[] = [];
  for (const size of sizes) {
    const [{ id }] =
      await sql`insert into auth.users (email) values (${`tenant-${crypto.randomUUID()}@bench.local`}) returning id`;
    users.push({ id, size });
  }
  // Books of 100 chapters, one passage per chapter; vectors generated in the database around a topic.
  await sql.unsafe(`set maintenance_work_mem = '2GB'`);
  await sql`drop index if exists public.chapter_passages_embedding_hnsw_idx`;
  for (const [u, user] of users.entries()) {
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      const [{ id: bookId }] =
        await tx`insert into public.books (user_id, title, status) values (${user.id}, 'Library', 'ready') returning id`;
      await tx`insert into public.chapters (book_id, chapter_number, title, content)
               select ${bookId}, n, 'C' || n, 'x' from generate_series(1, ${user.size}) n`;
      await tx`
        insert into public.chapter_passages (chapter_id, user_id, passage_index, content, content_hash, embedding, embedding_model)
        select c.id, ${user.id}, 0, 'x', 'bench', (
          select array_agg(x.val + (random()::real - 0.5) * 0.04 order by x.i) from bench_topics t,
            unnest(t.v) with ordinality x (val, i) where t.t = (c.chapter_number * 37 + ${u * 11}) % 250
        )::extensions.vector, 'bench'
        from public.chapters c where c.book_id = ${bookId}`;
    });
  }
  const loaded = performance.now();
  console.log(`  loaded in ${((loaded - started) / 1000).toFixed(0)} s`);
  await sql.unsafe(HNSW_INDEX);
  const built = performance.now();
  const [{ size }] =
    await sql`select pg_size_pretty(pg_relation_size('public.chapter_passages_embedding_hnsw_idx')) as size`;
  console.log(`  index built in ${((built - loaded) / 1000).toFixed(0)} s, ${size}`);
  await sql`analyze public.chapter_passages`;
  await sql`update private.rate_limits set max_calls = 1000000 where action = 'search'`;

  const byClass = new Map<string, { lat: number[]; hits: number; asked: number }>();
  for (const cls of ["under 1,000", "1,000-3,000", "3,000-20,000", "20,000+"]) {
    const members = users.filter((u) => classOf(u.size) === cls);
    if (members.length === 0) continue;
    const stats = { lat: [] as number[], hits: 0, asked: 0 };
    for (let q = 0; q < QUERIES_PER_CLASS; q++) {
      const user = members[q % members.length];
      const query = vectorLiteral(hashedEmbedding(topic((q * 53) % 250).split(" ").slice(0, 12).join(" ")));
      const truth = await sql<{ distance: number }[]>`
        select embedding operator(extensions.<=>) ${query}::extensions.vector as distance
        from public.chapter_passages where user_id = ${user.id}
        order by embedding operator(extensions.<=>) ${query}::extensions.vector limit 10`;
      const t0 = performance.now();
      const got = await asUser(
        sql,
        user.id,
        (tx) =>
          tx<
            { similarity: number }[]
          >`select similarity from public.match_chapters(${query}::extensions.vector, 10)`,
      );
      stats.lat.push(performance.now() - t0);
      // A hit is a result as close as the exact tenth (passages at the same distance are equally right).
      const tenth = Number(truth[truth.length - 1]?.distance ?? 2);
      stats.hits += got.filter((r) => 1 - Number(r.similarity) <= tenth + 1e-6).length;
      stats.asked += truth.length;
    }
    byClass.set(cls, stats);
  }
  console.log("  library size    users  queries  p50 (ms)  p95 (ms)  recall@10");
  for (const [cls, s] of byClass) {
    const lat = s.lat.sort((a, b) => a - b);
    console.log(
      `  ${cls.padEnd(14)}  ${String(users.filter((u) => classOf(u.size) === cls).length).padStart(5)}  ${
        String(lat.length).padStart(7)
      }  ${percentile(lat, 50).toFixed(1).padStart(8)}  ${percentile(lat, 95).toFixed(1).padStart(8)}  ${
        (s.hits / s.asked).toFixed(3).padStart(9)
      }`,
    );
  }
  await sql`update private.rate_limits set max_calls = 60 where action = 'search'`;
  await sql`delete from auth.users where email like 'tenant-%@bench.local'`;
} finally {
  // The migration's index is put back whatever happened (it was dropped for a faster load).
  const [{ missing }] =
    await sql`select to_regclass('public.chapter_passages_embedding_hnsw_idx') is null as missing`;
  if (missing) {
    await sql.unsafe(HNSW_INDEX);
  }
  await sql.end();
}
