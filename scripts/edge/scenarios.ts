/**
 * Each Edge-placed function on the largest input the product allows, run by the harness: the test
 * (edge_test.ts) asserts Edge's limits on the figures and the benchmark (scripts/bench/edge.ts) prints them.
 */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { localServiceRoleToken } from "../../supabase/functions/_shared/auth.ts";
import { Stripe } from "../../supabase/functions/_shared/billing/stripe.ts";
import { stripeEvent } from "../../supabase/functions/_shared/billing/stripe_testing.ts";
import { asUser, type Sql } from "../../supabase/functions/_shared/db.ts";
import { LOCAL_JWT_SECRET } from "../../supabase/functions/_shared/env.ts";
import { runWorker } from "../../supabase/functions/_shared/pipeline/worker.ts";
import { hostedScript } from "../../supabase/functions/_shared/providers/hosted_script.ts";
import { MODELS } from "../../supabase/functions/_shared/providers/models.ts";
import { OpenAIClient } from "../../supabase/functions/_shared/providers/openai.ts";
import { SCRIPT_LIMITS } from "../../supabase/functions/_shared/providers/text/script_rules.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import { DEFAULT_LIMITS } from "../../supabase/functions/_shared/books/extract.ts";
import { MAX_CHAPTERS } from "../../supabase/functions/_shared/books/structure.ts";
import { scriptStage } from "../../supabase/functions/pipeline-script/stage.ts";
import { FILES_PER_ROUND, runAccountDeletions } from "../../supabase/functions/delete-account/delete.ts";
import { GoTrueAdmin } from "../../supabase/functions/_shared/auth_admin.ts";
import { SERVICE_ROLE_KEY } from "../api/context.ts";
import { startApi } from "../api/server.ts";
import {
  type ChatAnswers,
  EDGE_LIMITS,
  type EdgeProcess,
  type RecordedProviders,
  type RequestFigures,
  startEdgeFunction,
  startRecordedProviders,
} from "./harness.ts";

export interface ScenarioContext {
  sql: Sql;
  dbUrl: string;
  storageDir: string;
}

export interface ScenarioResult {
  name: string;
  input: string;
  requests: RequestFigures[];
  peakRssMb: number;
  /** The process was still running after the last request (not killed by the heap cap). */
  alive: boolean;
  stderr: string;
}

