/**
 * The stored inputs of the worker's stages (video, lipsync, merge), each checked against what the
 * earlier stage recorded making and the scene's limits before a tool or a provider sees it.
 */
import type { Storage } from "../storage.ts";
import { download, mediaInput } from "./deps.ts";
import {
  allowedSeconds,
  checkImage,
  CLIP_BYTES_PER_SECOND,
  imageByteLimit,
  mediaByteLimit,
  sceneSecondsLimit,
  WAV_BYTES_PER_SECOND,
} from "./limits.ts";
import { checkSceneClip, checkSpeechTrack } from "./media_checks.ts";
import type { StepContext } from "./worker.ts";

/** The images stage's result for a unit: where its image is and the size it recorded. */
export interface StoredImage {
  storage_path: string;
  width?: number;
  height?: number;
}

/** The audio stage's result for a scene: where its track is and the length it recorded. */
export interface StoredAudio {
  storage_path: string;
  url?: string;
  duration_ms?: number | null;
}

/** A scene clip as the video stage recorded it (and the merge lists it). */
export interface StoredClip {
  storage_path: string;
  url?: string;
  duration_seconds?: number | null;
}

type Limits = Pick<StepContext, "frame_width" | "frame_height" | "max_video_seconds">;

/** The quality's frame size, as begin_step gives it. */
const frameOf = (context: Limits): [number, number] => [context.frame_width, context.frame_height];

/** A length an earlier stage recorded, in seconds, when it recorded one. */
function recordedSeconds(value: unknown, unitsPerSecond = 1): number | undefined {
  const units = typeof value === "number" || typeof value === "string" ? Number(value) : Number.NaN;
  return units > 0 ? units / unitsPerSecond : undefined;
}

/** The scene's image: a PNG or JPEG within the frame, of the size the images stage made. */
export function sceneImage(storage: Storage, context: Limits, image: StoredImage, file: string) {
  const frame = frameOf(context);
  const what = "the scene image";
  return mediaInput(storage, image.storage_path, file, {
    what,
    maxBytes: imageByteLimit(...frame),
    expected: `an image of ${frame[0]}x${frame[1]}`,
    check: async (path) =>
      checkImage(what, await Deno.readFile(path), { frame, made: image, madeBy: "the images stage" }),
  });
}

/** The scene's speech track: a WAV within the scene's limit and as long as the audio stage made it. */
export function sceneAudio(storage: Storage, context: Limits, audio: StoredAudio, file: string) {
  const what = "the scene audio";
  const limit = {
    sceneSeconds: sceneSecondsLimit(context),
    madeSeconds: recordedSeconds(audio.duration_ms, 1000),
    madeBy: "the audio stage",
  };
  return mediaInput(storage, audio.storage_path, file, {
    what,
    maxBytes: mediaByteLimit(allowedSeconds(limit), WAV_BYTES_PER_SECOND),
    expected: `a speech track of ${allowedSeconds(limit).toFixed(1)} s`,
    check: (path) => checkSpeechTrack(what, path, limit),
  });
}

function clipCheck(context: Limits, clip: StoredClip, what: string) {
  const limit = {
    sceneSeconds: sceneSecondsLimit(context),
    madeSeconds: recordedSeconds(clip.duration_seconds),
    madeBy: "the video stage",
    frame: frameOf(context),
  };
  return {
    what,
    maxBytes: mediaByteLimit(allowedSeconds(limit), CLIP_BYTES_PER_SECOND),
    expected: `a scene clip of ${allowedSeconds(limit).toFixed(1)} s`,
    check: (path: string) => checkSceneClip(what, path, limit),
  };
}

/** A scene clip as a provider input: an MP4 of the frame, as long as the video stage made it. */
export function sceneClip(storage: Storage, context: Limits, clip: StoredClip, file: string) {
  return mediaInput(storage, clip.storage_path, file, clipCheck(context, clip, "the scene clip"));
}

/** Downloads a scene clip to `file` for a tool, checked as sceneClip checks it. */
export async function downloadSceneClip(
  storage: Storage,
  context: Limits,
  clip: StoredClip & { scene_number: number },
  file: string,
): Promise<string> {
  return await download(
    storage,
    clip.storage_path,
    file,
    clipCheck(context, clip, `scene ${clip.scene_number}'s clip`),
  );
}
