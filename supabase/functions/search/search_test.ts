/** Embeddings and search through the real embed queue, match_chapters and its ANN index. */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { requireUser } from "../_shared/auth.ts";
import { LOCAL_JWT_SECRET } from "../_shared/env.ts";
import { offlineEmbedder, vectorLiteral } from "../_shared/providers/embeddings.ts";
import { createTestBook, createTestUser, deleteTestUser, withSql } from "../_shared/testing.ts";
import { runEmbed } from "../../../worker/embed/embed.ts";
import { searchChapters } from "./search.ts";

const CHAPTERS = [
  {
    title: "Harbour",
    content: "The fishing boats returned to the harbour and the nets were hung to dry on the quay.",
  },
  {
    title: "Storm",
    content:
      "Lightning split the sky while the keeper climbed the tower to light the great lamp before the storm.",
  },
  {
    title: "School",
    content: "The children learned arithmetic and reading at the village school beside the church.",
  },
  { title: "Market", content: "On market day farmers sold cheese, bread and apples in the square." },
];

Deno.test("search finds the chapter a query paraphrases, only among the caller's chapters", async () => {
  await withSql(async (sql) => {
    const owner = await createTestUser(sql, "search-owner");
    const other = await createTestUser(sql, "search-other");
    try {
      const { chapterIds } = await createTestBook(sql, owner, CHAPTERS);
      await createTestBook(sql, other, CHAPTERS); // the same text, someone else's
      await runEmbed(sql, offlineEmbedder);
      const [{ n, model }] = await sql`
        select count(*)::integer as n, min(embedding_model) as model from public.chapter_passages
        where chapter_id = any(${chapterIds})`;
      assert.equal(n, 4);
      assert.equal(model, "offline-hashed-bow-1536");
      // One vector per chapter too: the normalised mean of its passages (here one passage each).
      const chapterVectors = await sql`
        select e.chapter_id, e.dimension, e.passage_count, (e.embedding <=> p.embedding) as distance,
          vector_norm(e.embedding) as norm
        from public.chapter_embeddings e join public.chapter_passages p on p.chapter_id = e.chapter_id
        where e.chapter_id = any(${chapterIds})`;
      assert.equal(chapterVectors.length, 4);
      for (const v of chapterVectors) {
        assert.deepEqual([v.dimension, v.passage_count], [1536, 1]);
        assert.ok(v.distance < 1e-6 && Math.abs(v.norm - 1) < 1e-6, JSON.stringify(v));
      }

      const { results } = await searchChapters(sql, offlineEmbedder, owner, {
        query: "a lighthouse keeper lights the lamp during storms",
      });
      assert.equal(results[0].chapter_id, chapterIds[1], JSON.stringify(results));
      assert.ok(results.every((r) => chapterIds.includes(r.chapter_id)), "never another user's chapter");
      assert.equal(results.length, 4);
      assert.ok(results[0].similarity > results[1].similarity, "best first with a real cosine similarity");
      assert.ok(results[0].similarity <= 1 && results[3].similarity >= -1);

      const strangers = await searchChapters(sql, offlineEmbedder, other, {
        query: "keeper lights the lamp",
      });
      assert.ok(strangers.results.every((r) => !chapterIds.includes(r.chapter_id)));
      await assert.rejects(searchChapters(sql, offlineEmbedder, owner, { query: "  " }), /non-empty string/);
      await assert.rejects(
        searchChapters(sql, offlineEmbedder, owner, { query: "x", match_count: 0 }),
        /1 to 100/,
      );

      // Re-embedding unchanged content changes nothing; a change re-embeds.
      const [before] = await sql`select id, updated_at from public.chapter_passages where chapter_id = ${
        chapterIds[0]
      }`;
      await sql`select pgmq.send('embed', ${sql.json({ chapter_id: chapterIds[0] })})`;
      await runEmbed(sql, offlineEmbedder);
      const [same] = await sql`select id, content_hash from public.chapter_passages where chapter_id = ${
        chapterIds[0]
      }`;
      assert.equal(same.id, before.id, "the row is updated in place, not duplicated");
      await sql`update public.chapters set content = 'A whale surfaced near the lighthouse.' where id = ${
        chapterIds[0]
      }`;
      await runEmbed(sql, offlineEmbedder);
      const [changed] =
        await sql`select content, content_hash from public.chapter_passages where chapter_id = ${
          chapterIds[0]
        }`;
      assert.equal(changed.content, "A whale surfaced near the lighthouse.");
      assert.notEqual(changed.content_hash, same.content_hash);
      const [chapterVector] =
        await sql`select content_hash from public.chapter_embeddings where chapter_id = ${chapterIds[0]}`;
      assert.equal(
        chapterVector.content_hash,
        changed.content_hash,
        "the chapter's vector follows its passages",
      );
    } finally {
      await deleteTestUser(sql, owner);
      await deleteTestUser(sql, other);
    }
  });
});