export interface Scenario {
  input: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

const SUPABASE_URL = "http://127.0.0.1:54321";
/** The largest book: a plain-text file at the upload limit (50 MiB), bytes of text. */
export const LARGEST_BOOK_CHARS = DEFAULT_LIMITS.maxFileBytes - 1024;

const PARAGRAPH =
  `On the morning Mara reached the harbour, gulls circled the boats and the keeper's bell rang twice. ` +
  `"Are you the keeper of the light?" asked Mara. "I am Tomas," he said. "And you are late." ` +
  `That evening in the lamp room, Tomas showed her the great lens, and the storm came in from the west.\n\n`;

async function userToken(userId: string): Promise<string> {
  return await new SignJWT({ sub: userId, role: "authenticated", aud: "authenticated" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(LOCAL_JWT_SECRET));
}

async function newUser(sql: Sql, label: string): Promise<string> {
  const [{ id }] = await sql<{ id: string }[]>`
    insert into auth.users (email) values (${`edge-${label}-${crypto.randomUUID().slice(0, 8)}@test.local`})
    returning id`;
  return id;
}

/**
 * A ready book of `chapters` chapters whose text adds up to `totalChars` (built in SQL); its embed
 * messages are dropped (the worker service's queue, not under test here).
 */
async function bigBook(sql: Sql, userId: string, chapters: number, totalChars: number) {
  const [{ id: bookId }] = await sql<{ id: string }[]>`
    insert into public.books (user_id, title, status) values (${userId}, 'The largest book', 'ready') returning id`;
  const each = Math.floor(totalChars / chapters);
  const ids = await sql<{ id: string }[]>`
    insert into public.chapters (book_id, chapter_number, title, content)
    select ${bookId}, n, 'Chapter ' || n, left(repeat(${PARAGRAPH}, ${
    Math.ceil(each / PARAGRAPH.length)
  }), ${each})
    from generate_series(1, ${chapters}) n returning id`;
  const chapterIds = ids.map((r) => r.id);
  await sql`delete from pgmq.q_embed where message ->> 'chapter_id' = any(${chapterIds})`;
  return { bookId, chapterIds };
}

/** The longest text a script field may hold, so the model's answer is as large as a script can be. */
const filler = (chars: number, seed: string) =>
  (seed + " ").repeat(Math.ceil(chars / (seed.length + 1))).slice(0, chars);

/** A model's answer of 60 scenes, every text at its limit and 40 dialogue lines of 500 characters each. */
export function maximalScenes(): { scenes: unknown[] } {
  const L = SCRIPT_LIMITS;
  return {
    scenes: Array.from({ length: L.scenes }, (_, i) => ({
      location: `the harbour ${i + 1}`,
      time_of_day: "night",
      characters: ["Mara", "Tomas"],
      key_actions: [filler(300, "The keeper climbs the tower"), filler(300, "Mara reads the letter")],
      visual_description: filler(L.textChars, `Scene ${i + 1}: boats crowd the harbour under the storm`),
      audio_requirements: "wind, gulls, creaking ropes",
      narration: filler(L.textChars, "The light turns over the black water"),
      dialogue: Array.from({ length: L.dialogueLines }, (_, j) => ({
        speaker: j % 2 ? "Tomas" : "Mara",
        line: filler(L.lineChars, `Line ${j + 1}, keep the lens clean and it keeps them safe`),
      })),
      estimated_duration_seconds: L.sceneSeconds,
    })),
  };
}

/**
 * The largest script a professional video's ceilings let through (private.tier_ceilings): 60 scenes
 * whose speech adds up to 108,000 characters, every other text at its limit.
 */
export function largestAllowedScenes(): { scenes: unknown[] } {
  return {
    scenes: maximalScenes().scenes.map((scene) => ({
      ...(scene as Record<string, unknown>),
      narration: filler(1800, "The light turns over the black water"),
      dialogue: [],
      estimated_duration_seconds: 120,
    })),
  };
}

/** A plot answer with 10 characters, every field long. */
function maximalPlot() {
  const roles = ["protagonist", "antagonist", "deuteragonist", "mentor", "love_interest", "sidekick"];
  return {
    logline: filler(500, "A keeper and a stranger hold the light through the storm"),
    themes: ["duty", "trust", "the sea"],
    story_type: "voyage and return",
    genre: "literary",
    tone: "brooding",
    audience: "adult",
    setting: filler(500, "A lighthouse on a northern coast"),
    characters: Array.from({ length: 10 }, (_, i) => ({
      name: `Character${i + 1}`,
      role: roles[i % roles.length],
      archetype: "Hero",
      character_arc: filler(600, "Learns to trust"),
      physical_description: filler(600, "Tall and weathered"),
      personality: filler(600, "Stubborn and kind"),
      want: filler(300, "To keep the light"),
      need: filler(300, "To let others help"),
      lie: filler(300, "Alone is safer"),
      ghost: filler(300, "A wreck years ago"),
    })),
  };
}

const CHAT: ChatAnswers = { script_scenes: maximalScenes(), plot_overview: maximalPlot() };

function baseEnv(ctx: ScenarioContext, providers: RecordedProviders): Record<string, string> {
  return {
    SUPABASE_DB_URL: ctx.dbUrl,
    SUPABASE_URL,
    WORKER_POLL_SECONDS: "0",
    WORKER_BUDGET_SECONDS: "100",
    ...(Deno.env.get("EVM_PORT") ? { EVM_PORT: Deno.env.get("EVM_PORT")! } : {}),
    ...providers.env,
  };
}

/** Starts `name` with the recorded providers, runs `body`, and always stops both. */
async function withFunction(
  ctx: ScenarioContext,
  name: string,
  input: string,
  options: { userId?: string; env?: Record<string, string>; modelslabProcessing?: boolean },
  body: (fn: EdgeProcess, providers: RecordedProviders) => Promise<RequestFigures[]>,
): Promise<ScenarioResult> {
  const providers = startRecordedProviders({
    chat: CHAT,
    userId: options.userId,
    modelslabProcessing: options.modelslabProcessing,
  });
  let fn: EdgeProcess | undefined;
  try {
    fn = await startEdgeFunction(name, { ...baseEnv(ctx, providers), ...options.env }, ctx.storageDir);
    const started = fn;
    const requests = await body(fn, providers).catch((error) => {
      const died = started.alive() ? "" : " (the process died)";
      throw new Error(`${name}${died}: ${error.message}\n${started.stderr().slice(-1500)}`);
    });
    return { name, input, requests, peakRssMb: fn.peakRssMb(), alive: fn.alive(), stderr: fn.stderr() };
  } finally {
    await fn?.stop();
    await providers.close();
  }
}

const post = (token: string, body: unknown): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
  body: JSON.stringify(body),
});

