/**
 * The Data API through the official supabase-js client, as our frontend uses it: reads with
 * embedding, filters, ranges and counts, writes with representation, RPC, PostgREST's error
 * shapes, and row level security seen from the outside (anon, another user, the owner, the
 * service role).
 */
import assert from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";
import { SignJWT } from "jose";
import { createSql } from "../../supabase/functions/_shared/db.ts";
import {
  createTestBook,
  createTestUser,
  deleteTestUser,
  testDatabaseUrl,
} from "../../supabase/functions/_shared/testing.ts";
import { ANON_KEY, jwtSecret, SERVICE_ROLE_KEY } from "./context.ts";
import { startApi } from "./server.ts";

const CLIENT_OPTIONS = { auth: { persistSession: false, autoRefreshToken: false } };

/** A user's access token as Auth issues it (HS256 with the local secret). */
async function userToken(userId: string): Promise<string> {
  return await new SignJWT({ sub: userId, role: "authenticated", aud: "authenticated" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setExpirationTime("10m")
    .sign(jwtSecret);
}

Deno.test("the Data API answers supabase-js as PostgREST does", async (t) => {
  const api = await startApi({ port: 0 });
  const sql = createSql(testDatabaseUrl(), { max: 2 });
  const users: string[] = [];
  try {
    const ann = await createTestUser(sql, "rest-ann");
    const ben = await createTestUser(sql, "rest-ben");
    users.push(ann, ben);
    const { bookId, chapterIds } = await createTestBook(sql, ann, [
      { title: "Harbour", content: "Gulls over the boats." },
      { title: "Lamp room", content: "The great lens." },
      { title: "Storm", content: "Wind and rain." },
    ]);
    await sql`update public.chapters set summary = 'calm' where id = ${chapterIds[0]}`;
    const annToken = await userToken(ann);
    const benToken = await userToken(ben);
    const annDb = createClient(api.url, ANON_KEY, {
      ...CLIENT_OPTIONS,
      accessToken: () => Promise.resolve(annToken),
    });
    const benDb = createClient(api.url, ANON_KEY, {
      ...CLIENT_OPTIONS,
      global: { headers: { Authorization: `Bearer ${benToken}` } },
    });
    const anonDb = createClient(api.url, ANON_KEY, CLIENT_OPTIONS);
    const serviceDb = createClient(api.url, SERVICE_ROLE_KEY, CLIENT_OPTIONS);

    await t.step("select with columns, aliases and embedding both ways", async () => {
      const { data, error } = await annDb.from("books")
        .select("id, name:title, chapters(chapter_number, title)")
        .eq("id", bookId)
        .order("chapter_number", { referencedTable: "chapters", ascending: false });
      assert.equal(error, null);
      assert.deepEqual(data, [{
        id: bookId,
        name: "Test book",
        chapters: [
          { chapter_number: 3, title: "Storm" },
          { chapter_number: 2, title: "Lamp room" },
          { chapter_number: 1, title: "Harbour" },
        ],
      }]);

      const toOne = await annDb.from("chapters").select("title, books(title, status)").eq(
        "id",
        chapterIds[0],
      );
      assert.deepEqual(toOne.data, [{ title: "Harbour", books: { title: "Test book", status: "ready" } }]);

      const counted = await annDb.from("books").select("id, chapters(count)").eq("id", bookId);
      assert.deepEqual(counted.data, [{ id: bookId, chapters: [{ count: 3 }] }], "an embedded count");

      const star = await annDb.from("books").select("*").eq("id", bookId).single();
      assert.equal(star.error, null);
      assert.equal(star.data.metadata && typeof star.data.metadata, "object");
      assert.match(star.data.created_at, /^\d{4}-\d\d-\d\dT.*\+00:00$/);

      const inner = await annDb.from("books").select("id, chapters!inner(title)").eq(
        "chapters.title",
        "Storm",
      );
      assert.deepEqual(inner.data, [{ id: bookId, chapters: [{ title: "Storm" }] }]);
      const none = await annDb.from("books").select("id, chapters!inner(title)").eq("chapters.title", "Nope");
      assert.deepEqual(none.data, []);
    });

    await t.step("filters", async () => {
      const titles = async (
        build: (q: ReturnType<typeof base>) => PromiseLike<{ data: unknown; error: unknown }>,
      ) => {
        const { data, error } = await build(base());
        assert.equal(error, null, JSON.stringify(error));
        return (data as { title: string }[]).map((c) => c.title);
      };
      const base = () => annDb.from("chapters").select("title").eq("book_id", bookId).order("chapter_number");
      assert.deepEqual(await titles((q) => q.eq("chapter_number", 2)), ["Lamp room"]);
      assert.deepEqual(await titles((q) => q.neq("chapter_number", 2)), ["Harbour", "Storm"]);
      assert.deepEqual(await titles((q) => q.gt("chapter_number", 2)), ["Storm"]);
      assert.deepEqual(await titles((q) => q.gte("chapter_number", 2)), ["Lamp room", "Storm"]);
      assert.deepEqual(await titles((q) => q.lt("chapter_number", 2)), ["Harbour"]);
      assert.deepEqual(await titles((q) => q.lte("chapter_number", 2)), ["Harbour", "Lamp room"]);
      assert.deepEqual(await titles((q) => q.in("title", ["Storm", "Harbour", "a,b"])), ["Harbour", "Storm"]);
      assert.deepEqual(await titles((q) => q.in("title", [])), []);
      assert.deepEqual(await titles((q) => q.is("summary", null)), ["Lamp room", "Storm"]);
      assert.deepEqual(await titles((q) => q.not("summary", "is", null)), ["Harbour"]);
      assert.deepEqual(await titles((q) => q.like("title", "%room")), ["Lamp room"]);
      assert.deepEqual(await titles((q) => q.like("title", "*room")), ["Lamp room"]);
      assert.deepEqual(await titles((q) => q.ilike("title", "h%")), ["Harbour"]);
      assert.deepEqual(await titles((q) => q.not("title", "ilike", "h%")), ["Lamp room", "Storm"]);
      assert.deepEqual(await titles((q) => q.or("chapter_number.eq.1,title.eq.Storm")), ["Harbour", "Storm"]);
      assert.deepEqual(
        await titles((q) => q.or("title.eq.Storm,and(chapter_number.gt.1,chapter_number.lt.3)")),
        ["Lamp room", "Storm"],
      );
      // A filter value is a parameter: SQL in it is only text.
      assert.deepEqual(await titles((q) => q.eq("title", "x' or 1=1 --")), []);
      const books = await annDb.from("books").select("id").eq("status", "ready").is("genre", null)
        .eq("metadata", "{}").filter("word_count", "gte", 0);
      assert.deepEqual(books.data, [{ id: bookId }]);
    });

    await t.step("order, range and exact counts", async () => {
      const page = await annDb.from("chapters").select("chapter_number", { count: "exact" })
        .eq("book_id", bookId).order("chapter_number", { ascending: false }).range(1, 2);
      assert.equal(page.error, null);
      assert.deepEqual(page.data, [{ chapter_number: 2 }, { chapter_number: 1 }]);
      assert.equal(page.count, 3);
      assert.equal(page.status, 206);

      const head = await annDb.from("chapters").select("*", { count: "exact", head: true }).eq(
        "book_id",
        bookId,
      );
      assert.equal(head.count, 3);
      assert.equal(head.data, null);

      const limited = await annDb.from("chapters").select("title").eq("book_id", bookId)
        .order("summary", { nullsFirst: true }).order("chapter_number").limit(2);
      assert.deepEqual(limited.data, [{ title: "Lamp room" }, { title: "Storm" }]);

      const res = await fetch(`${api.url}/rest/v1/chapters?select=id&book_id=eq.${bookId}`, {
        headers: {
          apikey: ANON_KEY,
          Authorization: `Bearer ${annToken}`,
          Range: "0-1",
          Prefer: "count=exact",
        },
      });
      assert.equal(res.headers.get("Content-Range"), "0-1/3");
      assert.equal((await res.json()).length, 2);
    });

    await t.step("single and maybeSingle", async () => {
      const one = await annDb.from("chapters").select("title").eq("id", chapterIds[1]).single();
      assert.deepEqual(one.data, { title: "Lamp room" });
      const many = await annDb.from("chapters").select("title").eq("book_id", bookId).single();
      assert.equal(many.status, 406);
      assert.equal(many.error?.code, "PGRST116");
      // A singular write that touches several rows is refused and rolled back.
      const several = await annDb.from("chapters").update({ part_title: "One part" }).eq("book_id", bookId)
        .select().single();
      assert.deepEqual([several.status, several.error?.code], [406, "PGRST116"]);
      const [{ parts }] =
        await sql`select count(*)::int as parts from public.chapters where part_title = 'One part'`;
      assert.equal(parts, 0);
      const zero = await annDb.from("chapters").select("title").eq("title", "Nope").single();
      assert.equal(zero.error?.code, "PGRST116");
      const maybe = await annDb.from("chapters").select("title").eq("title", "Nope").maybeSingle();
      assert.deepEqual([maybe.data, maybe.error], [null, null]);
      const maybeOne = await annDb.from("chapters").select("title").eq("id", chapterIds[2]).maybeSingle();
      assert.deepEqual(maybeOne.data, { title: "Storm" });
    });

    await t.step("insert, upsert, update and delete with representation", async () => {
      const inserted = await annDb.from("chapters")
        .insert({ book_id: bookId, chapter_number: 4, title: "Dawn", content: "Light." })
        .select("title, chapter_number, books(title)").single();
      assert.equal(inserted.error, null, JSON.stringify(inserted.error));
      assert.equal(inserted.status, 201);
      assert.deepEqual(inserted.data, { title: "Dawn", chapter_number: 4, books: { title: "Test book" } });

      const minimal = await annDb.from("chapters").insert([
        { book_id: bookId, chapter_number: 5, title: "Five" },
        { book_id: bookId, chapter_number: 6, title: "Six", content: "six" },
      ], { defaultToNull: false });
      assert.deepEqual([minimal.status, minimal.data, minimal.error], [201, null, null]);
      // Without `missing=default` a key missing from one object is null, as in PostgREST.
      const nulls = await annDb.from("chapters").insert([
        { book_id: bookId, chapter_number: 10, title: "Ten" },
        { book_id: bookId, chapter_number: 11, title: "Eleven", content: "x" },
      ]);
      assert.deepEqual([nulls.status, nulls.error?.code], [400, "23502"]);

      const upserted = await serviceDb.from("chapters").upsert(
        [{ book_id: bookId, chapter_number: 5, title: "Five again" }, {
          book_id: bookId,
          chapter_number: 7,
          title: "Seven",
        }],
        { onConflict: "book_id,chapter_number" },
      ).select("chapter_number, title").order("chapter_number");
      assert.equal(upserted.error, null, JSON.stringify(upserted.error));
      assert.deepEqual(upserted.data, [{ chapter_number: 5, title: "Five again" }, {
        chapter_number: 7,
        title: "Seven",
      }]);
      const ignored = await serviceDb.from("chapters")
        .upsert({ book_id: bookId, chapter_number: 7, title: "Ignored" }, {
          onConflict: "book_id,chapter_number",
          ignoreDuplicates: true,
        }).select();
      assert.deepEqual(ignored.data, []);

      const updated = await annDb.from("chapters").update({ title: "Six!" }).eq("book_id", bookId)
        .eq("chapter_number", 6).select("title");
      assert.deepEqual([updated.status, updated.data], [200, [{ title: "Six!" }]]);
      const updatedMinimal = await annDb.from("chapters").update({ part_title: "Part II" }).in(
        "chapter_number",
        [5, 6],
      )
        .eq("book_id", bookId);
      assert.deepEqual([updatedMinimal.status, updatedMinimal.error], [204, null]);

      const deleted = await annDb.from("chapters").delete({ count: "exact" }).eq("book_id", bookId)
        .gte("chapter_number", 4).select("chapter_number").order("chapter_number");
      assert.deepEqual(deleted.data, [4, 5, 6, 7].map((n) => ({ chapter_number: n })));
      assert.equal(deleted.count, 4);
    });

    await t.step("row level security from the outside", async () => {
      for (const [who, client] of [["anon", anonDb], ["ben", benDb]] as const) {
        const books = await client.from("books").select("id, chapters(id)").eq("id", bookId);
        assert.deepEqual([books.data, books.error], [[], null], who);
        const chapters = await client.from("chapters").select("*", { count: "exact" }).eq("book_id", bookId);
        assert.equal(chapters.count, 0, who);
      }
      // Ben changes and deletes nothing of Ann's: 0 rows, no error, as PostgREST.
      const update = await benDb.from("chapters").update({ title: "Mine" }).eq("book_id", bookId).select();
      assert.deepEqual([update.data, update.error], [[], null]);
      const remove = await benDb.from("chapters").delete().eq("book_id", bookId).select();
      assert.deepEqual([remove.data, remove.error], [[], null]);
      const [{ count }] =
        await sql`select count(*)::int from public.chapters where book_id = ${bookId} and title <> 'Mine'`;
      assert.equal(count, 3);

      const benInsert = await benDb.from("chapters").insert({
        book_id: bookId,
        chapter_number: 9,
        title: "Intruder",
      });
      assert.equal(benInsert.status, 403);
      assert.equal(benInsert.error?.code, "42501");
      assert.match(benInsert.error!.message, /row-level security/);

      const owner = await annDb.from("chapters").select("id").eq("book_id", bookId);
      assert.equal(owner.data?.length, 3);
      const all = await serviceDb.from("books").select("id, user_id").in("user_id", [ann, ben]);
      assert.deepEqual(all.data, [{ id: bookId, user_id: ann }]);
    });

    await t.step("column grants and the select policy on returned rows", async () => {
      // Clients may not write a chapter's word_count (only some columns are granted).
      const forbidden = await annDb.from("chapters")
        .insert({ book_id: bookId, chapter_number: 8, title: "Counted", word_count: 5 });
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.error?.code, "42501");
      assert.match(forbidden.error!.message, /permission denied for table chapters/);
      const anonInsert = await anonDb.from("books").insert({ title: "Anon" });
      assert.deepEqual([anonInsert.status, anonInsert.error?.code], [401, "42501"]);

      // An update read back through the select policy, and an insert the policies refuse.
      const profile = await annDb.from("profiles").update({ bio: "hi" }).eq("id", ann).select("bio").single();
      assert.deepEqual(profile.data, { bio: "hi" });
      const givenAway = await annDb.from("books").insert({ title: "Given away", user_id: ben }).select();
      assert.deepEqual([givenAway.status, givenAway.error?.code], [403, "42501"]);
    });

    await t.step("rpc with named arguments", async () => {
      const tiers = await anonDb.rpc("subscription_tiers").select("tier, monthly_price_usd").eq(
        "tier",
        "basic",
      );
      assert.deepEqual(tiers.data, [{ tier: "basic", monthly_price_usd: 9.99 }]);
      const all = await anonDb.rpc("subscription_tiers", {}, { count: "exact" }).order("tier").limit(2);
      assert.equal(all.count, 6);
      assert.equal(all.data?.length, 2);
      const viaGet = await anonDb.rpc("subscription_tiers", {}, { get: true }).eq("tier", "free").single();
      assert.equal((viaGet.data as { max_resolution: string }).max_resolution, "480p");

      // A JSON array becomes the declared vector; nothing indexed yet, so no match.
      const matches = await annDb.rpc("match_chapters", {
        query_embedding: Array(1536).fill(0.01),
        match_count: 3,
      });
      assert.deepEqual([matches.data, matches.error], [[], null]);
      const badCount = await annDb.rpc("match_chapters", {
        query_embedding: Array(1536).fill(0.01),
        match_count: 0,
      });
      assert.deepEqual([badCount.status, badCount.error?.code], [400, "22023"]);

      const quiz = await anonDb.rpc("verify_email", { token: "nope" });
      assert.deepEqual([quiz.status, quiz.error?.code], [401, "42501"]);
      const missing = await annDb.rpc("no_such_function", { a: 1 });
      assert.deepEqual([missing.status, missing.error?.code], [404, "PGRST202"]);
      const wrongArgs = await annDb.rpc("match_chapters", { nope: 1 });
      assert.equal(wrongArgs.error?.code, "PGRST202");

      // An exact count does not run the function a second time (submit_quiz records an attempt).
      await sql`
        update public.chapters
        set ai_content = ${sql.json({ quiz: [{ question: "q", options: ["a", "b"], answer_index: 0 }] })}
        where id = ${chapterIds[2]}`;
      const graded = await annDb.rpc("submit_quiz", { chapter_id: chapterIds[2], answers: [0] }, {
        count: "exact",
      });
      assert.equal(graded.error, null);
      const [{ attempts }] = await sql<{ attempts: number }[]>`
        select count(*)::int as attempts from public.quiz_attempts where user_id = ${ann}`;
      assert.equal(attempts, 1);
    });

    await t.step("overloaded functions: one that fits is called, an ambiguous call is PGRST203", async () => {
      // Made for this step (the schema has no overloads) and always dropped.
      const name = `rest_overload_${crypto.randomUUID().slice(0, 8)}`;
      await sql.unsafe(
        `create function public.${name}(a integer) returns text language sql as $$ select 'integer' $$;
        create function public.${name}(a text) returns text language sql as $$ select 'text' $$;
        create function public.${name}(a integer, b integer) returns text language sql as $$ select 'two' $$`,
      );
      try {
        const two = await annDb.rpc(name, { a: 1, b: 2 });
        assert.deepEqual([two.status, two.data], [200, "two"]);
        const ambiguous = await annDb.rpc(name, { a: 1 });
        assert.deepEqual([ambiguous.status, ambiguous.error?.code], [300, "PGRST203"]);
      } finally {
        await sql.unsafe(`drop function public.${name}(integer); drop function public.${name}(text);
          drop function public.${name}(integer, integer)`);
      }
    });

    await t.step("errors as PostgREST shapes them", async () => {
      const table = await annDb.from("no_such_table").select();
      assert.deepEqual([table.status, table.error?.code], [404, "PGRST205"]);
      const column = await annDb.from("books").select("id, nope");
      assert.deepEqual([column.status, column.error?.code], [400, "42703"]);
      const filterColumn = await annDb.from("books").select("id").eq("nope", 1);
      assert.equal(filterColumn.error?.code, "42703");
      const writeColumn = await annDb.from("books").insert({ nope: 1 });
      assert.deepEqual([writeColumn.status, writeColumn.error?.code], [400, "PGRST204"]);
      const relation = await annDb.from("books").select("id, badges(id)");
      assert.deepEqual([relation.status, relation.error?.code], [400, "PGRST200"]);
      const ambiguous = await annDb.from("user_roles").select("role_name, profiles(id)");
      assert.deepEqual([ambiguous.status, ambiguous.error?.code], [300, "PGRST201"]);
      const hinted = await annDb.from("user_roles").select("role_name, profiles!user_roles_user_id_fkey(id)");
      assert.equal(hinted.error, null);
      const operator = await annDb.from("books").select("id").filter("title", "nope", "x");
      assert.deepEqual([operator.status, operator.error?.code], [400, "PGRST100"]);
      const badValue = await annDb.from("books").select("id").eq("id", "not-a-uuid");
      assert.deepEqual([badValue.status, badValue.error?.code], [400, "22P02"]);
      const duplicate = await annDb.from("chapters").insert({
        book_id: bookId,
        chapter_number: 1,
        title: "Again",
      });
      assert.deepEqual([duplicate.status, duplicate.error?.code], [409, "23505"]);
      const check = await annDb.from("books").insert({ title: " " });
      assert.deepEqual([check.status, check.error?.code], [400, "23514"]);
      const schema = await annDb.schema("auth").from("users").select();
      assert.deepEqual([schema.status, schema.error?.code], [406, "PGRST106"]);
      const toOneCount = await annDb.from("chapters").select("title, books(count)");
      assert.equal(toOneCount.status, 501);
      const badPath = await fetch(`${api.url}/rest/v1/bo%ZZoks`, { headers: { apikey: ANON_KEY } });
      assert.deepEqual([badPath.status, (await badPath.json()).code], [400, "PGRST100"]);
      // A body past the cap is refused while it streams, not read whole.
      let sent = 0, answered = false;
      const chunk = new TextEncoder().encode(`{"title":"${"x".repeat(64 * 1024)}"},`);
      const huge = await fetch(`${api.url}/rest/v1/books`, {
        method: "POST",
        headers: {
          apikey: ANON_KEY,
          Authorization: `Bearer ${annToken}`,
          "Content-Type": "application/json",
        },
        body: new ReadableStream({
          start: (controller) => controller.enqueue(new TextEncoder().encode("[")),
          pull: (controller) => {
            if (answered || sent > 64 * 1024 * 1024) return controller.close();
            controller.enqueue(chunk);
            sent += chunk.length;
          },
        }),
      });
      answered = true;
      assert.equal(huge.status, 413);
      assert.ok(sent < 32 * 1024 * 1024, `${sent} bytes were read before the refusal`);
      await huge.body?.cancel();
      const spread = await annDb.from("chapters").select("title, ...books(title)");
      assert.equal(spread.status, 501);
      const rollback = await annDb.from("books").select().rollback();
      assert.equal(rollback.status, 501);
      const fts = await annDb.from("chapters").select().textSearch("content", "lens");
      assert.equal(fts.status, 501);
      const noKey = await fetch(`${api.url}/rest/v1/books`);
      assert.equal(noKey.status, 401);
      await noKey.body?.cancel();
    });
  } finally {
    for (const user of users) await deleteTestUser(sql, user);
    await sql.end({ timeout: 5 });
    await api.close();
  }
});
