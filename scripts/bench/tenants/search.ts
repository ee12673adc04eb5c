/**
 * Multi-tenant search benchmark (figures, not a test; its own command: loading takes minutes on two
 * cores). Many users share the partitioned passages table: passages over BENCH_TENANT_USERS users
 * with a skewed library size (most a few books, a few power users), chapters of
 * BENCH_TENANT_CHAPTER passages around one of 250 shared topics (a topic plus two noise vectors from
 * pools, generated in the database so 1,000,000 rows load in minutes). Libraries large enough get
 * their own HNSW index, built after the load by the statements the embed worker runs
 * (private.library_index_work). Queries near a topic, as randomly chosen users, over the whole
 * library and over one book; recall@10 against exact search over that user's (or book's) chapters.
 * Reports p50/p95 and recall per size class, the index build time and size, and the cost of saving
 * a chapter's passages through the embed worker's SQL (private.save_chapter_embeddings).
 * BENCH_TENANT_PASSAGES (1000000), BENCH_TENANT_USERS (1000), BENCH_TENANT_BOOK (passages per book,
 * 4000) and BENCH_TENANT_CHAPTER (passages per chapter, 10) set the scale; BENCH_TENANT_PARTITIONS
 * re-partitions the (empty) table for an experiment and puts the migration's partitions back
 * afterwards. BENCH_TENANT_KEEP=1 keeps the libraries (and an experiment's partitions) afterwards,
 * and measures libraries kept by an earlier run instead of loading.
 */
import { asUser, createSql } from "../../../supabase/functions/_shared/db.ts";
import { hashedEmbedding, vectorLiteral } from "../../../supabase/functions/_shared/providers/embeddings.ts";
import { percentile } from "../lib/stats.ts";

const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const TOTAL = Number(Deno.env.get("BENCH_TENANT_PASSAGES") ?? 1_000_000);
const USERS = Number(Deno.env.get("BENCH_TENANT_USERS") ?? 1_000);
const BOOK = Number(Deno.env.get("BENCH_TENANT_BOOK") ?? 4_000);
const CHAPTER = Number(Deno.env.get("BENCH_TENANT_CHAPTER") ?? 10);
const PARTITIONS = Deno.env.get("BENCH_TENANT_PARTITIONS");
/** Keep the loaded libraries afterwards, and measure ones kept by an earlier run instead of loading. */
const KEEP = Deno.env.get("BENCH_TENANT_KEEP") === "1";
const QUERIES_PER_CLASS = 30;
const INSERTED_CHAPTERS = 20;
const PASSAGES_PER_CHAPTER = 30;
const sql = createSql(dbUrl, { max: 1 }); // one session: the temp tables and settings are its own
const WORDS =
  "harbour lamp storm tide rope boat light glass night morning gull rock cliff wind village letter school river bridge market bread winter summer house door road mountain forest engine signal"
    .split(" ");
const topic = (t: number) =>
  Array.from({ length: 40 }, (_, i) => WORDS[(t * 7 + i * 13) % WORDS.length] + (t % 17)).join(" ");
const seconds = (from: number, to = performance.now()) => ((to - from) / 1000).toFixed(0);

/** Library sizes: a few power users hold a large share, most users a few books (a Zipf-like skew). */
function librarySizes(total: number, users: number): number[] {
  const weights = Array.from({ length: users }, (_, i) => 1 / Math.pow(i + 1, 1.1));
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => Math.max(20, Math.round((w / sum) * total)));
}

const CLASSES = ["under 1,000", "1,000-3,000", "3,000-10,000", "10,000-20,000", "20,000+"];
const classOf = (n: number) => CLASSES[n < 1_000 ? 0 : n < 3_000 ? 1 : n < 10_000 ? 2 : n < 20_000 ? 3 : 4];

/** Replaces the passages' hash partitions by `count` empty ones (the table must be empty). */
async function repartition(count: number) {
  const [{ rows }] = await sql`select count(*)::integer as rows from public.chapter_passages`;
  if (rows > 0) throw new Error("BENCH_TENANT_PARTITIONS needs an empty chapter_passages");
  const partitions = await sql`select inhrelid::regclass::text as name from pg_inherits
    where inhparent = 'public.chapter_passages'::regclass`;
  for (const { name } of partitions) await sql.unsafe(`drop table ${name}`);
  for (let r = 0; r < count; r++) {
    const name = `private.chapter_passages_p${String(r).padStart(2, "0")}`;
    await sql.unsafe(`create table ${name} partition of public.chapter_passages
      for values with (modulus ${count}, remainder ${r})`);
    await sql.unsafe(`alter table ${name} enable row level security`);
    await sql.unsafe(`revoke all on ${name} from public, anon, authenticated`);
  }
}

