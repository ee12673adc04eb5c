/**
 * Realtime fan-out benchmark: 10 users × 10 tabs, each tab a supabase-js client on the local API
 * watching its user's generation twice: postgres_changes (`id=eq.<generation>`) and the private
 * `generation:<id>` broadcast channel the progress trigger sends to. A writer commits progress
 * updates, stamping the send time in pipeline_metadata; each tab measures stamp → callback.
 * Prints p50/p95 per path and checks that no event reaches another user's tab. Clients, API and
 * writer share this process (and the machine's cores), so the figures include the clients' work.
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { SignJWT } from "jose";
import { createSql } from "../../supabase/functions/_shared/db.ts";
import { createTestBook, createTestUser, deleteTestUser } from "../../supabase/functions/_shared/testing.ts";
import { ANON_KEY, jwtSecret } from "../api/context.ts";
import { startApi } from "../api/server.ts";
import { ms, percentile } from "./lib/stats.ts";

const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const USERS = 10;
const TABS = 10;
/** Progress goes 1..UPDATES on every generation (progress never exceeds 100). */
const UPDATES = 50;
/** Between two commits of the writer, across all generations. */
const WRITE_INTERVAL_MS = 10;

interface Tab {
  client: SupabaseClient;
  generation: string;
}

const latencies = { postgres_changes: [] as number[], broadcast: [] as number[] };
let foreignEvents = 0;

function record(
  path: keyof typeof latencies,
  tab: Tab,
  row: { id: string; pipeline_metadata: { sent_at?: number } },
) {
  if (row.id !== tab.generation) foreignEvents++;
  else if (row.pipeline_metadata.sent_at) latencies[path].push(Date.now() - row.pipeline_metadata.sent_at);
}

const sql = createSql(dbUrl, { max: 4 });
const api = await startApi({ port: 0 });
const users: string[] = [];
const tabs: Tab[] = [];
try {
  const generations: string[] = [];
  for (let u = 0; u < USERS; u++) {
    const userId = await createTestUser(sql, `bench-rt-${u}`);
    users.push(userId);
    const { chapterIds: [chapterId] } = await createTestBook(sql, userId, [{
      title: "One",
      content: "Ada works.",
    }]);
    const [{ id }] = await sql<{ id: string }[]>`
      insert into public.video_generations (user_id, chapter_id, script_style)
      values (${userId}, ${chapterId}, 'narration') returning id`;
    generations.push(id);
    const token = await new SignJWT({ sub: userId, role: "authenticated", aud: "authenticated" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" }).setExpirationTime("1h").sign(jwtSecret);
    for (let t = 0; t < TABS; t++) {
      const client = createClient(api.url, ANON_KEY, { accessToken: () => Promise.resolve(token) });
      await client.realtime.setAuth();
      tabs.push({ client, generation: id });
    }
  }

  const joinStarted = performance.now();
  await Promise.all(tabs.flatMap((tab) => {
    const subscribed = (channel: ReturnType<SupabaseClient["channel"]>) =>
      new Promise<void>((resolve, reject) =>
        channel.subscribe((status, error) =>
          status === "SUBSCRIBED" ? resolve() : reject(error ?? new Error(status))
        )
      );
    return [
      subscribed(
        tab.client.channel(`changes:${tab.generation}`).on("postgres_changes", {
          event: "UPDATE",
          schema: "public",
          table: "video_generations",
          filter: `id=eq.${tab.generation}`,
        }, (payload) => record("postgres_changes", tab, payload.new as never)),
      ),
      subscribed(
        tab.client.channel(`generation:${tab.generation}`, { config: { private: true } })
          .on("broadcast", { event: "UPDATE" }, ({ payload }) => record("broadcast", tab, payload.record)),
      ),
    ];
  }));
  console.log(
    `${tabs.length} clients joined ${tabs.length * 2} channels in ${ms(performance.now() - joinStarted)}`,
  );

  const writeStarted = performance.now();
  for (let progress = 1; progress <= UPDATES; progress++) {
    for (const generation of generations) {
      await sql`update public.video_generations
                set progress_percentage = ${progress},
                    pipeline_metadata = jsonb_build_object('sent_at', ${Date.now()}::bigint)
                where id = ${generation}`;
      await new Promise((resolve) => setTimeout(resolve, WRITE_INTERVAL_MS));
    }
  }
  const writes = UPDATES * generations.length;
  const seconds = (performance.now() - writeStarted) / 1000;
  console.log(`${writes} updates committed in ${seconds.toFixed(1)} s (${(writes / seconds).toFixed(0)}/s)`);

  const expected = writes * TABS;
  const deadline = Date.now() + 10_000;
  while (
    Date.now() < deadline &&
    Math.min(latencies.postgres_changes.length, latencies.broadcast.length) < expected
  ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const [path, values] of Object.entries(latencies)) {
    console.log(
      `${path.padEnd(16)} ${values.length}/${expected} delivered  p50 ${ms(percentile(values, 50))}  ` +
        `p95 ${ms(percentile(values, 95))}  max ${ms(Math.max(...values))}`,
    );
  }
  console.log(`events at another user's tab: ${foreignEvents}`);
} finally {
  await Promise.all(tabs.map(({ client }) => client.removeAllChannels()));
  await api.close();
  const topics = [
    ...users.map((id) => `user:${id}`),
    ...tabs.map(({ generation }) => `generation:${generation}`),
  ];
  await sql`delete from realtime.messages where topic = any(${topics})`;
  for (const userId of users) await deleteTestUser(sql, userId);
  await sql.end();
}
// realtime-js keeps a 10 s timer per disconnected client; nothing else is left to wait for.
Deno.exit(0);
