/**
 * Audiobook export worker. A chapter message speaks the chapter's text at the export's voice, segment
 * by segment (each speech call reserved before it is made and logged after it; each segment stored,
 * so a later attempt does not speak it again). The file message joins every chapter's narration in
 * order (a video's scene tracks, or the segments spoken) and encodes it: AAC in an M4B with chapter
 * markers and the cover as its picture, or MP3 with ID3 chapters and cover, stored at
 * media/<user_id>/exports/<id>/audiobook.<format>.
 */
import type { Json, Sql } from "../../supabase/functions/_shared/db.ts";
import { errorMessage, PermanentError } from "../../supabase/functions/_shared/errors.ts";
import {
  probeDuration,
  probeMedia,
  run,
  timeLimitFor,
  wavSeconds,
  withTempDir,
} from "../../supabase/functions/_shared/media.ts";
import {
  mediaByteLimit,
  megabytes,
  WAV_BYTES_PER_SECOND,
  withSlack,
} from "../../supabase/functions/_shared/pipeline/limits.ts";
import type { Providers } from "../../supabase/functions/_shared/providers/types.ts";
import { NARRATOR } from "../../supabase/functions/_shared/providers/voices.ts";
import {
  consumeQueue,
  type ConsumerSummary,
  type Outcome,
  type QueueMessage,
  retryOrFail,
  wakeChannelOf,
} from "../../supabase/functions/_shared/queue.ts";
import type { WorkerRun } from "../../supabase/functions/_shared/serve_worker.ts";
import { ObjectTooLargeError, type Storage } from "../../supabase/functions/_shared/storage.ts";
import { recordUsage, reservedCall } from "../../supabase/functions/_shared/usage.ts";

export const QUEUE = "audiobook_export";
const MAX_ATTEMPTS = 5;
/** The most one speech call is given to say. */
export const CHUNK_CHARACTERS = 2_500;
/** The most one stored segment holds: what a later attempt may have to speak again. */
export const SEGMENT_CHARACTERS = 20_000;
/** Silence after each chunk (chunks end at a paragraph or a sentence). */
const PAUSE_SECONDS = 0.4;
/** Narration is joined at this rate, mono; the file is encoded at 44.1 kHz, 64 kbit/s. */
const SAMPLE_RATE = 22_050;
/** No speech is slower than this many characters a second (a chunk that lasts longer is refused). */
const SLOWEST_CHARACTERS_PER_SECOND = 5;
/** Speech is reserved as lasting a second for every 10 characters (for voices priced per second). */
const RESERVED_CHARACTERS_PER_SECOND = 10;
const COVER_BYTES = 5 * 1024 * 1024;

export interface ChapterMessage {
  export_id: string;
  position: number;
  characters: number;
}
export interface FileMessage {
  export_id: string;
  assemble: true;
  seconds: number;
}
export type AudiobookMessage = ChapterMessage | FileMessage;

export interface AudiobookDeps {
  sql: Sql;
  storage: Storage;
  providers: Pick<Providers, "speech">;
  /** A speech call's and a stored segment's most characters (tests make them small). */
  sizes?: { chunk: number; segment: number };
}

interface SpokenSegment {
  segment: number;
  storage_path: string;
  duration_ms: number;
  characters: number;
}

/** What private.begin_audiobook_chapter returns. */
interface ChapterContext {
  export_id: string;
  user_id: string;
  position: number;
  chapter_number: number;
  title: string;
  text: string;
  model: string;
  attempt: number;
  segments: SpokenSegment[];
}

/** What private.begin_audiobook_assembly returns. */
interface FileContext {
  export_id: string;
  user_id: string;
  format: "m4b" | "mp3";
  attempt: number;
  model: string;
  book_title: string;
  author: string | null;
  whole_book: boolean;
  cover_path: string | null;
  max_seconds: number;
  chapters: {
    position: number;
    chapter_id: string | null;
    chapter_number: number;
    title: string;
    source: "generation" | "narration";
    generation_id: string | null;
    duration_ms: number;
    files: { storage_path: string; duration_ms: number }[];
  }[];
}

