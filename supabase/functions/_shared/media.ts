/** Runs the local media tools (ffmpeg, ffprobe, espeak-ng) with a time limit and classified errors. */
import { PermanentError, RetryableError } from "./errors.ts";
import { workSignal } from "./work_signal.ts";

export interface RunOptions {
  stdin?: string;
  /** The tool is killed after this long (derive it from the input: see `timeLimitFor`). */
  timeoutMs?: number;
  /** Aborting kills the tool too; by default the signal of the message being worked on. */
  signal?: AbortSignal;
}

/** A generous limit for work on `mediaSeconds` of media: 20 s, plus 3 s per second of media. */
export function timeLimitFor(mediaSeconds: number): number {
  return Math.round((20 + 3 * Math.max(0, mediaSeconds)) * 1000);
}

/**
 * Failures the machine may recover from; any other non-zero exit means the input is unusable. (Not
 * "Cannot allocate memory": ffmpeg says that about a corrupt header that claims a huge chunk; a tool
 * that really runs out of memory is killed by a signal, which is retried.)
 */
const TRANSIENT = /no space left|resource temporarily unavailable|too many open files/i;

/** A file's name without its folder: what a message about it may show. */
const fileName = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/**
 * The end of a tool's error output, for messages the user reads: files by their names alone (the
 * worker's folders are not theirs to see, and neither are the tool's memory addresses).
 */