Deno.test("a library that grows large gets its own index from the embed worker (one worker at a time), rebuilt if a build died, dropped when it shrinks", async () => {
  await withSql(async (sql) => {
    const owner = await createTestUser(sql, "search-library");
    const [{ threshold }] =
      await sql`select library_index_threshold as threshold from private.search_settings`;
    const indexOf = async () => {
      const [row] = await sql`
        select private.library_index_relation(${owner}) is not null as present,
          private.library_index(${owner})::text as usable,
          (select pg_get_indexdef(private.library_index(${owner}))) as definition`;
      return row;
    };
    // The chapters nearest a query by brute force over the owner's passages, and as search ranks them.
    const query = "the keeper lights the lamp in the storm";
    const exactOrder = async () => {
      const [{ vector }] = await sql`select ${
        vectorLiteral((await offlineEmbedder.embed([query])).vectors[0])
      } as vector`;
      return (await sql`select chapter_id from public.chapter_passages where user_id = ${owner}
        order by embedding <=> ${vector}::extensions.vector`).map((r) => r.chapter_id);
    };
    try {
      await sql`update private.search_settings set library_index_threshold = 6`;
      const { chapterIds } = await createTestBook(sql, owner, [...CHAPTERS, ...CHAPTERS]); // 8 chapters, a passage each
      // Another worker looking after this library (its session lock held): the request has nothing to do.
      const other = await sql.reserve();
      const lockKey = `library_index:${owner}`;
      await other`select pg_advisory_lock(hashtextextended(${lockKey}, 0))`;
      await runEmbed(sql, offlineEmbedder); // the save that reaches 6 passages asks for the index
      assert.equal((await indexOf()).present, false, "not built while another worker holds the library");
      const [{ waiting }] = await sql`select count(*)::integer as waiting from pgmq.q_embed
        where message ->> 'library_index' = ${owner}`;
      assert.equal(waiting, 0, "the request is done with, not retried");
      await other`select pg_advisory_unlock(hashtextextended(${lockKey}, 0))`;
      other.release();
      await sql`select private.queue_library_index_work()`; // the sweep asks again
      await runEmbed(sql, offlineEmbedder);
      const built = await indexOf();
      assert.ok(built.usable, "the library has a usable index of its own");
      assert.match(built.definition, /USING hnsw \(embedding_half (extensions\.)?halfvec_cosine_ops\)/);
      assert.match(built.definition, new RegExp(`WHERE \\(user_id = '${owner}'::uuid\\)`));
      const { results } = await searchChapters(sql, offlineEmbedder, owner, { query, match_count: 8 });
      assert.deepEqual(
        results.map((r) => r.chapter_id),
        await exactOrder(),
        "through the index, in exact order",
      );

      // A build that died leaves an invalid index of that name: the sweep asks again and the worker rebuilds it.
      await sql.unsafe(`drop index private.${built.usable.replace("private.", "")}`);
      const [{ partition }] =
        await sql`select tableoid::regclass::text as partition from public.chapter_passages
        where user_id = ${owner} limit 1`;
      const [{ name }] = await sql`select private.library_index_name(${owner}) as name`;
      await assert.rejects( // a unique index over equal values fails half way, as a killed build would
        sql.unsafe(
          `create unique index concurrently ${name} on ${partition} (embedding_model) where user_id = '${owner}'`,
        ),
        /could not create unique index/,
      );
      const invalid = await indexOf();
      assert.deepEqual([invalid.present, invalid.usable], [true, null], "an invalid index is not used");
      assert.deepEqual(
        (await searchChapters(sql, offlineEmbedder, owner, { query, match_count: 8 })).results
          .map((r) => r.chapter_id),
        await exactOrder(),
        "meanwhile the library is searched exactly",
      );
      const [{ queued }] = await sql`select private.queue_library_index_work() as queued`;
      assert.ok(queued >= 1);
      await runEmbed(sql, offlineEmbedder);
      const rebuilt = await indexOf();
      assert.ok(rebuilt.usable, "rebuilt");
      assert.match(rebuilt.definition, /USING hnsw/);

      // Under half the threshold the index goes.
      await sql`delete from public.chapters where id = any(${chapterIds.slice(0, 6)})`;
      await sql`select private.queue_library_index_work()`;
      await runEmbed(sql, offlineEmbedder);
      assert.equal((await indexOf()).present, false, "dropped");
      const { results: left } = await searchChapters(sql, offlineEmbedder, owner, { query });
      assert.deepEqual(left.map((r) => r.chapter_id), await exactOrder());
    } finally {
      await deleteTestUser(sql, owner);
      await sql`update private.search_settings set library_index_threshold = ${threshold}`;
      // Indexes this left behind (its own, and any other test library's over the low threshold) go too.
      await sql`select private.queue_library_index_work()`;
      await runEmbed(sql, offlineEmbedder);
    }
  });
});