export interface ChapterMarker {
  position: number;
  chapter_id: string | null;
  chapter_number: number;
  title: string;
  source: string;
  start_ms: number;
  end_ms: number;
}

const codePoints = (text: string) => [...text].length;

/** Pieces of at most `limit` characters, cut at `separator` where it can, else hard. */
function cut(text: string, separator: RegExp, limit: number): string[] {
  const pieces: string[] = [];
  for (const part of text.split(separator).map((p) => p.trim()).filter(Boolean)) {
    if (codePoints(part) <= limit) pieces.push(part);
    else if (separator.source !== "\\s+") pieces.push(...cut(part, /\s+/, limit));
    else {
      const chars = [...part];
      for (let i = 0; i < chars.length; i += limit) pieces.push(chars.slice(i, i + limit).join(""));
    }
  }
  return pieces;
}

/** Consecutive pieces grouped while they fit in `limit` characters. */
function group(pieces: string[], limit: number, joiner: string): string[] {
  const groups: string[] = [];
  let current = "";
  for (const piece of pieces) {
    const joined = current ? `${current}${joiner}${piece}` : piece;
    if (current && codePoints(joined) > limit) {
      groups.push(current);
      current = piece;
    } else current = joined;
  }
  if (current) groups.push(current);
  return groups;
}

/**
 * The speech calls of a text: paragraphs grouped up to CHUNK_CHARACTERS, a longer paragraph cut at its
 * sentences, a longer sentence at its spaces. The same text always gives the same chunks.
 */
