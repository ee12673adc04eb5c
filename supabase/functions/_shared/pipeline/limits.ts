/**
 * The limits a stage holds what it reads back to: a file an earlier stage made, or a provider's
 * answer, must be what the pipeline asked for, so a file that reached Storage some other way cannot
 * stretch the work. A file past them fails its unit at once (PermanentError). No tools here: the
 * Edge-placed images stage uses this too (the checks that need ffprobe are in media_checks.ts).
 */
import { PermanentError } from "../errors.ts";
import { imageSize } from "../providers/png.ts";
import { SCRIPT_LIMITS } from "../providers/text/script_rules.ts";
import type { StepContext } from "./worker.ts";

/** The longest a scene may last: 600 s, and never longer than its quality's whole video. */
export function sceneSecondsLimit(context: Pick<StepContext, "max_video_seconds">): number {
  const video = Number(context.max_video_seconds);
  return Math.min(SCRIPT_LIMITS.sceneSeconds, video > 0 ? video : Infinity);
}

/** Encoders round a length up by a frame or an audio packet: what a check lets pass beyond it. */
export function withSlack(seconds: number): number {
  return seconds * 1.02 + 1;
}

/** The length a file read back may have: what its stage recorded making, within the scene's limit. */
export interface LengthLimit {
  /** The scene's limit in seconds (sceneSecondsLimit). */
  sceneSeconds: number;
  /** What the stage that made the file recorded, in seconds, when it did. */
  madeSeconds?: number;
  /** Which stage made it, for messages ("the audio stage"). */
  madeBy: string;
}

/** The most seconds a file within `limit` can hold. */
export function allowedSeconds(limit: LengthLimit): number {
  const made = limit.madeSeconds !== undefined && limit.madeSeconds > 0 ? limit.madeSeconds : Infinity;
  return withSlack(Math.min(limit.sceneSeconds, made));
}

/** Refuses `seconds` of `what` past its limit, saying which limit. */
export function assertLength(what: string, seconds: number, limit: LengthLimit): void {
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new PermanentError(`${what} has no length that can be read`);
  }
  if (seconds > withSlack(limit.sceneSeconds)) {
    throw new PermanentError(
      `${what} lasts ${seconds.toFixed(1)} s; a scene of this video may last at most ${limit.sceneSeconds} s`,
    );
  }
  if (seconds > allowedSeconds(limit)) {
    throw new PermanentError(
      `${what} lasts ${seconds.toFixed(1)} s, but ${limit.madeBy} made ${limit.madeSeconds!.toFixed(1)} s`,
    );
  }
}

/** 48 kHz mono 16-bit: more than any speech track the audio stage writes (22.05 kHz). */
export const WAV_BYTES_PER_SECOND = 96_000;
/** 16 Mbit/s: several times what a scene clip at our encoding takes, even at 1080p with motion. */
export const CLIP_BYTES_PER_SECOND = 2_000_000;
/** Room for headers, metadata and an image's ancillary chunks. */
const HEADROOM_BYTES = 1024 * 1024;

/** The largest file of `seconds` of media at `bytesPerSecond`. */
export function mediaByteLimit(seconds: number, bytesPerSecond: number): number {
  return Math.ceil(seconds * bytesPerSecond) + HEADROOM_BYTES;
}

/** The largest image of a frame: as large as an uncompressed 16-bit RGBA image of it, and headroom. */
export function imageByteLimit(width: number, height: number): number {
  return width * height * 8 + HEADROOM_BYTES;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** What an image must be: within the tier's frame and, when its stage recorded them, of its size. */
export interface ImageLimit {
  frame: [number, number];
  made?: { width?: number; height?: number };
  /** Which stage made it, for messages, when `made` is given. */
  madeBy?: string;
}

/**
 * Checks an image's bytes: a real PNG or JPEG (by its header), no larger than the frame, of the size
 * its stage recorded, and of a sane byte size. Returns its format and size.
 */
export function checkImage(
  what: string,
  bytes: Uint8Array,
  limit: ImageLimit,
): { format: "png" | "jpeg"; width: number; height: number } {
  const [frameWidth, frameHeight] = limit.frame;
  if (bytes.length > imageByteLimit(frameWidth, frameHeight)) {
    throw new PermanentError(
      `${what} is ${megabytes(bytes.length)}; an image of ${frameWidth}x${frameHeight} is at most ${
        megabytes(imageByteLimit(frameWidth, frameHeight))
      }`,
    );
  }
  const size = imageSize(bytes);
  if (!size) throw new PermanentError(`${what} is not a PNG or JPEG image`);
  const { format, width, height } = size;
  if (width < 1 || height < 1 || width > frameWidth || height > frameHeight) {
    throw new PermanentError(
      `${what} is ${width}x${height} pixels; this video's frame is ${frameWidth}x${frameHeight}`,
    );
  }
  const made = limit.made;
  if (made?.width && made?.height && (made.width !== width || made.height !== height)) {
    throw new PermanentError(
      `${what} is ${width}x${height} pixels, but ${limit.madeBy} made it ${made.width}x${made.height}`,
    );
  }
  return { format, width, height };
}