/** A search to time: a user, a book or the whole library, a query, and the exact tenth distance. */
type Probe = { userId: string; bookId: string | null; query: string; tenth: number };
type ProbeClass = { title: string; members: number; probes: Probe[] };
type Timing = { ms: number; hits: number; asked: number };

/** The distance of the exact tenth chapter (each at its nearest passage) over the user's or book's passages. */
async function exactTenth(userId: string, bookId: string | null, query: string): Promise<number> {
  const truth = await sql<{ distance: number }[]>`
    select min(p.embedding operator(extensions.<=>) ${query}::extensions.vector) as distance
    from public.chapter_passages p
    where p.user_id = ${userId}
      and (${bookId}::uuid is null or p.chapter_id in (select c.id from public.chapters c where c.book_id = ${bookId}))
    group by p.chapter_id order by 1 limit 10`;
  return Number(truth[truth.length - 1]?.distance ?? 2);
}

/** Times match_chapters as the probe's user; a hit is a result as close as the exact tenth (ties are equally right). */
async function search(probe: Probe): Promise<Timing> {
  const t0 = performance.now();
  const got = await asUser(
    sql,
    probe.userId,
    (tx) =>
      tx<
        { similarity: number }[]
      >`select similarity from public.match_chapters(${probe.query}::extensions.vector, 10, ${probe.bookId})`,
  );
  const ms = performance.now() - t0;
  return { ms, hits: got.filter((r) => 1 - Number(r.similarity) <= probe.tenth + 1e-6).length, asked: 10 };
}

function report(title: string, classes: ProbeClass[], cold: Timing[][], warm: Timing[][]) {
  const p = (t: Timing[], q: number) => percentile(t.map((x) => x.ms), q).toFixed(1).padStart(6);
  console.log(
    `  ${title.padEnd(28)}  users  queries  first p50 / p95 (ms)  again p50 / p95 (ms)  recall@10`,
  );
  classes.forEach((c, i) => {
    const hits = warm[i].reduce((n, t) => n + t.hits, 0);
    const asked = warm[i].reduce((n, t) => n + t.asked, 0);
    console.log(
      `  ${c.title.padEnd(28)}  ${String(c.members).padStart(5)}  ${String(c.probes.length).padStart(7)}  ${
        p(cold[i], 50)
      } / ${p(cold[i], 95)}        ${p(warm[i], 50)} / ${p(warm[i], 95)}        ${(hits / asked).toFixed(3)}`,
    );
  });
}

const queryOf = (q: number) =>
  vectorLiteral(hashedEmbedding(topic((q * 53) % 250).split(" ").slice(0, 12).join(" ")));

