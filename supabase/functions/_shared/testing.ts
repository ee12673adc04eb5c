/** Helpers for Deno tests that need the local database. */
import { createSql, type Sql } from "./db.ts";
import { clipOutputArgs, run } from "./media.ts";
import type { StepContext } from "./pipeline/worker.ts";
export { asUser } from "./db.ts";

/** The local stack's URL, or the one the test runner passes in. */
export function testDatabaseUrl(): string {
  return Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
}

/** Runs `body` with a client of its own and always closes it. */
export async function withSql<T>(body: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = createSql(testDatabaseUrl(), { max: 4 });
  try {
    return await body(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** A user as Auth would create one (the database trigger adds profile, subscription, progress). */
export async function createTestUser(sql: Sql, label: string): Promise<string> {
  const [{ id }] = await sql<{ id: string }[]>`
    insert into auth.users (email) values (${`${label}-${
    crypto.randomUUID().slice(0, 8)
  }@test.local`}) returning id`;
  return id;
}

export async function deleteTestUser(sql: Sql, userId: string) {
  await sql`delete from auth.users where id = ${userId}`;
}

/** A book with the given chapters, owned by `userId`; returns the chapter ids in order. */
export async function createTestBook(
  sql: Sql,
  userId: string,
  chapters: { title: string; content: string }[],
) {
  const [{ id: bookId }] = await sql<{ id: string }[]>`
    insert into public.books (user_id, title, status) values (${userId}, 'Test book', 'ready') returning id`;
  const ids: string[] = [];
  for (const [i, chapter] of chapters.entries()) {
    const [{ id }] = await sql<{ id: string }[]>`
      insert into public.chapters (book_id, chapter_number, title, content)
      values (${bookId}, ${i + 1}, ${chapter.title}, ${chapter.content}) returning id`;
    ids.push(id);
  }
  return { bookId, chapterIds: ids };
}

export const SAMPLE_CHAPTER =
  `On the morning Mara reached the harbour, gulls circled the boats. She carried a letter for the keeper.

"Are you the keeper of the light?" asked Mara.

"I am Tomas," he said. "And you are late."

That evening in the lamp room, Tomas showed her the great lens. "Keep it clean and it keeps them safe," he said.`;

/** A WAV of `seconds` of silence, 8-bit mono at `sampleRate`: long sound in few bytes. */
export function silentWav(seconds: number, sampleRate = 8000): Uint8Array {
  const dataBytes = Math.round(seconds * sampleRate);
  const bytes = new Uint8Array(44 + dataBytes).fill(128, 44);
  const view = new DataView(bytes.buffer);
  const text = (at: number, value: string) => bytes.set(new TextEncoder().encode(value), at);
  text(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  text(8, "WAVEfmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate, true); // bytes a second
  view.setUint16(32, 1, true); // bytes a frame
  view.setUint16(34, 8, true); // bits a sample
  text(36, "data");
  view.setUint32(40, dataBytes, true);
  return bytes;
}

/** What begin_step gives a stage for one unit of a free-quality generation, plus `extra`. */
export function testStepContext(
  step: StepContext["step"],
  unit: string,
  extra: Partial<StepContext> = {},
): StepContext {
  return {
    generation_id: crypto.randomUUID(),
    user_id: crypto.randomUUID(),
    step,
    unit,
    attempt: 1,
    script_style: "cinematic",
    quality_tier: "free",
    subscription_tier: "free",
    unit_attempt: 1,
    model: "offline",
    frame_width: 854,
    frame_height: 480,
    limits: { scenes: 8, speech_characters: 2000, video_seconds: 150 },
    max_video_seconds: 150,
    ...extra,
  };
}

/** A one-second clip in the pipeline's clip format, of a frame the pipeline never makes (64x36). */
export async function tinyClip(path: string): Promise<string> {
  await run("ffmpeg", [
    "-v",
    "error",
    "-f",
    "lavfi",
    "-i",
    "color=c=black:s=64x36:r=25",
    "-f",
    "lavfi",
    "-i",
    "sine",
    "-pix_fmt",
    "yuv420p",
    ...clipOutputArgs(1, path),
  ]);
  return path;
}
