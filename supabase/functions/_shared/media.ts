/** Runs the local media tools (ffmpeg, ffprobe, espeak-ng) with readable errors. */
import { PermanentError, RetryableError } from "./errors.ts";

export async function run(
  command: string,
  args: string[],
  options: { stdin?: string } = {},
): Promise<string> {
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
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) {
    const detail = new TextDecoder().decode(stderr).trim().split("\n").slice(-3).join(" | ");
    throw new RetryableError(`${command} exited with ${code}: ${detail}`);
  }
  return new TextDecoder().decode(stdout);
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
  ]);
  const seconds = Number.parseFloat(out.trim());
  if (!Number.isFinite(seconds)) throw new PermanentError(`ffprobe could not read the duration of ${path}`);
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
  ]);
  return out.trim().split("\n").filter(Boolean);
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