/** A queue worker's invocation, as the runner and pg_cron send it. */
async function invokeWorker(fn: EdgeProcess, label: string): Promise<RequestFigures> {
  return await fn.request(label, post(await localServiceRoleToken(), { trigger: "edge-harness" }));
}

function summaryOf(figures: RequestFigures): Record<string, number> {
  assert.equal(figures.status, 200, `${figures.label}: HTTP ${figures.status} ${figures.body}`);
  return JSON.parse(figures.body);
}

async function withUser<T>(sql: Sql, label: string, body: (userId: string) => Promise<T>): Promise<T> {
  const userId = await newUser(sql, label);
  try {
    return await body(userId);
  } finally {
    await sql`delete from auth.users where id = ${userId}`;
  }
}

const MIB = (chars: number) => `${(chars / 1024 / 1024).toFixed(0)} MiB`;

/** What one invocation of delete-account removes at most: a round per message it takes. */
const DELETION_FILES = 3 * FILES_PER_ROUND;

export const SCENARIOS: Record<string, Scenario> = {
  health: {
    input: "GET / (liveness and, with the service role, queue depths)",
    run: (ctx) =>
      withFunction(ctx, "health", SCENARIOS.health.input, {}, async (fn) => {
        const token = await localServiceRoleToken();
        const figures = [
          await fn.request("liveness", { method: "GET" }),
          await fn.request("details", { method: "GET", headers: { Authorization: `Bearer ${token}` } }),
        ];
        for (const f of figures) assert.equal(f.status, 200, f.body);
        assert.equal(JSON.parse(figures[1].body).ok, true, figures[1].body);
        return figures;
      }),
  },

  search: {
    input: "a 2,000-character query, 100 matches, over a library of 5,000 passages",
    run: (ctx) =>
      withUser(ctx.sql, "search", async (userId) => {
        const { chapterIds } = await bigBook(ctx.sql, userId, 50, 50 * 2000);
        await ctx.sql`
          insert into public.chapter_passages
            (chapter_id, user_id, passage_index, content, content_hash, embedding, embedding_model)
          select (${chapterIds}::uuid[])[1 + n % 50], ${userId}, n, 'Passage ' || n, md5(n::text),
            (select array_agg(random() - 0.5) from generate_series(1, 1536) where n > 0)::extensions.vector,
            ${MODELS.openaiEmbedding}
          from generate_series(1, 5000) n`;
        return await withFunction(ctx, "search", SCENARIOS.search.input, {}, async (fn) => {
          const figures = await fn.request(
            "search",
            post(await userToken(userId), {
              query: filler(2000, "the keeper and the storm"),
              match_count: 100,
            }),
          );
          assert.equal(figures.status, 200, figures.body);
          const { results } = JSON.parse(figures.body);
          assert.equal(results.length, 50, "every chapter of the library is a match");
          return [figures];
        });
      }),
  },

  "billing-checkout": {
    input: "a subscription checkout (customer, price and session on recorded Stripe answers)",
    run: (ctx) =>
      withUser(
        ctx.sql,
        "checkout",
        (userId) =>
          withFunction(
            ctx,
            "billing-checkout",
            SCENARIOS["billing-checkout"].input,
            { userId },
            async (fn, p) => {
              const figures = await fn.request(
                "checkout",
                post(await userToken(userId), { tier: "standard" }),
              );
              assert.equal(figures.status, 201, figures.body);
              assert.match(JSON.parse(figures.body).url, /^https:\/\/checkout\.stripe\.com\//);
              assert.ok(p.requests.includes("POST /v1/checkout/sessions"), p.requests.join(", "));
              return [figures];
            },
          ),
      ),
  },

  "billing-portal": {
    input: "a billing portal session (recorded Stripe answer)",
    run: (ctx) =>
      withUser(ctx.sql, "portal", async (userId) => {
        await ctx.sql`update public.user_subscriptions set stripe_customer_id = 'cus_TfLz3kQ8xVb2Ha'
                      where user_id = ${userId}`;
        return await withFunction(
          ctx,
          "billing-portal",
          SCENARIOS["billing-portal"].input,
          { userId },
          async (fn) => {
            const figures = await fn.request("portal", post(await userToken(userId), {}));
            assert.equal(figures.status, 201, figures.body);
            assert.match(JSON.parse(figures.body).url, /^https:\/\/billing\.stripe\.com\//);
            return [figures];
          },
        );
      }),
  },

  "stripe-webhook": {
    input: "signed checkout.session.completed and customer.subscription.created events",
    run: (ctx) =>
      withUser(ctx.sql, "webhook", (userId) => {
        const secret = "whsec_edge_harness";
        const short = userId.slice(0, 8);
        const now = Math.floor(Date.now() / 1000);
        const events = [
          stripeEvent("checkout.session.completed", {
            id: "cs_edge",
            object: "checkout.session",
            client_reference_id: userId,
            customer: `cus_${short}`,
            subscription: `sub_${short}`,
            metadata: { user_id: userId },
          }, now),
          stripeEvent("customer.subscription.created", {
            id: `sub_${short}`,
            object: "subscription",
            customer: `cus_${short}`,
            status: "active",
            cancel_at_period_end: false,
            trial_end: null,
            metadata: { user_id: userId },
            items: {
              object: "list",
              data: [{
                id: "si_1",
                object: "subscription_item",
                current_period_start: now,
                current_period_end: now + 30 * 86_400,
                price: { id: "price_std", object: "price", lookup_key: "litinkai_standard_monthly" },
              }],
            },
          }, now + 1),
        ];
        return withFunction(
          ctx,
          "stripe-webhook",
          SCENARIOS["stripe-webhook"].input,
          { userId, env: { STRIPE_WEBHOOK_SECRET: secret } },
          async (fn) => {
            const signer = new Stripe("sk_test_recorded");
            const figures: RequestFigures[] = [];
            for (const e of events) {
              const body = JSON.stringify(e);
              const signature = await signer.webhooks.generateTestHeaderStringAsync({
                payload: body,
                secret,
              });
              const f = await fn.request(e.type, {
                method: "POST",
                headers: { "Stripe-Signature": signature },
                body,
              });
              assert.equal(f.status, 200, f.body);
              figures.push(f);
            }
            const [{ tier }] = await ctx.sql`
              select tier::text from public.user_subscriptions where user_id = ${userId}`;
            assert.equal(tier, "standard");
            return figures;
          },
        );
      }),
  },

  "generate-script": {
    input: `a chapter of ${
      MIB(LARGEST_BOOK_CHARS)
    } (a book at the upload limit in one chapter), 60 maximal scenes`,
    run: (ctx) =>
      withUser(ctx.sql, "generate", async (userId) => {
        const { chapterIds } = await bigBook(ctx.sql, userId, 1, LARGEST_BOOK_CHARS);
        return await withFunction(
          ctx,
          "generate-script",
          SCENARIOS["generate-script"].input,
          {},
          async (fn) => {
            const figures = await fn.request(
              "generate",
              post(await userToken(userId), { chapter_id: chapterIds[0], style: "cinematic" }),
            );
            assert.equal(figures.status, 201, figures.body);
            assert.equal(JSON.parse(figures.body).scenes, SCRIPT_LIMITS.scenes);
            return [figures];
          },
        );
      }),
  },

  plot: {
    input: `a book of ${MIB(LARGEST_BOOK_CHARS)} in ${MAX_CHAPTERS} chapters (upload and chapter limits)`,
    run: (ctx) =>
      withUser(ctx.sql, "plot", async (userId) => {
        const { bookId } = await bigBook(ctx.sql, userId, MAX_CHAPTERS, LARGEST_BOOK_CHARS);
        await asUser(ctx.sql, userId, (tx) => tx`select public.generate_plot_overview(${bookId})`);
        return await withFunction(ctx, "plot", SCENARIOS.plot.input, {}, async (fn) => {
          const figures = await invokeWorker(fn, "plot");
          const summary = summaryOf(figures);
          const [{ n }] = await ctx.sql`
            select count(*)::int as n from public.plot_overviews where book_id = ${bookId} and status = 'active'`;
          assert.deepEqual([summary.failed, summary.completed >= 1, n], [0, true, 1], figures.body);
          return [figures];
        });
      }),
  },

  mint: {
    input: "a badge minted on the local EVM chain",
    run: (ctx) =>
      withUser(ctx.sql, "mint", async (userId) => {
        const storage = new LocalStorage(ctx.sql, ctx.storageDir, SUPABASE_URL);
        const icon = await Deno.readFile(
          new URL("../../supabase/seed/badges/first-book.svg", import.meta.url),
        );
        await storage.put("badges", "first-book.svg", icon, "image/svg+xml");
        await ctx.sql`select private.record_progress_event(${userId}, 'book_ready', 'edge-harness-book')`;
        const [{ id: badgeId }] = await ctx.sql`select id from public.badges where name = 'First Book'`;
        const wallet = "0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0";
        const nftId = await asUser(
          ctx.sql,
          userId,
          async (tx) =>
            (await tx`select public.request_badge_nft(${badgeId}, 'polygon'::public.blockchain, ${wallet}) as id`)[
              0
            ]
              .id,
        );
        return await withFunction(ctx, "mint", SCENARIOS.mint.input, {}, async (fn) => {
          const figures = await invokeWorker(fn, "mint");
          assert.equal(summaryOf(figures).completed, 1, figures.body);
          const [{ status }] = await ctx.sql`select status::text from public.nfts where id = ${nftId}`;
          assert.equal(status, "minted");
          return [figures];
        });
      }),
  },

  "delete-account": {
    input: `an account of ${
      DELETION_FILES.toLocaleString("en")
    } files (three rounds, one invocation) deleted through the local Storage and Auth APIs`,
    run: async (ctx) => {
      const userId = await newUser(ctx.sql, "delete");
      const api = startApi({ port: 0, dbUrl: ctx.dbUrl, storageDir: ctx.storageDir });
      try {
        await bigBook(ctx.sql, userId, 10, 10 * 2000);
        // The files, in the three buckets a user's folder spans, written as LocalStorage writes them.
        const names = Array.from({ length: DELETION_FILES }, (_, i) => ({
          bucket: ["books", "covers", "media"][i % 3],
          name: `${userId}/${i % 3 === 2 ? "generations/g/" : ""}file-${i}.bin`,
        }));
        for (const { bucket, name } of names) {
          const file = `${ctx.storageDir}/${bucket}/${name}`;
          await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
          await Deno.writeFile(file, new Uint8Array(64));
        }
        await ctx.sql`
          insert into storage.objects (bucket_id, name, owner_id, metadata)
          select b, n, ${userId}, '{"size": 64}'::jsonb
          from unnest(${names.map((f) => f.bucket)}::text[], ${names.map((f) => f.name)}::text[]) f (b, n)`;
        // Deletions earlier tests left (their users deleted at clean-up) are finished first, in this
        // process: the invocation measured works on this account alone.
        await runAccountDeletions({
          sql: ctx.sql,
          storage: new LocalStorage(ctx.sql, ctx.storageDir, api.url),
          auth: new GoTrueAdmin(api.url, SERVICE_ROLE_KEY),
        }, { pollSeconds: 0 });
        const [{ id }] = await asUser(ctx.sql, userId, (tx) => tx`select (public.delete_account()).id`);
        return await withFunction(
          ctx,
          "delete-account",
          SCENARIOS["delete-account"].input,
          { env: { SUPABASE_URL: api.url } },
          async (fn) => {
            const figures = await invokeWorker(fn, "delete");
            assert.equal(summaryOf(figures).completed, 3, figures.body);
            const [row] = await ctx.sql`
              select d.status::text, (select count(*)::int from storage.objects where name like ${`${userId}/%`}) as files,
                (select count(*)::int from auth.users where id = ${userId}) as users
              from public.account_deletions d where d.id = ${id}`;
            assert.deepEqual([row.status, row.files, row.users], ["completed", 0, 0]);
            return [figures];
          },
        );
      } finally {
        await ctx.sql`delete from auth.users where id = ${userId}`;
        await api.close();
      }
    },
  },

  "pipeline-script": {
    input: `a chapter of ${
      MIB(LARGEST_BOOK_CHARS)
    }, 60 maximal scenes shortened to a professional video's ceilings`,
    run: (ctx) =>
      withUser(ctx.sql, "script", async (userId) => {
        await ctx.sql`update public.user_subscriptions set video_count_limit = 1000, tier = 'professional'
          where user_id = ${userId}`;
        const { chapterIds } = await bigBook(ctx.sql, userId, 1, LARGEST_BOOK_CHARS);
        const generationId = await asUser(
          ctx.sql,
          userId,
          async (tx) =>
            (await tx`select public.start_video_generation(${
              chapterIds[0]
            }, 'cinematic', 'professional') as id`)[0]
              .id,
        );
        try {
          return await withFunction(
            ctx,
            "pipeline-script",
            SCENARIOS["pipeline-script"].input,
            {},
            async (fn) => {
              const figures = await invokeWorker(fn, "script");
              // The model's answer is shortened to the quality's ceilings, and the video goes on.
              assert.equal(summaryOf(figures).completed, 1, figures.body);
              const [{ total_scenes, status }] = await ctx.sql`
              select total_scenes, status::text from public.video_generations where id = ${generationId}`;
              assert.equal(total_scenes, SCRIPT_LIMITS.scenes);
              assert.notEqual(status, "failed");
              return [figures];
            },
          );
        } finally {
          await dropGenerationMessages(ctx.sql, generationId);
        }
      }),
  },

  "pipeline-images": {
    input: "60 scene units at 1024x576 (noise JPEGs stored as PNG), one invocation",
    run: (ctx) =>
      withUser(ctx.sql, "images", async (userId) => {
        await ctx
          .sql`update public.user_subscriptions set video_count_limit = 1000 where user_id = ${userId}`;
        const { chapterIds } = await bigBook(ctx.sql, userId, 1, 4000);
        const generationId = await asUser(
          ctx.sql,
          userId,
          async (tx) => (await tx`select public.start_video_generation(${chapterIds[0]}) as id`)[0].id,
        );
        // The largest frames: 1920x1080, which ModelsLab is asked for at 1024x576.
        await ctx
          .sql`update public.video_generations set quality_tier = 'professional' where id = ${generationId}`;
        const providers = startRecordedProviders({
          chat: { ...CHAT, script_scenes: largestAllowedScenes() },
        });
        try {
          const storage = new LocalStorage(ctx.sql, ctx.storageDir, SUPABASE_URL);
          const script = hostedScript(
            new OpenAIClient("sk-recorded", `${providers.url}/openai/v1`),
            MODELS.openaiText,
          );
          const done = await runWorker(ctx.sql, {
            step: "script",
            handler: scriptStage({ storage, providers: { script } }),
            pollSeconds: 0,
          });
          assert.equal(done.completed, 1, "the script stage made the scenes");
        } finally {
          await providers.close();
        }
        const units = async () =>
          await ctx.sql<{ status: string; n: number }[]>`
            select status::text, count(*)::int as n from private.pipeline_units
            where generation_id = ${generationId} and step = 'images' group by status`;
        const total = (await units()).reduce((n, u) => n + u.n, 0);
        assert.ok(total >= SCRIPT_LIMITS.scenes, `${total} image units`);
        try {
          return await withFunction(
            ctx,
            "pipeline-images",
            SCENARIOS["pipeline-images"].input,
            { modelslabProcessing: true },
            async (fn) => {
              const figures = await invokeWorker(fn, "images");
              const summary = summaryOf(figures);
              const byStatus = Object.fromEntries((await units()).map((u) => [u.status, u.n]));
              // It stopped taking messages on its CPU budget: everything it took completed, the rest waits.
              assert.equal(summary.read, summary.completed, figures.body);
              assert.equal(byStatus.completed, summary.completed, JSON.stringify(byStatus));
              assert.equal(byStatus.pending, total - summary.completed, JSON.stringify(byStatus));
              assert.ok(summary.completed > 0 && summary.completed < total, figures.body);
              const [{ queued }] = await ctx.sql`
                select count(*)::int as queued from pgmq.q_images
                where message ->> 'generation_id' = ${generationId}`;
              assert.equal(queued, total - summary.completed, "the rest are still queued");
              const [{ images }] = await ctx.sql`
                select count(*)::int as images from public.image_generations
                where video_generation_id = ${generationId} and status = 'completed'`;
              assert.equal(images, summary.completed);
              return [figures];
            },
          );
        } finally {
          await dropGenerationMessages(ctx.sql, generationId);
        }
      }),
  },
};

/** Queue messages of a generation the test leaves behind (its later stages are not under test). */
async function dropGenerationMessages(sql: Sql, generationId: string) {
  for (const queue of ["script", "images", "audio"]) {
    await sql.unsafe(`delete from pgmq.q_${queue} where message ->> 'generation_id' = $1`, [generationId]);
  }
}

/** Edge's limits on a scenario's figures: each request's CPU and wall time, the process's peak memory. */
export function limitProblems(result: ScenarioResult): string[] {
  const problems: string[] = [];
  if (!result.alive) problems.push(`the process died: ${result.stderr.slice(-500)}`);
  for (const r of result.requests) {
    if (!(r.cpuMs < EDGE_LIMITS.cpuMs)) problems.push(`${r.label}: ${r.cpuMs} ms of CPU`);
    if (!(r.wallSeconds < EDGE_LIMITS.wallSeconds)) {
      problems.push(`${r.label}: ${r.wallSeconds.toFixed(1)} s wall`);
    }
  }
  if (!(result.peakRssMb < EDGE_LIMITS.memoryMb)) problems.push(`peak RSS ${result.peakRssMb.toFixed(0)} MB`);
  return problems;
}
