/**
 * Audiobook exports end to end on the local stack: a chapter whose video the offline pipeline made,
 * as M4B and MP3 (checked with ffprobe), watched through Realtime and downloaded through Storage; a
 * whole book narrated for the export; failures; and the period's budget.
 */
import assert from "node:assert/strict";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { SignJWT } from "jose";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { errorForStatus, PermanentError, RetryableError } from "../../supabase/functions/_shared/errors.ts";
import { run, wavSeconds } from "../../supabase/functions/_shared/media.ts";
import { offlineProviders } from "../../supabase/functions/_shared/providers/offline.ts";
import type { SpeechProvider } from "../../supabase/functions/_shared/providers/types.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import {
  asUser,
  createTestBook,
  createTestUser,
  deleteTestUser,
  SAMPLE_CHAPTER,
  withSql,
} from "../../supabase/functions/_shared/testing.ts";
import { ANON_KEY, jwtSecret } from "../../scripts/api/context.ts";
import { startApi } from "../../scripts/api/server.ts";
import { drivePipeline, stageHandlers } from "../../scripts/pipeline/drive.ts";
import {
  CHUNK_CHARACTERS,
  ffmetadata,
  runAudiobookExport,
  SEGMENT_CHARACTERS,
  speechChunks,
  speechSegments,
} from "./export.ts";

interface Probed {
  format: { format_name: string; duration: string };
  streams: { codec_type: string; codec_name: string; disposition?: { attached_pic?: number } }[];
  chapters: { start_time: string; end_time: string; tags?: { title?: string } }[];
}

async function probe(file: string): Promise<Probed> {
  return JSON.parse(
    await run("ffprobe", [
      "-v",
      "error",
      "-show_entries",
      "format=format_name,duration:stream=codec_type,codec_name:stream_disposition=attached_pic:chapter=start_time,end_time:chapter_tags=title",
      "-of",
      "json",
      file,
    ]),
  );
}

/** Runs the worker until the export is completed or failed; returns its row. */
async function exportUntilDone(
  sql: Sql,
  storage: LocalStorage,
  exportId: string,
  speech: SpeechProvider = offlineProviders.speech,
) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await runAudiobookExport({ sql, storage, providers: { speech } }, { pollSeconds: 0, budgetMs: 60_000 });
    const [row] = await sql`select * from public.audiobook_exports where id = ${exportId}`;
    if (row.status === "completed" || row.status === "failed") return row;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`export ${exportId} did not finish in time`);
}

/** Speech through espeak-ng, counting what it was asked to say. */
function countingSpeech(fail?: (text: string, call: number) => Error | undefined) {
  const said: string[] = [];
  const speech: SpeechProvider = {
    speak(text, voice, speaker, model) {
      said.push(text);
      const error = fail?.(text, said.filter((t) => t === text).length);
      if (error) return Promise.reject(error);
      return offlineProviders.speech.speak(text, voice, speaker, model);
    },
  };
  return { speech, said };
}