export function speechChunks(text: string, limit = CHUNK_CHARACTERS): string[] {
  const pieces = text.split(/\n\s*\n/).map((p) => p.replace(/\s+/g, " ").trim()).filter(Boolean)
    .flatMap((paragraph) =>
      codePoints(paragraph) <= limit
        ? [paragraph]
        : group(cut(paragraph, /(?<=[.!?…]["'”’)]?)\s+/, limit), limit, " ")
    );
  return group(pieces, limit, "\n\n");
}

/** The chunks of a text in segments of at most SEGMENT_CHARACTERS. */
export function speechSegments(
  text: string,
  sizes = { chunk: CHUNK_CHARACTERS, segment: SEGMENT_CHARACTERS },
): string[][] {
  const segments: string[][] = [];
  let size = 0;
  for (const chunk of speechChunks(text, sizes.chunk)) {
    const n = codePoints(chunk);
    if (segments.length === 0 || size + n > sizes.segment) {
      segments.push([]);
      size = 0;
    }
    segments[segments.length - 1].push(chunk);
    size += n;
  }
  return segments;
}

/** A value of an FFMETADATA file: `=`, `;`, `#`, `\` and line breaks escaped. */
export function metadataValue(value: string): string {
  return value.replace(/[\\=;#\n]/g, (c) => `\\${c}`).replace(/\r/g, "");
}

/** The FFMETADATA file of the audiobook: its tags and one chapter per marker. */
export function ffmetadata(tags: Record<string, string | null>, markers: ChapterMarker[]): string {
  const lines = [";FFMETADATA1"];
  for (const [key, value] of Object.entries(tags)) if (value) lines.push(`${key}=${metadataValue(value)}`);
  for (const marker of markers) {
    lines.push("", "[CHAPTER]", "TIMEBASE=1/1000", `START=${marker.start_ms}`, `END=${marker.end_ms}`);
    lines.push(`title=${metadataValue(marker.title)}`);
  }
  return lines.join("\n") + "\n";
}

function segmentPath(context: { user_id: string; export_id: string }, position: number, segment: number) {
  return `${context.user_id}/exports/${context.export_id}/parts/chapter-${position}-${segment}.flac`;
}

/** Speaks one segment, call by call, and stores it; returns its length in milliseconds. */
async function speakSegment(
  deps: AudiobookDeps,
  context: ChapterContext,
  segment: number,
  chunks: string[],
): Promise<SpokenSegment> {
  const { sql, storage, providers } = deps;
  return await withTempDir(async (dir) => {
    for (const [i, chunk] of chunks.entries()) {
      const key = `audiobook:${context.export_id}:${context.position}:${segment}:${i}:${context.attempt}`;
      const characters = codePoints(chunk);
      const started = performance.now();
      const reservation = {
        key,
        userId: context.user_id,
        model: context.model,
        quantity: { characters, seconds: Math.ceil(characters / RESERVED_CHARACTERS_PER_SECOND) },
      };
      const speech = await reservedCall(
        sql,
        reservation,
        () => providers.speech.speak(chunk, null, NARRATOR, context.model),
      );
      await sql.begin((tx) =>
        recordUsage(
          tx as unknown as Sql,
          context.user_id,
          key,
          speech.usage,
          performance.now() - started,
          context.export_id,
        )
      );
      const seconds = wavSeconds(speech.wav);
      if (seconds === null) throw new PermanentError(`the speech of chunk ${i + 1} is not a PCM WAV file`);
      if (seconds > characters / SLOWEST_CHARACTERS_PER_SECOND + 10) {
        throw new PermanentError(
          `the speech of chunk ${i + 1} lasts ${seconds.toFixed(1)} s for ${characters} characters`,
        );
      }
      await Deno.writeFile(`${dir}/chunk-${i}.wav`, speech.wav);
    }
    const inputs = chunks.flatMap((_, i) => ["-i", `${dir}/chunk-${i}.wav`]);
    const pads = chunks.map((_, i) =>
      `[${i}:a]aresample=${SAMPLE_RATE},aformat=channel_layouts=mono,apad=pad_dur=${PAUSE_SECONDS}[a${i}]`
    ).join(";");
    const joined = chunks.map((_, i) => `[a${i}]`).join("");
    const spokenSeconds = chunks.reduce((n, c) => n + codePoints(c), 0) / SLOWEST_CHARACTERS_PER_SECOND;
    await run("ffmpeg", [
      "-hide_banner",
      "-loglevel",
      "error",
      "-y",
      ...inputs,
      "-filter_complex",
      `${pads};${joined}concat=n=${chunks.length}:v=0:a=1[out]`,
      "-map",
      "[out]",
      "-c:a",
      "flac",
      `${dir}/segment.flac`,
    ], { timeoutMs: timeLimitFor(spokenSeconds) });
    const durationMs = Math.round((await probeDuration(`${dir}/segment.flac`)) * 1000);
    const path = segmentPath(context, context.position, segment);
    await storage.put("media", path, await Deno.readFile(`${dir}/segment.flac`), "audio/flac");
    const spoken = {
      segment,
      storage_path: path,
      duration_ms: durationMs,
      characters: chunks.reduce((n, c) => n + codePoints(c), 0),
    };
    await sql`select private.save_audiobook_segment(${context.export_id}, ${context.position}, ${segment},
      ${path}, ${durationMs}, ${spoken.characters})`;
    return spoken;
  });
}

/** Speaks a chapter's segments not spoken yet, then completes the chapter with the message. */
export async function speakChapter(deps: AudiobookDeps, msg: QueueMessage<ChapterMessage>): Promise<Outcome> {
  const { sql } = deps;
  const { export_id, position } = msg.message;
  const [{ context }] = await sql<{ context: ChapterContext | null }[]>`
    select private.begin_audiobook_chapter(${export_id}, ${position}) as context`;
  if (!context) {
    await sql`select pgmq.delete(${QUEUE}, ${msg.msg_id}::bigint)`;
    return "stale";
  }
  const spoken = new Map(context.segments.map((s) => [s.segment, s]));
  let durationMs = 0;
  for (const [segment, chunks] of speechSegments(context.text, deps.sizes).entries()) {
    durationMs += (spoken.get(segment) ?? await speakSegment(deps, context, segment, chunks)).duration_ms;
  }
  const [{ outcome }] = await sql<{ outcome: string }[]>`
    select private.complete_audiobook_chapter(${msg.msg_id}, ${export_id}, ${position}, ${durationMs}) as outcome`;
  return outcome === "stale" ? "stale" : "completed";
}

/** Samples in a FLAC file ffmpeg wrote (its stream info counts them). */
async function flacSamples(path: string): Promise<number> {
  const out = await run("ffprobe", [
    "-v",
    "error",
    "-select_streams",
    "a:0",
    "-show_entries",
    "stream=duration_ts",
    "-of",
    "csv=p=0",
    path,
  ], { timeoutMs: 20_000 });
  const samples = Number.parseInt(out.trim(), 10);
  if (!Number.isFinite(samples)) throw new PermanentError(`${path} has no audio that can be counted`);
  return samples;
}

/**
 * A stored narration file (a scene track or a spoken segment) as mono FLAC at SAMPLE_RATE (half a
 * WAV's size on the disk while the file is made), held to what was recorded of it: downloaded only up
 * to its size, decoded only up to its length. Returns its samples.
 */
async function narrationAsFlac(
  storage: Storage,
  file: { storage_path: string; duration_ms: number },
  what: string,
  dir: string,
  out: string,
): Promise<number> {
  const recorded = file.duration_ms / 1000;
  const maxBytes = mediaByteLimit(withSlack(recorded), WAV_BYTES_PER_SECOND);
  let bytes: Uint8Array;
  try {
    bytes = await storage.get("media", file.storage_path, maxBytes);
  } catch (error) {
    if (error instanceof ObjectTooLargeError) {
      throw new PermanentError(
        `${what} is over ${megabytes(maxBytes)}, more than ${recorded.toFixed(1)} s can be`,
      );
    }
    if (error instanceof Deno.errors.NotFound || /HTTP 40[04]/.test(errorMessage(error))) {
      throw new PermanentError(`${what} (media/${file.storage_path}) is no longer in storage`);
    }
    throw error;
  }
  const raw = `${dir}/download`;
  await Deno.writeFile(raw, bytes);
  try {
    await run("ffmpeg", [
      "-hide_banner",
      "-loglevel",
      "error",
      "-y",
      "-i",
      raw,
      "-map",
      "0:a:0",
      "-t",
      (withSlack(recorded) + 1).toFixed(3),
      "-ac",
      "1",
      "-ar",
      String(SAMPLE_RATE),
      "-c:a",
      "flac",
      "-map_metadata",
      "-1",
      "-fflags",
      "+bitexact",
      out,
    ], { timeoutMs: timeLimitFor(recorded) });
  } catch (error) {
    if (error instanceof PermanentError) {
      throw new PermanentError(`${what} is corrupt or not audio: ${error.message}`);
    }
    throw error;
  } finally {
    await Deno.remove(raw).catch(() => {});
  }
  const samples = await flacSamples(out);
  if (samples / SAMPLE_RATE > withSlack(recorded)) {
    throw new PermanentError(`${what} lasts longer than the ${recorded.toFixed(1)} s recorded of it`);
  }
  return samples;
}

/** The book's cover as a JPEG of at most 1400 px, or null when it is missing or not an image. */
async function coverJpeg(storage: Storage, path: string, dir: string): Promise<string | null> {
  try {
    await Deno.writeFile(`${dir}/cover`, await storage.get("covers", path, COVER_BYTES));
    await run("ffmpeg", [
      "-hide_banner",
      "-loglevel",
      "error",
      "-y",
      "-i",
      `${dir}/cover`,
      "-frames:v",
      "1",
      "-vf",
      "scale='min(1400,iw)':'min(1400,ih)':force_original_aspect_ratio=decrease",
      `${dir}/cover.jpg`,
    ], { timeoutMs: 20_000 });
    return `${dir}/cover.jpg`;
  } catch (error) {
    // A cover that cannot be read is left out; the file is still made (the row says it has none).
    if (
      error instanceof PermanentError || error instanceof Deno.errors.NotFound ||
      /HTTP 40[04]/.test(errorMessage(error))
    ) {
      return null;
    }
    throw error;
  }
}

const CONTENT_TYPES = { m4b: "audio/mp4", mp3: "audio/mpeg" } as const;

/** ffmpeg's output arguments for the format: codec, cover as attached picture, container. */
function outputArgs(format: "m4b" | "mp3", withCover: boolean, out: string): string[] {
  const audio = ["-ar", "44100", "-ac", "1", "-b:a", "64k"];
  const cover = withCover ? ["-c:v", "copy", "-disposition:v:0", "attached_pic"] : [];
  if (format === "mp3") {
    return [
      "-c:a",
      "libmp3lame",
      ...audio,
      ...cover,
      "-id3v2_version",
      "3",
      ...(withCover ? ["-metadata:s:v", "title=Cover", "-metadata:s:v", "comment=Cover (front)"] : []),
      "-f",
      "mp3",
      out,
    ];
  }
  // media_type 2 marks an audiobook for players; the brand says M4B. ffmpeg's fast AAC coder takes
  // a quarter of its default's CPU on speech at 64 kbit/s (scripts/bench/audiobook.ts).
  return [
    "-c:a",
    "aac",
    "-aac_coder",
    "fast",
    ...audio,
    ...cover,
    "-metadata",
    "media_type=2",
    "-brand",
    "M4B ",
    "-movflags",
    "+faststart",
    "-f",
    "ipod",
    out,
  ];
}

/** Makes the file from every chapter's narration, stores it and completes the export with the message. */
export async function makeFile(deps: AudiobookDeps, msg: QueueMessage<FileMessage>): Promise<Outcome> {
  const { sql, storage } = deps;
  const started = performance.now();
  const [{ context }] = await sql<{ context: FileContext | null }[]>`
    select private.begin_audiobook_assembly(${msg.message.export_id}) as context`;
  if (!context) {
    await sql`select pgmq.delete(${QUEUE}, ${msg.msg_id}::bigint)`;
    return "stale";
  }
  const expectedSeconds = context.chapters.reduce((n, c) => n + c.duration_ms, 0) / 1000;
  if (expectedSeconds > withSlack(context.max_seconds)) {
    throw new PermanentError(
      `the narration lasts ${
        Math.round(expectedSeconds)
      } s; an export of this quality may last at most ${context.max_seconds} s`,
    );
  }
  const key = `audiobook:${context.export_id}:file:${context.attempt}`;
  const reservation = {
    key,
    userId: context.user_id,
    model: context.model,
    quantity: { seconds: Math.ceil(expectedSeconds) },
  };
  const progress = (pct: number) => sql`select private.set_audiobook_progress(${context.export_id}, ${pct})`;
  const made = await reservedCall(sql, reservation, () =>
    withTempDir(async (dir) => {
      const list: string[] = [];
      const markers: ChapterMarker[] = [];
      let samples = 0;
      for (const [c, chapter] of context.chapters.entries()) {
        const start = samples;
        for (const [i, file] of chapter.files.entries()) {
          const what = chapter.source === "generation"
            ? `the narration of chapter ${chapter.chapter_number}, scene ${
              i + 1
            } (video ${chapter.generation_id})`
            : `the narration of chapter ${chapter.chapter_number}, segment ${i + 1}`;
          const flac = `${dir}/chapter-${chapter.position}-${i}.flac`;
          samples += await narrationAsFlac(storage, file, what, dir, flac);
          list.push(`file '${flac}'`);
        }
        markers.push({
          position: chapter.position,
          chapter_id: chapter.chapter_id,
          chapter_number: chapter.chapter_number,
          title: chapter.title,
          source: chapter.source,
          start_ms: Math.round((start / SAMPLE_RATE) * 1000),
          end_ms: Math.round((samples / SAMPLE_RATE) * 1000),
        });
        await progress(90 + Math.floor((5 * (c + 1)) / context.chapters.length));
      }
      const seconds = samples / SAMPLE_RATE;
      if (seconds > withSlack(context.max_seconds)) {
        throw new PermanentError(
          `the narration lasts ${
            Math.round(seconds)
          } s; an export of this quality may last at most ${context.max_seconds} s`,
        );
      }
      const single = context.whole_book ? null : context.chapters[0];
      await Deno.writeTextFile(`${dir}/list.txt`, list.join("\n") + "\n");
      await Deno.writeTextFile(
        `${dir}/metadata.txt`,
        ffmetadata({
          title: single ? `${context.book_title}: ${single.title}` : context.book_title,
          album: context.book_title,
          artist: context.author,
          genre: "Audiobook",
        }, markers),
      );
      const cover = context.cover_path ? await coverJpeg(storage, context.cover_path, dir) : null;
      const out = `${dir}/audiobook.${context.format}`;
      await run("ffmpeg", [
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        `${dir}/list.txt`,
        "-i",
        `${dir}/metadata.txt`,
        ...(cover ? ["-i", cover] : []),
        "-map",
        "0:a",
        ...(cover ? ["-map", "2:v"] : []),
        "-map_metadata",
        "1",
        "-map_chapters",
        "1",
        ...outputArgs(context.format, cover !== null, out),
      ], { timeoutMs: timeLimitFor(seconds) });
      // The file holds what was joined: its length is the narration's, within an audio frame or two.
      const facts = await probeMedia(out);
      if (!(Math.abs(facts.seconds - seconds) <= 0.5)) {
        throw new PermanentError(
          `the encoded file lasts ${facts.seconds.toFixed(2)} s; its narration lasts ${seconds.toFixed(2)} s`,
        );
      }
      await progress(98);
      const bytes = await Deno.readFile(out);
      const stored = await storage.put(
        "media",
        `${context.user_id}/exports/${context.export_id}/audiobook.${context.format}`,
        bytes,
        CONTENT_TYPES[context.format],
      );
      return { stored, seconds, markers, withCover: cover !== null };
    }));
  await sql.begin(async (tx) => {
    await recordUsage(
      tx as unknown as Sql,
      context.user_id,
      key,
      [{ model: context.model, operation: "merge", units: Math.round(made.seconds * 1000) / 1000 }],
      performance.now() - started,
      context.export_id,
    );
    await tx`select private.complete_audiobook_export(${msg.msg_id}, ${context.export_id}, ${made.stored.path},
      ${made.stored.url}, ${Math.round(made.seconds * 1000)}, ${made.stored.size}, ${
      tx.json(made.markers as unknown as Json)
    },
      ${made.withCover})`;
  });
  return "completed";
}

/** The audiobook queue through the shared consumer loop; a final failure fails the export with its message. */
export async function runAudiobookExport(
  deps: AudiobookDeps,
  options: Partial<WorkerRun> & { maxAttempts?: number } = {},
): Promise<ConsumerSummary> {
  const { sql } = deps;
  const maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
  return await consumeQueue<AudiobookMessage>(sql, {
    queue: QUEUE,
    wakeChannel: wakeChannelOf(QUEUE),
    concurrency: 2,
    leaseSeconds: 30,
    // Speaking: two minutes and a second for every 50 characters; the file: a second for every 5 of audio.
    timeoutSeconds: (msg) =>
      "assemble" in msg.message
        ? 120 + Math.ceil(msg.message.seconds / 5)
        : 120 + Math.ceil(msg.message.characters / 50),
    maxAttempts,
    ...options,
    process: async (msg) => {
      const { message } = msg;
      if ("assemble" in message) return await makeFile(deps, { ...msg, message });
      return await speakChapter(deps, { ...msg, message });
    },
    fail: async (msg, error, retryable) => {
      const position = "position" in msg.message ? msg.message.position : null;
      const record = (final: boolean) =>
        sql`select private.fail_audiobook_step(${msg.msg_id}, ${msg.message.export_id}, ${position}, ${error}, ${final})`;
      const outcome = await retryOrFail(sql, QUEUE, msg, retryable, maxAttempts, () => record(true));
      if (outcome === "retried") await record(false);
      return outcome;
    },
  });
}
