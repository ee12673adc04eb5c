/**
 * The checks of files read back that need ffprobe (speech tracks, scene clips): only the worker
 * service's stages use them. The limits themselves are in limits.ts.
 */
import { PermanentError } from "../errors.ts";
import { type MediaFacts, probeMedia } from "../media.ts";
import { assertLength, type LengthLimit } from "./limits.ts";

async function probeReadable(what: string, path: string): Promise<MediaFacts> {
  try {
    return await probeMedia(path);
  } catch (error) {
    if (error instanceof PermanentError) {
      throw new PermanentError(`${what} is corrupt or not a media file: ${error.message}`);
    }
    throw error;
  }
}

function described(facts: MediaFacts): string {
  const streams = facts.streams.map((s) => `${s.type} ${s.codec}`).join(", ") || "no streams";
  return `${facts.format.split(",")[0]} with ${streams}`;
}

/** A scene's speech track: a WAV of one audio stream within its length limit. Returns its seconds. */
export async function checkSpeechTrack(what: string, path: string, limit: LengthLimit): Promise<number> {
  const facts = await probeReadable(what, path);
  if (facts.format !== "wav" || facts.streams.length !== 1 || facts.streams[0].type !== "audio") {
    throw new PermanentError(`${what} is not a WAV file of one audio stream (it is ${described(facts)})`);
  }
  assertLength(what, facts.seconds, limit);
  return facts.seconds;
}

/**
 * A scene clip: an MP4 of H.264 video of the frame and AAC audio (the format every clip shares, so the
 * merge can join them without re-encoding), within its length limit. Returns its seconds.
 */
export async function checkSceneClip(
  what: string,
  path: string,
  limit: LengthLimit & { frame: [number, number] },
): Promise<number> {
  const facts = await probeReadable(what, path);
  const video = facts.streams.filter((s) => s.type === "video");
  const audio = facts.streams.filter((s) => s.type === "audio");
  const isSceneClip = facts.format.split(",").includes("mp4") && video.length === 1 &&
    video[0].codec === "h264" && audio.length === 1 && audio[0].codec === "aac";
  if (!isSceneClip) {
    throw new PermanentError(
      `${what} is not an MP4 of H.264 video and AAC audio (it is ${described(facts)})`,
    );
  }
  const [width, height] = limit.frame;
  if (video[0].width !== width || video[0].height !== height) {
    throw new PermanentError(
      `${what} is ${video[0].width}x${video[0].height} pixels; this video's frame is ${width}x${height}`,
    );
  }
  assertLength(what, facts.seconds, limit);
  return facts.seconds;
}
