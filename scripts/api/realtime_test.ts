/**
 * Realtime through the official client: postgres_changes with filters and RLS, private channels,
 * broadcasts from the database and between clients, and token refresh and expiry.
 */
import assert from "node:assert/strict";
import { createClient, type RealtimeChannel, type SupabaseClient } from "@supabase/supabase-js";
import { SignJWT } from "jose";
import {
  createTestBook,
  createTestUser,
  deleteTestUser,
  withSql,
} from "../../supabase/functions/_shared/testing.ts";
import { ANON_KEY, jwtSecret } from "./context.ts";
import { startApi } from "./server.ts";

async function userToken(userId: string, lifetimeSeconds = 3600): Promise<string> {
  return await new SignJWT({ sub: userId, role: "authenticated", aud: "authenticated" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setExpirationTime(Math.floor(Date.now() / 1000) + lifetimeSeconds)
    .sign(jwtSecret);
}

/**
 * A client acting for `token` (anon without one). supabase-js asks its `accessToken` option for the
 * token Realtime uses, and asks again after every join: a bare `realtime.setAuth(token)` would be
 * replaced by the anon key there. `setToken` then `realtime.setAuth()` refreshes it.
 */
async function clientFor(url: string, token?: string, vsn?: "1.0.0") {
  let current = token;
  const client: SupabaseClient = createClient(url, ANON_KEY, {
    ...(token ? { accessToken: () => Promise.resolve(current ?? null) } : {}),
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: vsn ? { vsn } : {},
  });
  // The client fetches the token asynchronously: a channel joined before that joins as anon.
  await client.realtime.setAuth();
  return { client, setToken: (next: string) => current = next };
}

/** Subscribes and resolves with the first status (SUBSCRIBED, or the error). */
function subscribe(channel: RealtimeChannel): Promise<{ status: string; error?: Error }> {
  return new Promise((resolve) => channel.subscribe((status, error) => resolve({ status, error })));
}

async function eventually<T>(what: string, find: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// deno-lint-ignore no-explicit-any
type Received = any[];

Deno.test({
  name: "realtime: postgres_changes, private channels, broadcasts and tokens through supabase-js",
  // realtime-js leaves timers behind: disconnect()'s 10 s fallback, and the timeouts of pushes
  // Realtime never answers (broadcasts without ack, access_token). Sockets and connections close.
  sanitizeOps: false,
  async fn(t) {
    const api = await startApi({ port: 0 });
    const clients: SupabaseClient[] = [];
    const open = async (token?: string, vsn?: "1.0.0") => {
      const opened = await clientFor(api.url, token, vsn);
      clients.push(opened.client);
      return opened;
    };
    const users: string[] = [];
    const topics: string[] = [];
    try {
      const [alice, bob, aliceGeneration, bobGeneration] = await withSql(async (sql) => {
        const ids = [await createTestUser(sql, "rt-alice"), await createTestUser(sql, "rt-bob")];
        users.push(...ids);
        const generations = [];
        for (const id of ids) {
          const { chapterIds: [chapterId] } = await createTestBook(sql, id, [{
            title: "One",
            content: "Text.",
          }]);
          const [{ id: generation }] = await sql<{ id: string }[]>`
            insert into public.video_generations (user_id, chapter_id, script_style)
            values (${id}, ${chapterId}, 'narration') returning id`;
          generations.push(generation);
          topics.push(`user:${id}`, `generation:${generation}`);
        }
        return [...ids, ...generations];
      });
      const aliceToken = await userToken(alice);
      const bobToken = await userToken(bob);
      // Bob's listening clients speak the protocol's JSON version 1.0.0, the others realtime-js's default 2.0.0.
      const openBob = () => open(bobToken, "1.0.0");
      const update = (generation: string, progress: number) =>
        withSql((sql) =>
          sql`update public.video_generations set progress_percentage = ${progress} where id = ${generation}`
        );

      await t.step(
        "postgres_changes: owners get their rows, with filters; others and anon get nothing",
        async () => {
          const aliceChanges: Received = [], aliceInserts: Received = [], bobChanges: Received = [];
          const anonChanges: Received = [];
          const table = { schema: "public", table: "video_generations" };
          const aliceChannel = (await open(aliceToken)).client.channel("alice-changes")
            .on(
              "postgres_changes",
              { event: "*", ...table, filter: `id=eq.${aliceGeneration}` },
              (p) => aliceChanges.push(p),
            )
            .on(
              "postgres_changes",
              { event: "INSERT", ...table, filter: `user_id=eq.${alice}` },
              (p) => aliceInserts.push(p),
            );
          const bobChannel = (await openBob()).client.channel("bob-changes")
            .on("postgres_changes", { event: "*", ...table }, (p) => bobChanges.push(p));
          const anonChannel = (await open()).client.channel("anon-changes")
            .on("postgres_changes", { event: "*", ...table }, (p) => anonChanges.push(p));
          for (const channel of [aliceChannel, bobChannel, anonChannel]) {
            assert.deepEqual(await subscribe(channel), { status: "SUBSCRIBED", error: undefined });
          }

          await update(aliceGeneration, 10);
          await update(bobGeneration, 10);
          // Delivery is in commit order: once Bob has his row, Alice's would have reached him before.
          await eventually("Bob's own update", () => bobChanges.find((p) => p.new.id === bobGeneration));
          const aliceUpdate = await eventually("Alice's update", () => aliceChanges[0]);
          assert.equal(aliceUpdate.eventType, "UPDATE");
          assert.equal(aliceUpdate.schema, "public");
          assert.equal(aliceUpdate.table, "video_generations");
          assert.equal(aliceUpdate.errors, null);
          assert.match(aliceUpdate.commit_timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
          assert.equal(aliceUpdate.new.progress_percentage, 10);
          assert.equal(aliceUpdate.new.total_cost_usd, 0);
          assert.deepEqual(aliceUpdate.new.pipeline_metadata, {});
          assert.equal(aliceUpdate.new.status, "pending");
          assert.match(aliceUpdate.new.created_at, /^\d{4}-\d\d-\d\dT[\d:.]+\+00:00$/);
          assert.deepEqual(aliceUpdate.old, { id: aliceGeneration }, "the default replica identity: the key");
          assert.equal(bobChanges.length, 1, "RLS keeps Alice's row from Bob");
          assert.equal(anonChanges.length, 0, "anon may select no generation");

          // An INSERT reaches the binding whose filter matches; Bob's unfiltered binding does not see it.
          const [second] = await withSql((sql) =>
            sql<{ id: string }[]>`insert into public.video_generations (user_id, chapter_id, script_style)
            select user_id, chapter_id, 'cinematic' from public.video_generations where id = ${aliceGeneration}
            returning id`
          );
          const insert = await eventually("Alice's insert", () => aliceInserts[0]);
          assert.equal(insert.eventType, "INSERT");
          assert.equal(insert.new.id, second.id);
          assert.deepEqual(insert.old, {});

          // Like hosted Realtime, DELETEs skip RLS and carry only the key: Bob and anon see Alice's
          // delete; a filter on a column other than the key never matches one.
          await withSql((sql) => sql`delete from public.video_generations where id = ${second.id}`);
          const bobDelete = await eventually(
            "the delete at Bob",
            () => bobChanges.find((p) => p.eventType === "DELETE"),
          );
          assert.deepEqual(bobDelete.old, { id: second.id });
          assert.deepEqual(bobDelete.new, {});
          await eventually("the delete at anon", () => anonChanges.find((p) => p.eventType === "DELETE"));
          assert.equal(aliceInserts.length, 1);
          assert.equal(aliceChanges.length, 1, "id=eq.<first> does not match the second row's delete");
        },
      );

      await t.step("private channels: only the owner may join", async () => {
        const owner = (await open(aliceToken)).client.channel(`generation:${aliceGeneration}`, {
          config: { private: true },
        });
        assert.equal((await subscribe(owner)).status, "SUBSCRIBED");
        const other = (await open(bobToken)).client.channel(`generation:${aliceGeneration}`, {
          config: { private: true },
        });
        const refused = await subscribe(other);
        assert.equal(refused.status, "CHANNEL_ERROR");
        assert.equal(
          refused.error?.message,
          `Unauthorized: You do not have permissions to read from this Channel topic: generation:${aliceGeneration}`,
        );
        const anon = (await open()).client.channel(`user:${alice}`, { config: { private: true } });
        assert.equal((await subscribe(anon)).status, "CHANNEL_ERROR");
      });

      await t.step("database broadcasts reach the owner's private channels only", async () => {
        const generationEvents: Received = [], userEvents: Received = [], bobEvents: Received = [];
        const publicEvents: Received = [];
        const { client: aliceClient } = await open(aliceToken);
        const channels = [
          aliceClient.channel(`generation:${aliceGeneration}`, { config: { private: true } })
            .on("broadcast", { event: "*" }, (p) => generationEvents.push(p)),
          aliceClient.channel(`user:${alice}`, { config: { private: true } })
            .on("broadcast", { event: "UPDATE" }, (p) => userEvents.push(p)),
          (await openBob()).client.channel(`user:${bob}`, { config: { private: true } })
            .on("broadcast", { event: "*" }, (p) => bobEvents.push(p)),
          // The same topic as a public channel: private messages never reach it.
          (await open(aliceToken)).client.channel(`generation:${aliceGeneration}`)
            .on("broadcast", { event: "*" }, (p) => publicEvents.push(p)),
        ];
        for (const channel of channels) assert.equal((await subscribe(channel)).status, "SUBSCRIBED");

        await update(aliceGeneration, 20);
        await update(bobGeneration, 20);
        await eventually("Bob's broadcast", () => bobEvents[0]);
        const message = await eventually("the generation broadcast", () => generationEvents[0]);
        assert.equal(message.type, "broadcast");
        assert.equal(message.event, "UPDATE");
        assert.equal(message.payload.operation, "UPDATE");
        assert.equal(message.payload.table, "video_generations");
        assert.equal(message.payload.record.id, aliceGeneration);
        assert.equal(message.payload.record.progress_percentage, 20);
        assert.equal(message.payload.old_record.progress_percentage, 10);
        assert.match(message.meta.id, /^[0-9a-f-]{36}$/);
        await eventually("the user broadcast", () => userEvents[0]);
        assert.equal(bobEvents.length, 1);
        assert.equal(bobEvents[0].payload.record.id, bobGeneration);
        assert.equal(publicEvents.length, 0);
      });

      await t.step("client broadcasts: self, ack, and the REST endpoint", async () => {
        const room = `room-${crypto.randomUUID()}`;
        const first: Received = [], second: Received = [];
        const sender = (await open(aliceToken)).client.channel(room, {
          config: { broadcast: { self: true, ack: true } },
        })
          .on("broadcast", { event: "*" }, (p) => first.push(p));
        const receiver = (await openBob()).client.channel(room)
          .on("broadcast", { event: "*" }, (p) => second.push(p));
        for (const channel of [sender, receiver]) {
          assert.equal((await subscribe(channel)).status, "SUBSCRIBED");
        }

        assert.equal(await sender.send({ type: "broadcast", event: "ping", payload: { n: 1 } }), "ok");
        await eventually("ping at the receiver", () => second.find((p) => p.event === "ping"));
        await eventually("ping back at the sender (self)", () => first.find((p) => p.event === "ping"));
        assert.deepEqual(second[0], { type: "broadcast", event: "ping", payload: { n: 1 } });

        await receiver.send({ type: "broadcast", event: "pong", payload: { n: 2 } });
        await eventually("pong at the sender", () => first.find((p) => p.event === "pong"));
        await sender.send({ type: "broadcast", event: "ping", payload: { n: 3 } });
        await eventually("the second ping", () => second.find((p) => p.payload.n === 3));
        assert.equal(
          second.filter((p) => p.event === "pong").length,
          0,
          "no self without config.broadcast.self",
        );

        const restSender = (await open(aliceToken)).client.channel(room);
        assert.deepEqual(await restSender.httpSend("rest", { n: 4 }), { success: true });
        await eventually(
          "the REST broadcast",
          () => second.find((p) => p.event === "rest" && p.payload.n === 4),
        );
      });

      await t.step(
        "broadcast payloads are parsed, never spliced into frames; bad input is answered",
        async () => {
          // A raw vsn 1.0.0 socket (JSON frames) on a public room and Alice's private channel.
          const socket = new WebSocket(
            `${api.url.replace("http", "ws")}/realtime/v1/websocket?apikey=${ANON_KEY}&vsn=1.0.0`,
          );
          const frames: Received = [];
          socket.onmessage = (event) => frames.push(JSON.parse(String(event.data)));
          await new Promise((resolve) => socket.onopen = resolve);
          const closed = new Promise((resolve) => socket.onclose = resolve);
          try {
            const room = `room-${crypto.randomUUID()}`;
            const join = (ref: string, topic: string, payload: unknown) =>
              socket.send(JSON.stringify({ topic, event: "phx_join", ref, join_ref: ref, payload }));
            const reply = (ref: string) =>
              eventually(`reply ${ref}`, () => frames.find((f) => f.event === "phx_reply" && f.ref === ref));
            join("1", `realtime:${room}`, { access_token: aliceToken, config: {} });
            join("2", `realtime:user:${alice}`, { access_token: aliceToken, config: { private: true } });
            // Malformed joins are refused with a reply, not left to time out.
            join("3", "realtime:bad-changes", { config: { postgres_changes: { event: "*" } } });
            join("4", "realtime:bad-token", { access_token: 5, config: {} });
            assert.equal((await reply("1")).payload.status, "ok");
            assert.equal((await reply("2")).payload.status, "ok");
            for (
              const [ref, reason] of [["3", /postgres_changes must be a list/], ["4", /access_token must be/]]
            ) {
              const refused = await reply(ref as string);
              assert.equal(refused.payload.status, "error");
              assert.match(refused.payload.response.reason, reason as RegExp);
            }
            // realtime-js's default protocol (2.0.0, binary broadcasts) on the same room.
            const received: Received = [];
            const listener = (await open(aliceToken)).client.channel(room)
              .on("broadcast", { event: "*" }, (p) => received.push(p));
            assert.equal((await subscribe(listener)).status, "SUBSCRIBED");

            const httpSend = (body: string, topic = room) =>
              fetch(`${api.url}/realtime/v1/api/broadcast/${topic}/events/x`, {
                method: "POST",
                headers: { apikey: ANON_KEY, "Content-Type": "application/json" },
                body,
              });
            // Text that would close the payload early and forge a message onto Alice's private topic.
            const spoof = `{}},"topic":"realtime:user:${alice}","payload":{"event":"UPDATE",` +
              `"payload":{"record":{"status":"completed"}}`;
            const refused = await httpSend(spoof);
            assert.equal(refused.status, 400);
            await refused.body?.cancel();
            const badTopic = await httpSend("{}", "ro%ZZom");
            assert.equal(badTopic.status, 400);
            await badTopic.body?.cancel();
            const accepted = await httpSend(' { "n" : 5 } ');
            assert.equal(accepted.status, 202);
            await eventually("the broadcast (2.0.0)", () => received.find((p) => p.payload.n === 5));
            await eventually(
              "the broadcast (1.0.0)",
              () => frames.find((f) => f.event === "broadcast" && f.payload.payload.n === 5),
            );

            // A binary push (kind 3, JSON encoding) whose JSON is malformed is dropped with an error reply.
            const parts = ["1", "5", `realtime:${room}`, "x", ""].map((part) =>
              new TextEncoder().encode(part)
            );
            const payload = new TextEncoder().encode(`{}},"topic":"realtime:user:${alice}"`);
            const push = new Uint8Array(7 + parts.reduce((n, part) => n + part.length, 0) + payload.length);
            push.set([3, ...parts.map((part) => part.length), 1]);
            let offset = 7;
            for (const part of [...parts, payload]) push.set(part, (offset += part.length) - part.length);
            socket.send(push);
            assert.equal((await reply("5")).payload.status, "error");

            assert.deepEqual(
              frames.filter((f) => f.topic === `realtime:user:${alice}` && f.event === "broadcast"),
              [],
              "nothing reached the private channel",
            );
            assert.equal(received.length, 1);
          } finally {
            socket.close();
            await closed;
          }
        },
      );

      await t.step("token refresh, a refused refresh, and expiry", async () => {
        const aliceUpdates: Received = [], system: Received = [], statuses: string[] = [];
        const { client, setToken } = await open(aliceToken);
        const changes = client.channel("refresh-changes")
          .on("postgres_changes", {
            event: "UPDATE",
            schema: "public",
            table: "video_generations",
            filter: `id=eq.${aliceGeneration}`,
          }, (p) => aliceUpdates.push(p))
          .on("system", {}, (p) => system.push(p));
        const privateChannel = client.channel(`user:${alice}`, { config: { private: true } });
        privateChannel.on("system", {}, (p) => system.push(p));
        assert.equal((await subscribe(changes)).status, "SUBSCRIBED");
        privateChannel.subscribe((status) => statuses.push(status));
        await eventually("the private join", () => statuses.includes("SUBSCRIBED") || undefined);

        // A new token for the same user: the subscription goes on.
        setToken(await userToken(alice, 7200));
        await client.realtime.setAuth();
        await eventually(
          "resubscription",
          () => system.filter((p) => p.message === "Subscribed to PostgreSQL")[1],
        );
        await update(aliceGeneration, 30);
        await eventually("an update after the refresh", () => aliceUpdates[0]);

        // Bob's token may not read Alice's user channel: Realtime closes it, saying why.
        setToken(bobToken);
        await client.realtime.setAuth();
        await eventually("the channel closing", () => statuses.includes("CLOSED") || undefined);
        assert.ok(system.some((p) =>
          p.extension === "system" && p.status === "error" &&
          p.message === `You do not have permissions to read from this Channel topic: user:${alice}`
        ));

        // A token that expires closes the channel when it does.
        const shortLived = (await open(await userToken(alice, 2))).client.channel("short-lived");
        const shortStatuses: string[] = [], shortSystem: Received = [];
        shortLived.on("system", {}, (p) => shortSystem.push(p)).subscribe((status) =>
          shortStatuses.push(status)
        );
        await eventually("expiry", () => shortStatuses.includes("CLOSED") || undefined, 5000);
        assert.match(shortSystem.at(-1).message, /^Token has expired \d+ seconds ago$/);
      });
    } finally {
      await Promise.all(clients.map((client) => client.removeAllChannels()));
      await api.close();
      await withSql(async (sql) => {
        await sql`delete from realtime.messages where topic = any(${topics})`;
        for (const user of users) await deleteTestUser(sql, user);
      });
    }
  },
});