Deno.test("functions accept only valid user tokens: signed, expiring, for signed-in users", async () => {
  const key = new TextEncoder().encode(LOCAL_JWT_SECRET);
  const user = "00000000-0000-4000-8000-000000000001";
  const sign = (claims: Record<string, unknown>, expires: string | null = "1h") => {
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject(user);
    return (expires ? jwt.setExpirationTime(expires) : jwt).sign(key);
  };
  const request = (auth?: string) =>
    new Request("http://x/", { headers: auth ? { Authorization: auth } : {} });
  const token = await sign({ role: "authenticated", aud: "authenticated" });
  assert.equal(await requireUser(request(`Bearer ${token}`)), user);
  await assert.rejects(requireUser(request()), /send the user's access token/);
  await assert.rejects(requireUser(request(`Bearer ${token}x`)), /invalid or expired/);
  const neverExpires = await sign({ role: "authenticated", aud: "authenticated" }, null);
  await assert.rejects(requireUser(request(`Bearer ${neverExpires}`)), /invalid or expired/);
  const expired = await sign({ role: "authenticated", aud: "authenticated" }, "-1m");
  await assert.rejects(requireUser(request(`Bearer ${expired}`)), /invalid or expired/);
  const noAudience = await sign({ role: "authenticated" });
  await assert.rejects(requireUser(request(`Bearer ${noAudience}`)), /invalid or expired/);
  const otherAudience = await sign({ role: "authenticated", aud: "another-app" });
  await assert.rejects(requireUser(request(`Bearer ${otherAudience}`)), /invalid or expired/);
  const anon = await sign({ role: "anon", aud: "authenticated" });
  await assert.rejects(requireUser(request(`Bearer ${anon}`)), /for signed-in users/);
});

Deno.test("a search over the rate limit is refused before its query is embedded (a paid call), and counts once", async () => {
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "search-limit");
    let embedded = 0;
    const counting = {
      ...offlineEmbedder,
      embed: (texts: string[]) => (embedded++, offlineEmbedder.embed(texts)),
    };
    try {
      await sql`update private.rate_limits set max_calls = 2 where action = 'search'`;
      await searchChapters(sql, counting, userId, { query: "lamps" });
      await searchChapters(sql, counting, userId, { query: "lamps" });
      await assert.rejects(
        searchChapters(sql, counting, userId, { query: "lamps" }),
        /too many search requests/,
      );
      assert.equal(embedded, 2, "the refused search embedded nothing");
    } finally {
      await sql`update private.rate_limits set max_calls = 60 where action = 'search'`;
      await deleteTestUser(sql, userId);
    }
  });
});