async function tokenFor(userId: string): Promise<string> {
  return await new SignJWT({ sub: userId, role: "authenticated", aud: "authenticated" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
    .sign(jwtSecret);
}

async function clientFor(url: string, userId: string): Promise<SupabaseClient> {
  const token = await tokenFor(userId);
  const client = createClient(url, ANON_KEY, {
    accessToken: () => Promise.resolve(token),
    auth: { persistSession: false, autoRefreshToken: false },
  });
  await client.realtime.setAuth();
  return client;
}

async function eventually<T>(what: string, find: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const close = (a: number, b: number, within: number, what: string) =>
  assert.ok(Math.abs(a - b) <= within, `${what}: ${a} and ${b} differ by more than ${within}`);

Deno.test("speech chunks: within a call's size, in order, nothing lost, the same every time", () => {
  const sentence = "The keeper climbed the stair and trimmed the wick before the storm. ";
  const text = `Arrival\n\n${"Short paragraph.\n\n".repeat(40)}${sentence.repeat(120)}\n\n${
    "x".repeat(6000)
  }`;
  const chunks = speechChunks(text);
  assert.ok(chunks.every((c) => [...c].length <= CHUNK_CHARACTERS));
  assert.equal(
    chunks.join(" ").replace(/\s+/g, ""),
    text.replace(/\s+/g, ""),
    "every character is spoken once",
  );
  assert.ok(chunks[1].endsWith("storm."), "a long paragraph is cut after a sentence");
  assert.deepEqual(speechChunks(text), chunks);
  const segments = speechSegments(`${sentence.repeat(700)}`);
  assert.ok(segments.length >= 2);
  assert.ok(segments.every((s) => s.reduce((n, c) => n + c.length, 0) <= SEGMENT_CHARACTERS));
  assert.deepEqual(segments.flat(), speechChunks(sentence.repeat(700)));
});

Deno.test("ffmetadata: tags and chapters, with FFMETADATA's special characters escaped", () => {
  assert.equal(
    ffmetadata({ title: "A=B; #1", artist: null }, [
      {
        position: 1,
        chapter_id: null,
        chapter_number: 1,
        title: "One\\Two",
        source: "narration",
        start_ms: 0,
        end_ms: 1500,
      },
    ]),
    ";FFMETADATA1\ntitle=A\\=B\\; \\#1\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=One\\\\Two\n",
  );
});

Deno.test({
  name: "a chapter's video narration exports to M4B and MP3, watched through Realtime, read through Storage",
  sanitizeOps: false, // realtime-js leaves its timers behind
  sanitizeResources: false,
  async fn(t) {
    const storageDir = await Deno.makeTempDir({ prefix: "litinkai-audiobook-" });
    const api = await startApi({ port: 0, storageDir });
    const clients: SupabaseClient[] = [];
    await withSql(async (sql) => {
      const owner = await createTestUser(sql, "audiobook-owner");
      const other = await createTestUser(sql, "audiobook-other");
      const storage = new LocalStorage(sql, storageDir, api.url);
      try {
        const { bookId, chapterIds: [chapterId] } = await createTestBook(sql, owner, [{
          title: "The Harbour",
          content: SAMPLE_CHAPTER,
        }]);
        const generationId = await asUser(sql, owner, async (tx) => {
          const [{ id }] = await tx<{ id: string }[]>`
            select public.start_video_generation(${chapterId}, 'cinematic', 'free') as id`;
          return id;
        });
        const status = await drivePipeline(sql, generationId, {
          handlers: stageHandlers({ storage, providers: offlineProviders }),
        });
        assert.equal(status, "completed");
        // The narration: the audio stage's scene tracks, as long as their WAV files are.
        const tracks = await sql<{ storage_path: string }[]>`
          select result ->> 'storage_path' as storage_path from private.pipeline_units
          where generation_id = ${generationId} and step = 'audio' order by scene_number`;
        let narrationSeconds = 0;
        for (const track of tracks) {
          narrationSeconds += wavSeconds(await Deno.readFile(`${storageDir}/media/${track.storage_path}`))!;
        }
        // A cover the owner uploaded to the covers bucket.
        const coverFile = `${storageDir}/cover-source.png`;
        await run("ffmpeg", [
          "-v",
          "error",
          "-y",
          "-f",
          "lavfi",
          "-i",
          "color=c=navy:s=800x1200",
          "-frames:v",
          "1",
          coverFile,
        ]);
        await storage.put("covers", `${owner}/harbour.png`, await Deno.readFile(coverFile), "image/png");
        await sql`update public.books set cover_url = ${`${owner}/harbour.png`}, author = 'A. Keeper' where id = ${bookId}`;

        const ownerClient = await clientFor(api.url, owner);
        const otherClient = await clientFor(api.url, other);
        clients.push(ownerClient, otherClient);
        // deno-lint-ignore no-explicit-any
        const seen: Record<string, any[]> = { owner: [], other: [] };
        for (const [who, client] of [["owner", ownerClient], ["other", otherClient]] as const) {
          const channel = client.channel(`exports-${who}`).on(
            "postgres_changes",
            { event: "*", schema: "public", table: "audiobook_exports" },
            (change) => seen[who].push(change),
          );
          await new Promise<void>((resolve, reject) =>
            channel.subscribe((state, error) =>
              state === "SUBSCRIBED" ? resolve() : reject(error ?? new Error(state))
            )
          );
        }

        let m4b = "";
        await t.step(
          "M4B: AAC, the chapter's title at its times, the cover, the narration's length",
          async () => {
            const { data: exportId, error } = await ownerClient.rpc("start_audiobook_export", {
              book_id: bookId,
              chapter_id: chapterId,
            });
            assert.equal(error, null);
            const row = await exportUntilDone(sql, storage, exportId);
            assert.equal(row.status, "completed", row.error_message);
            assert.deepEqual([row.progress_percentage, row.completed_chapters, row.total_chapters], [
              100,
              1,
              1,
            ]);
            assert.equal(row.storage_path, `${owner}/exports/${exportId}/audiobook.m4b`);
            assert.equal(row.cover_path, `${owner}/harbour.png`);
            m4b = `${storageDir}/media/${row.storage_path}`;
            assert.equal(Number(row.size_bytes), (await Deno.stat(m4b)).size);
            const probed = await probe(m4b);
            const audio = probed.streams.filter((s) => s.codec_type === "audio");
            assert.deepEqual(audio.map((s) => s.codec_name), ["aac"]);
            const pictures = probed.streams.filter((s) => s.disposition?.attached_pic === 1);
            assert.deepEqual(
              pictures.map((s) => s.codec_name),
              ["mjpeg"],
              "the cover is the attached picture",
            );
            const seconds = Number(probed.format.duration);
            close(seconds, narrationSeconds, 0.05, "the file lasts as long as the narration");
            close(row.duration_ms / 1000, narrationSeconds, 0.002, "the row records the narration's length");
            assert.deepEqual(probed.chapters.map((c) => c.tags?.title), ["The Harbour"]);
            assert.equal(Number(probed.chapters[0].start_time), 0);
            close(
              Number(probed.chapters[0].end_time),
              narrationSeconds,
              0.002,
              "the chapter ends with the narration",
            );
            assert.deepEqual(
              row.chapters.map((
                c: { title: string; source: string; start_ms: number },
              ) => [c.title, c.source, c.start_ms]),
              [["The Harbour", "generation", 0]],
            );
            // Nothing was spoken for it; the encode was reserved, logged against the export and settled.
            const usage =
              await sql`select model_used, job_id, cost_usd from public.usage_logs where job_id = ${exportId}`;
            assert.deepEqual(usage.map((u) => u.model_used), ["ffmpeg-concat"]);
            assert.equal(Number(row.cost_usd), Number(usage[0].cost_usd));
            const reservations = await sql`
            select status from private.cost_reservations where key like ${`audiobook:${exportId}:%`}`;
            assert.deepEqual(reservations.map((r) => r.status), ["settled"]);

            // Realtime: the owner watched it to the end; the other user saw nothing of it.
            const done = await eventually(
              "the completed export at its owner",
              () => seen.owner.find((c) => c.new?.id === exportId && c.new?.status === "completed"),
            );
            assert.equal(done.new.progress_percentage, 100);
            const progress = seen.owner.filter((c) => c.new?.id === exportId).map((c) =>
              c.new.progress_percentage
            );
            assert.ok(progress.length >= 3, "inserted, begun, made");
            assert.deepEqual(progress, [...progress].sort((a, b) => a - b), "progress never goes back");
            assert.equal(seen.other.length, 0, "RLS keeps the export from another user");
          },
        );

        await t.step(
          "Storage: the owner downloads the file but cannot replace or delete it; others cannot read it",
          async () => {
            const [row] =
              await sql`select storage_path from public.audiobook_exports where user_id = ${owner}`;
            const media = ownerClient.storage.from("media");
            const { data, error } = await media.download(row.storage_path);
            assert.equal(error, null);
            assert.equal(data!.size, (await Deno.stat(m4b)).size);
            const replaced = await media.upload(row.storage_path, new Uint8Array([1, 2, 3]), {
              contentType: "audio/mp4",
              upsert: true,
            });
            assert.equal((replaced.error as { statusCode?: string } | null)?.statusCode, "403");
            const planted = await media.upload(
              `${owner}/exports/${crypto.randomUUID()}/audiobook.m4b`,
              new Uint8Array([1]),
              {
                contentType: "audio/mp4",
              },
            );
            assert.equal((planted.error as { statusCode?: string } | null)?.statusCode, "403");
            assert.deepEqual((await media.remove([row.storage_path])).data, [], "nothing is deleted");
            assert.equal((await Deno.stat(m4b)).size, data!.size);
            for (const stranger of [otherClient, createClient(api.url, ANON_KEY)]) {
              const { error: refused } = await stranger.storage.from("media").download(row.storage_path);
              assert.equal((refused as { statusCode?: string } | null)?.statusCode, "404");
            }
          },
        );

        await t.step(
          "MP3 of the video's narration: MP3 audio, ID3 chapter and cover, the same length",
          async () => {
            const exportId = await asUser(sql, owner, async (tx) => {
              const [{ id }] = await tx<{ id: string }[]>`
              select public.start_audiobook_export(${bookId}, ${chapterId}, 'mp3', 'generation') as id`;
              return id;
            });
            const row = await exportUntilDone(sql, storage, exportId);
            assert.equal(row.status, "completed", row.error_message);
            assert.match(row.storage_path, /\/audiobook\.mp3$/);
            const probed = await probe(`${storageDir}/media/${row.storage_path}`);
            assert.equal(probed.format.format_name, "mp3");
            assert.deepEqual(
              probed.streams.filter((s) => s.codec_type === "audio").map((s) => s.codec_name),
              ["mp3"],
            );
            assert.equal(probed.streams.filter((s) => s.disposition?.attached_pic === 1).length, 1);
            assert.deepEqual(probed.chapters.map((c) => c.tags?.title), ["The Harbour"]);
            close(
              Number(probed.chapters[0].end_time),
              narrationSeconds,
              0.002,
              "the chapter ends with the narration",
            );
            // MP3 frames of 1152 samples and the encoder's delay: within a tenth of a second.
            close(
              Number(probed.format.duration),
              narrationSeconds,
              0.1,
              "the MP3 lasts as long as the narration",
            );
          },
        );
      } finally {
        await Promise.allSettled(clients.map((c) => c.removeAllChannels()));
        await deleteTestUser(sql, owner);
        await deleteTestUser(sql, other);
      }
    });
    await api.close();
    await Deno.remove(storageDir, { recursive: true });
  },
});

Deno.test("a whole book narrated for the export: every chapter spoken once, a flaky voice retried", async () => {
  const storageDir = await Deno.makeTempDir({ prefix: "litinkai-audiobook-" });
  await withSql(async (sql) => {
    const owner = await createTestUser(sql, "audiobook-book");
    const storage = new LocalStorage(sql, storageDir, "http://127.0.0.1:54321");
    try {
      const { bookId } = await createTestBook(sql, owner, [
        { title: "Arrival", content: "Mara reached the harbour at dawn.\n\nThe gulls were loud." },
        { title: "The Lamp Room", content: "Tomas showed her the great lens. It was cold up there." },
      ]);
      const exportId = await asUser(sql, owner, async (tx) => {
        const [{ id }] = await tx<{ id: string }[]>`select public.start_audiobook_export(${bookId}) as id`;
        return id;
      });
      // The second chapter's voice fails once, as a busy hosted voice does; it is tried again.
      const { speech, said } = countingSpeech((text, call) =>
        text.startsWith("The Lamp Room") && call === 1
          ? errorForStatus("elevenlabs", 503, "busy") // refused before any work: nothing billed
          : undefined
      );
      const row = await exportUntilDone(sql, storage, exportId, speech);
      assert.equal(row.status, "completed", row.error_message);
      assert.equal(said.filter((s) => s.startsWith("Arrival")).length, 1, "the first chapter is spoken once");
      assert.equal(
        said.filter((s) => s.startsWith("The Lamp Room")).length,
        2,
        "the second twice: once failed",
      );
      assert.equal(row.cover_path, null, "the book has no cover");

      const units = await sql<
        { position: number; duration_ms: number; segments: { storage_path: string }[] }[]
      >`
        select position, duration_ms, segments from private.audiobook_export_chapters
        where export_id = ${exportId} order by position`;
      const probed = await probe(`${storageDir}/media/${row.storage_path}`);
      assert.deepEqual(probed.streams.map((s) => s.codec_type).filter((k) => k !== "data"), ["audio"]);
      assert.equal(probed.streams[0].codec_name, "aac");
      assert.deepEqual(probed.chapters.map((c) => c.tags?.title), ["Arrival", "The Lamp Room"]);
      const first = units[0].duration_ms / 1000, second = units[1].duration_ms / 1000;
      close(Number(probed.chapters[0].end_time), first, 0.01, "chapter 1 ends where its narration does");
      assert.equal(probed.chapters[1].start_time, probed.chapters[0].end_time, "chapter 2 starts there");
      close(Number(probed.chapters[1].end_time), first + second, 0.01, "and ends with the book");
      close(Number(probed.format.duration), first + second, 0.05, "the file lasts as long as the narration");
      assert.ok(units.every((u) => u.segments.length === 1 && u.segments[0].storage_path.endsWith(".flac")));

      // Each speech call reserved before it was made and logged after it; the failed one released.
      const usage = await sql`
        select model_used, count(*)::int as calls, sum(cost_usd)::numeric as cost from public.usage_logs
        where job_id = ${exportId} group by model_used order by model_used`;
      assert.deepEqual(usage.map((u) => [u.model_used, u.calls]), [["espeak-ng", 2], ["ffmpeg-concat", 1]]);
      close(
        Number(row.cost_usd),
        usage.reduce((n, u) => n + Number(u.cost), 0),
        1e-9,
        "its cost is its calls'",
      );
      const reservations = await sql`
        select status, count(*)::int as n from private.cost_reservations where key like ${`audiobook:${exportId}:%`}
        group by status order by status`;
      assert.deepEqual(reservations.map((r) => [r.status, r.n]), [["released", 1], ["settled", 3]]);
    } finally {
      await deleteTestUser(sql, owner);
    }
  });
  await Deno.remove(storageDir, { recursive: true });
});

Deno.test("a chapter stopped between its segments resumes after the last one stored", async () => {
  const storageDir = await Deno.makeTempDir({ prefix: "litinkai-audiobook-" });
  await withSql(async (sql) => {
    const owner = await createTestUser(sql, "audiobook-resume");
    const storage = new LocalStorage(sql, storageDir, "http://127.0.0.1:54321");
    try {
      const paragraphs = ["Rain fell.", "Mara held on.", "The light held."];
      const { bookId } = await createTestBook(sql, owner, [{
        title: "Storm",
        content: paragraphs.join("\n\n"),
      }]);
      const exportId = await asUser(sql, owner, async (tx) => {
        const [{ id }] = await tx<{ id: string }[]>`select public.start_audiobook_export(${bookId}) as id`;
        return id;
      });
      // Segments of one paragraph each; the third one's voice fails once, after two were stored.
      const { speech, said } = countingSpeech((text, call) =>
        text === paragraphs[2] && call === 1 ? new RetryableError("the voice timed out") : undefined
      );
      const deadline = Date.now() + 60_000;
      let row;
      while (Date.now() < deadline) {
        await runAudiobookExport({ sql, storage, providers: { speech }, sizes: { chunk: 25, segment: 25 } }, {
          pollSeconds: 0,
        });
        [row] = await sql`select * from public.audiobook_exports where id = ${exportId}`;
        if (row.status === "completed" || row.status === "failed") break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(row?.status, "completed", row?.error_message);
      assert.deepEqual(said, [`Storm\n\n${paragraphs[0]}`, paragraphs[1], paragraphs[2], paragraphs[2]]);
      const [unit] = await sql`
        select duration_ms, segments from private.audiobook_export_chapters where export_id = ${exportId}`;
      assert.deepEqual(unit.segments.map((s: { segment: number }) => s.segment), [0, 1, 2]);
      const probed = await probe(`${storageDir}/media/${row!.storage_path}`);
      close(Number(probed.format.duration), unit.duration_ms / 1000, 0.05, "the file holds every segment");
    } finally {
      await deleteTestUser(sql, owner);
    }
  });
  await Deno.remove(storageDir, { recursive: true });
});

Deno.test("a voice that refuses fails the export at once, saying which chapter and why", async () => {
  const storageDir = await Deno.makeTempDir({ prefix: "litinkai-audiobook-" });
  await withSql(async (sql) => {
    const owner = await createTestUser(sql, "audiobook-refused");
    const storage = new LocalStorage(sql, storageDir, "http://127.0.0.1:54321");
    try {
      const { bookId, chapterIds: [, chapterId] } = await createTestBook(sql, owner, [
        { title: "One", content: "A first chapter." },
        { title: "Two", content: "A second chapter." },
      ]);
      const exportId = await asUser(sql, owner, async (tx) => {
        const [{ id }] = await tx<{ id: string }[]>`
          select public.start_audiobook_export(${bookId}, ${chapterId}, 'mp3', 'narration') as id`;
        return id;
      });
      const { speech, said } = countingSpeech(() => new PermanentError("the voice refused this text"));
      const row = await exportUntilDone(sql, storage, exportId, speech);
      assert.equal(said.length, 1, "not tried again");
      assert.deepEqual([row.status, row.error_message, row.storage_path], [
        "failed",
        'chapter 2 ("Two"): the voice refused this text',
        null,
      ]);
      const [{ archived }] = await sql`
        select count(*)::int as archived from pgmq.a_audiobook_export where message ->> 'export_id' = ${exportId}`;
      assert.equal(archived, 1, "its message is kept in the archive");
    } finally {
      await deleteTestUser(sql, owner);
    }
  });
  await Deno.remove(storageDir, { recursive: true });
});

Deno.test("past the period's budget an export is refused before any speech call", async () => {
  const storageDir = await Deno.makeTempDir({ prefix: "litinkai-audiobook-" });
  await withSql(async (sql) => {
    const owner = await createTestUser(sql, "audiobook-budget");
    const storage = new LocalStorage(sql, storageDir, "http://127.0.0.1:54321");
    const spend = (usd: number) =>
      sql`insert into public.usage_logs (user_id, resource_type, provider, model_used, operation, cost_usd, tier_at_time)
          values (${owner}, 'script', 'openai', 'gpt-4o-mini', 'script', ${usd}, 'free')`;
    try {
      const { bookId } = await createTestBook(sql, owner, [{ title: "One", content: SAMPLE_CHAPTER }]);
      const { speech, said } = countingSpeech();

      // Asked for with the budget spent: refused by the RPC, nothing queued.
      await spend(1.9999);
      await assert.rejects(
        asUser(sql, owner, (tx) => tx`select public.start_audiobook_export(${bookId})`),
        (error: { code?: string; message?: string }) =>
          error.code === "LT010" && /would pass the free tier's budget of \$2\.00/.test(error.message ?? ""),
      );
      const [{ rows }] =
        await sql`select count(*)::int as rows from public.audiobook_exports where user_id = ${owner}`;
      assert.equal(rows, 0);

      // Started within the budget, which is spent before the worker speaks: the reservation is refused.
      await sql`delete from public.usage_logs where user_id = ${owner}`;
      const exportId = await asUser(sql, owner, async (tx) => {
        const [{ id }] = await tx<{ id: string }[]>`select public.start_audiobook_export(${bookId}) as id`;
        return id;
      });
      await spend(2);
      const row = await exportUntilDone(sql, storage, exportId, speech);
      assert.equal(said.length, 0, "no speech call was made");
      assert.equal(row.status, "failed");
      assert.match(
        row.error_message,
        /^chapter 1 \("One"\): this billing period's model costs \(\$2\.00 so far\) would pass the free tier's budget/,
      );
      const [{ logged }] =
        await sql`select count(*)::int as logged from public.usage_logs where job_id = ${exportId}`;
      assert.equal(logged, 0, "nothing was logged for it");
    } finally {
      await deleteTestUser(sql, owner);
    }
  });
  await Deno.remove(storageDir, { recursive: true });
});