function toolDetail(stderr: string, args: string[]): string {
  let detail = stderr.trim().split("\n").slice(-3).join(" | ");
  const paths = args.filter((arg) => arg.startsWith("/")).sort((a, b) => b.length - a.length);
  for (const path of paths) detail = detail.replaceAll(path, fileName(path));
  // Paths the tool found elsewhere (a concat list), and "[png @ 0x55d0c0e1a080]".
  return detail.replace(/(?:\/[^\s/:'"|]+)+\/([^\s/:'"|]+)/g, "$1").replace(/ @ 0x[0-9a-f]+/gi, "");
}

export async function run(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const signal = options.signal ?? workSignal();
  if (signal?.aborted) {
    throw new RetryableError(`${command} was not started: the worker gave up on this step`);
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new PermanentError(`${command} is not installed: run 'npm run stack -- install'`);
    }
    throw error;
  }
  let killedBy: "time limit" | "abort" | undefined;
  const kill = (why: "time limit" | "abort") => {
    killedBy ??= why;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => kill("time limit"), timeoutMs);
  const onAbort = () => kill("abort");
  signal?.addEventListener("abort", onAbort);
  try {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const { code, signal, stdout, stderr } = await child.output();
    const detail = toolDetail(new TextDecoder().decode(stderr), args);
    if (killedBy === "time limit") {
      throw new RetryableError(
        `${command} did not finish within its time limit of ${timeoutMs / 1000} s and was stopped`,
      );
    }
    if (killedBy === "abort") {
      throw new RetryableError(`${command} was stopped: the worker gave up on this step`);
    }
    if (signal) throw new RetryableError(`${command} was killed (${signal}): ${detail}`);
    if (code !== 0) {
      if (TRANSIENT.test(detail)) {
        throw new RetryableError(`${command} ran out of resources (exit ${code}): ${detail}`);
      }
      throw new PermanentError(`${command} could not process its input (exit ${code}): ${detail}`);
    }
    return new TextDecoder().decode(stdout);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Decodes a media file once, so a corrupt input fails at once with a clear error instead of making
 * a later tool fail, or hang (ffmpeg looping a corrupt still image never exits).
 */
export async function assertDecodable(path: string, what: string): Promise<void> {
  try {
    await run("ffmpeg", ["-v", "error", "-xerror", "-i", path, "-frames:v", "1", "-f", "null", "-"], {
      timeoutMs: 20_000,
    });
  } catch (error) {
    if (error instanceof PermanentError) {
      throw new PermanentError(`${what} is corrupt or not a media file: ${error.message}`);
    }
    throw error;
  }
}

/** Duration of a media file in seconds, from ffprobe. */
export async function probeDuration(path: string): Promise<number> {
  const out = await run("ffprobe", [
    "-v",
    "error",
    "-show_entries",
    "format=duration",
    "-of",
    "csv=p=0",
    path,
  ], { timeoutMs: 20_000 });
  const seconds = Number.parseFloat(out.trim());
  if (!Number.isFinite(seconds)) {
    throw new PermanentError(`ffprobe could not read the duration of ${fileName(path)}`);
  }
  return seconds;
}

/** The kinds of streams (video, audio) a media file holds. */
export async function probeStreams(path: string): Promise<string[]> {
  const out = await run("ffprobe", [
    "-v",
    "error",
    "-show_entries",
    "stream=codec_type",
    "-of",
    "csv=p=0",
    path,
  ], { timeoutMs: 20_000 });
  return out.trim().split("\n").filter(Boolean);
}

/** What ffprobe reads in a media file: its container, its length and its streams. */
export interface MediaFacts {
  /** ffprobe's demuxer names, e.g. "wav" or "mov,mp4,m4a,3gp,3g2,mj2". */
  format: string;
  /** The longest of the container's and its streams' durations, in seconds. */
  seconds: number;
  streams: { type: string; codec: string; width?: number; height?: number }[];
}

/** One ffprobe run: format, duration and streams; a file ffprobe cannot read is a PermanentError. */
export async function probeMedia(path: string): Promise<MediaFacts> {
  const out = await run("ffprobe", [
    "-v",
    "error",
    "-show_entries",
    "format=format_name,duration:stream=codec_type,codec_name,width,height,duration",
    "-of",
    "json",
    path,
  ], { timeoutMs: 20_000 });
  const probed = JSON.parse(out) as {
    format?: { format_name?: string; duration?: string };
    streams?: {
      codec_type?: string;
      codec_name?: string;
      width?: number;
      height?: number;
      duration?: string;
    }[];
  };
  const durations = [probed.format?.duration, ...(probed.streams ?? []).map((s) => s.duration)]
    .map((d) => Number.parseFloat(d ?? "")).filter(Number.isFinite);
  return {
    format: probed.format?.format_name ?? "unknown",
    seconds: durations.length ? Math.max(...durations) : Number.NaN,
    streams: (probed.streams ?? []).map((s) => ({
      type: s.codec_type ?? "unknown",
      codec: s.codec_name ?? "unknown",
      width: s.width,
      height: s.height,
    })),
  };
}

/**
 * Seconds of sound in a PCM WAV, read from its header without a tool (the data a header declares, or
 * what the file holds when that is less); null when the bytes are not such a WAV.
 */
export function wavSeconds(bytes: Uint8Array): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => new TextDecoder().decode(bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") return null;
  let byteRate = 0;
  for (let at = 12; at + 8 <= bytes.length;) {
    const size = view.getUint32(at + 4, true);
    if (tag(at) === "fmt " && at + 20 <= bytes.length) byteRate = view.getUint32(at + 16, true);
    if (tag(at) === "data") {
      return byteRate > 0 ? Math.min(size, bytes.length - at - 8) / byteRate : null;
    }
    at += 8 + size + (size % 2);
  }
  return null;
}

/** A scratch folder removed after `body` finishes. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "litinkai-" });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Every scene clip has the same frame rate and codecs, so the merge can join them without re-encoding. */
export const CLIP_FPS = 25;

/** ffmpeg output arguments for a scene clip of `seconds`: H.264 at CLIP_FPS, mono AAC, fast start. */
export function clipOutputArgs(seconds: number, outPath: string): string[] {
  return [
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-crf",
    "26",
    "-r",
    String(CLIP_FPS),
    "-c:a",
    "aac",
    "-b:a",
    "96k",
    "-ar",
    "44100",
    "-ac",
    "1",
    "-t",
    seconds.toFixed(3),
    "-movflags",
    "+faststart",
    outPath,
  ];
}