const originalPartitions = Number(
  (await sql`select count(*)::integer as n from pg_inherits where inhparent = 'public.chapter_passages'::regclass`)[
    0
  ].n,
);
try {
  const sizes = librarySizes(TOTAL, USERS);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (PARTITIONS) await repartition(Number(PARTITIONS));
  const [{ partitions }] = await sql`select count(*)::integer as partitions from pg_inherits
    where inhparent = 'public.chapter_passages'::regclass`;
  console.log(
    `multi-tenant search: ${total.toLocaleString("en")} passages over ${USERS} users (largest ${
      sizes[0].toLocaleString("en")
    }), ${partitions} partitions, books of up to ${BOOK.toLocaleString("en")} passages`,
  );
  const [{ kept }] =
    await sql`select count(*)::integer as kept from auth.users where email like 'tenant-%@bench.local'`;
  if (KEEP && kept > 0) {
    // The libraries of an earlier run with BENCH_TENANT_KEEP=1: users, sizes and books as loaded.
    console.log(`  measuring the ${kept} libraries kept by an earlier run`);
    await sql`create temp table bench_users as
      select split_part(u.email, '-', 2)::int as u, u.id,
        (select count(*)::int from public.chapter_passages p where p.user_id = u.id) as size
      from auth.users u where u.email like 'tenant-%@bench.local'`;
    await sql`create temp table bench_book_list as
      select bu.u, b.user_id, b.id as book_id,
        (select count(*)::int from public.chapter_passages p join public.chapters c on c.id = p.chapter_id
         where p.user_id = b.user_id and c.book_id = b.id and c.chapter_number < 1000000) as passages
      from public.books b join bench_users bu on bu.id = b.user_id`;
  } else {
    if (kept > 0) await sql`delete from auth.users where email like 'tenant-%@bench.local'`;
    const started = performance.now();
    // Topic centroids, and two pools of noise vectors (per dimension uniform, about ±0.02 summed).
    await sql`create temp table bench_topics (t int primary key, v extensions.vector(1536))`;
    const centroids = Array.from({ length: 250 }, (_, t) => vectorLiteral(hashedEmbedding(topic(t))));
    await sql`insert into bench_topics select t - 1, v::extensions.vector from unnest(${centroids}::text[]) with ordinality c (v, t)`;
    await sql`create temp table bench_noise (pool int, i int, v extensions.vector(1536), primary key (pool, i))`;
    await sql`insert into bench_noise select pool, i, (select array_agg((random()::real - 0.5) * 0.028) from generate_series(1, 1536) d
                where i is not null and pool is not null)::extensions.vector
              from (values (1, 1009), (2, 997)) p (pool, size), generate_series(0, p.size - 1) i`;
    await sql`create temp table bench_users (u int primary key, id uuid not null, size int not null)`;
    await sql`
      with created as (
        insert into auth.users (email)
        select 'tenant-' || u || '-' || gen_random_uuid() || '@bench.local' from generate_series(0, ${
      USERS - 1
    }) u
        returning id, email)
      insert into bench_users
      select split_part(c.email, '-', 2)::int, c.id, (${sizes}::int[])[split_part(c.email, '-', 2)::int + 1] from created c`;
    // Each library is cut into books of BOOK passages and chapters of CHAPTER passages around one
    // topic; the chapter's number in the library picks its topic, the passage's number its noise.
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`; // no embed messages, no per-row checks
      await tx`create temp table bench_books on commit drop as
        select u.u, u.id as user_id, b.ordinal, least(${BOOK}, u.size - (b.ordinal - 1) * ${BOOK}) as passages,
          gen_random_uuid() as book_id
        from bench_users u, generate_series(1, ceil(u.size::numeric / ${BOOK})::int) b (ordinal)`;
      await tx`insert into public.books (id, user_id, title, status)
        select book_id, user_id, 'Library ' || ordinal, 'ready' from bench_books`;
      await tx`insert into public.chapters (book_id, chapter_number, title, content)
        select b.book_id, n, 'C' || n, 'x' from bench_books b, generate_series(1, ceil(b.passages::numeric / ${CHAPTER})::int) n`;
      await tx`
        insert into public.chapter_passages (chapter_id, user_id, passage_index, content, content_hash, embedding, embedding_model)
        select c.id, b.user_id, g.i, 'x', 'bench', t.v + a.v + z.v, 'bench'
        from bench_books b
        join public.chapters c on c.book_id = b.book_id
        cross join lateral generate_series(0, least(${CHAPTER}, b.passages - (c.chapter_number - 1) * ${CHAPTER}) - 1) g (i)
        cross join lateral (select (b.ordinal - 1) * ${BOOK} / ${CHAPTER} + c.chapter_number as chapter,
                                   (b.ordinal - 1) * ${BOOK} + (c.chapter_number - 1) * ${CHAPTER} + g.i as n) k
        join bench_topics t on t.t = (k.chapter * 37 + b.u * 11) % 250
        join bench_noise a on a.pool = 1 and a.i = (k.n * 7 + b.u * 13) % 1009
        join bench_noise z on z.pool = 2 and z.i = (k.n * 11 + b.u * 17) % 997`;
      await tx`create table if not exists pg_temp.bench_book_list as select u, user_id, book_id, passages from bench_books`;
    });
    const loaded = performance.now();
    console.log(`  loaded in ${seconds(started, loaded)} s`);
  }
  // The libraries' own indexes brought to their right state by the statements the embed worker runs
  // (after a load: every large library's; on kept libraries: whatever a changed setting asks for).
  await sql.unsafe(`set maintenance_work_mem = '2GB'`);
  const [{ threshold }] = await sql`select private.library_index_threshold() as threshold`;
  const indexing = performance.now();
  let statements = 0;
  for (const user of await sql<{ id: string }[]>`select id from bench_users order by size desc`) {
    for (
      const { statement }
        of await sql`select s.statement from private.library_index_work(${user.id}) s (statement)`
    ) {
      await sql.unsafe(statement);
      statements++;
    }
  }
  const [index] = await sql<{ libraries: number; passages: number; size: number }[]>`
    select count(*)::integer as libraries, coalesce(sum(u.size), 0)::integer as passages,
      coalesce(sum(pg_relation_size(private.library_index(u.id))), 0)::bigint as size
    from bench_users u where private.library_index(u.id) is not null`;
  const [heap] = await sql<{ size: number }[]>`
    select sum(pg_table_size(inhrelid))::bigint as size from pg_inherits where inhparent = 'public.chapter_passages'::regclass`;
  const mb = (b: number) => `${(Number(b) / 1048576).toFixed(0)} MB`;
  console.log(
    `  ${index.libraries} libraries of ${threshold} passages or more have their own index (${
      index.passages.toLocaleString("en")
    } passages, ${mb(index.size)}; ${statements} statements run in ${seconds(indexing)} s); passages table ${
      mb(heap.size)
    }`,
  );
  await sql`analyze public.chapter_passages`;
  await sql`update private.rate_limits set max_calls = 1000000 where action = 'search'`;
  const users = await sql<
    { u: number; id: string; size: number }[]
  >`select u, id, size from bench_users order by u`;

  // The searches: QUERIES_PER_CLASS per library size class (as users of that class) and per book class.
  const books = await sql<{ user_id: string; book_id: string; passages: number }[]>`
    select b.user_id, b.book_id, b.passages from pg_temp.bench_book_list b`;
  const libraryClasses: ProbeClass[] = CLASSES.map((title) => {
    const members = users.filter((u) => classOf(u.size) === title);
    return {
      title,
      members: members.length,
      probes: members.length === 0 ? [] : Array.from({ length: QUERIES_PER_CLASS }, (_, q) => ({
        userId: members[q % members.length].id,
        bookId: null,
        query: queryOf(q),
        tenth: 0,
      })),
    };
  }).filter((c) => c.members > 0);
  const bookClasses: ProbeClass[] = ([
    ["book of 3,000+ passages", books.filter((b) => b.passages >= 3_000)],
    ["book under 3,000 passages", books.filter((b) => b.passages < 3_000)],
  ] as const).map(([title, members]) => ({
    title,
    members: members.length,
    probes: members.length === 0 ? [] : Array.from({ length: QUERIES_PER_CLASS }, (_, q) => {
      const book = members[(q * 7) % members.length];
      return { userId: book.user_id, bookId: book.book_id, query: queryOf(q), tenth: 0 };
    }),
  })).filter((c) => c.members > 0);
  const classes = [...libraryClasses, ...bookClasses];
  // Exact answers first (they read every vector of a library from TOAST, which leaves the cache cold),
  // then every search twice: first after those scans, then again.
  for (const c of classes) {
    for (const probe of c.probes) probe.tenth = await exactTenth(probe.userId, probe.bookId, probe.query);
  }
  const runAll = async () => {
    const out: Timing[][] = [];
    for (const c of classes) {
      const timings: Timing[] = [];
      for (const probe of c.probes) timings.push(await search(probe));
      out.push(timings);
    }
    return out;
  };
  const cold = await runAll();
  const warm = await runAll();
  const split = libraryClasses.length;
  report("library size", libraryClasses, cold.slice(0, split), warm.slice(0, split));
  report("one book", bookClasses, cold.slice(split), warm.slice(split));

  // Saving a chapter's passages as the embed worker does, into the largest and a small library.
  for (const user of [users[0], users[users.length - 1]]) {
    const [{ book_id }] =
      await sql`select id as book_id from public.books where user_id = ${user.id} limit 1`;
    const lat: number[] = [];
    for (let k = 0; k < INSERTED_CHAPTERS; k++) {
      const content = `bench insert ${k} ${crypto.randomUUID()}`;
      const [{ id }] = await sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        return await tx`insert into public.chapters (book_id, chapter_number, title, content)
          values (${book_id}, ${1_000_000 + k}, 'Inserted', ${content}) returning id`;
      });
      const passages = Array.from({ length: PASSAGES_PER_CHAPTER }, (_, i) => ({
        passage_index: i,
        content: `passage ${i}`,
        embedding: vectorLiteral(
          hashedEmbedding(topic((k * 31 + i) % 250).split(" ").slice(i % 20, 20 + i % 20).join(" ")),
        ),
      }));
      const t0 = performance.now();
      await sql`select private.save_chapter_embeddings(0, ${id},
        encode(sha256(convert_to(${content}::text, 'UTF8')), 'hex'), 'bench', ${sql.json(passages)})`;
      lat.push(performance.now() - t0);
    }
    await sql`delete from public.chapters where book_id = ${book_id} and chapter_number >= 1000000`;
    console.log(
      `  saving a chapter of ${PASSAGES_PER_CHAPTER} passages into a library of ${
        user.size.toLocaleString("en")
      }: p50 ${percentile(lat, 50).toFixed(0)} ms, p95 ${percentile(lat, 95).toFixed(0)} ms (${
        (percentile(lat, 50) / PASSAGES_PER_CHAPTER).toFixed(1)
      } ms a passage)`,
    );
  }
} finally {
  await sql`update private.rate_limits set max_calls = 60 where action = 'search'`;
  if (!KEEP) await sql`delete from auth.users where email like 'tenant-%@bench.local'`;
  if (PARTITIONS && Number(PARTITIONS) !== originalPartitions && !KEEP) await repartition(originalPartitions);
  // Indexes of libraries that are gone, dropped as the worker drops them (private.library_index_work).
  const owners = await sql<
    { owner: string }[]
  >`select o::text as owner from private.library_index_owners() o`;
  for (const { owner } of owners) {
    for (
      const { statement }
        of await sql`select s.statement from private.library_index_work(${owner}) s (statement)`
    ) {
      await sql.unsafe(statement);
    }
  }
  await sql.end();
}
