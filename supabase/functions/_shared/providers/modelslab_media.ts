/**
 * ModelsLab's clip models (image-to-video, lipsync): their clips are re-encoded with ffmpeg to the
 * format every scene clip shares, so they run in the worker service only.
 */
import { MODELS } from "./models.ts";
import { CLIP_FPS, clipOutputArgs, probeDuration, run, timeLimitFor } from "../media.ts";
import { fitWithin, type ModelsLabClient } from "./modelslab.ts";
import type { LipsyncProvider, VideoProvider } from "./types.ts";

/** A downloaded clip brought to the frame, rate and codecs of every scene clip, with `audioPath` as its sound. */
async function conformClip(
  sourcePath: string,
  audioPath: string,
  outPath: string,
  width: number,
  height: number,
  loop: boolean,
): Promise<number> {
  const seconds = await probeDuration(audioPath);
  await run("ffmpeg", [
    "-hide_banner",
    "-loglevel",
    "error",
    "-y",
    ...(loop ? ["-stream_loop", "-1"] : []),
    "-i",
    sourcePath,
    "-i",
    audioPath,
    "-filter_complex",
    `[0:v]scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,fps=${CLIP_FPS},format=yuv420p[v]`,
    "-map",
    "[v]",
    "-map",
    "1:a",
    ...clipOutputArgs(seconds, outPath),
  ], { timeoutMs: timeLimitFor(seconds) });
  return await probeDuration(outPath);
}

const VIDEO_MODEL = "wan2.2";

/** ModelsLab animates the scene's image; the short clip is looped for the length of the scene's audio. */
export function modelslabVideo(client: ModelsLabClient): VideoProvider {
  return {
    async animate(request) {
      const started = performance.now();
      const [width, height] = fitWithin(request.width, request.height, 768);
      const [url] = await client.generate("/v6/video/img2video", {
        model_id: VIDEO_MODEL,
        init_image: await request.image.url(),
        prompt: request.description,
        width,
        height,
        num_frames: 81,
      });
      const source = `${request.outPath}.source.mp4`;
      await Deno.writeFile(source, await client.download(url));
      const durationSeconds = await conformClip(
        source,
        await request.audio.file(),
        request.outPath,
        request.width,
        request.height,
        true,
      );
      return {
        durationSeconds,
        model: MODELS.modelslabVideo,
        provider: "modelslab",
        usage: [{
          model: MODELS.modelslabVideo,
          operation: "video",
          units: 1, // one generated clip (81 frames), looped to the scene's length
          duration_ms: Math.round(performance.now() - started),
        }],
      };
    },
  };
}

export function modelslabLipsync(client: ModelsLabClient): LipsyncProvider {
  return {
    async sync(request) {
      const started = performance.now();
      const [url] = await client.generate("/v7/video-fusion/lip-sync", {
        model_id: "lipsync-2",
        init_video: await request.clip.url(),
        init_audio: await request.audio.url(),
      });
      const source = `${request.outPath}.source.mp4`;
      await Deno.writeFile(source, await client.download(url));
      const seconds = await conformClip(
        source,
        await request.audio.file(),
        request.outPath,
        request.width,
        request.height,
        false,
      );
      return {
        applied: true,
        model: MODELS.modelslabLipsync,
        provider: "modelslab",
        usage: [{
          model: MODELS.modelslabLipsync,
          operation: "lipsync",
          units: seconds,
          duration_ms: Math.round(performance.now() - started),
        }],
      };
    },
  };
}
