/**
 * ModelsLab (image, image-to-video, lipsync). The API key travels in the JSON body; a job that is not
 * ready at once answers "processing" with an eta and a fetch_result URL, polled until it succeeds.
 * Results are URLs, downloaded here and re-encoded to the clip format every stage shares.
 */
import { MODELS } from "./models.ts";
import { PermanentError, RetryableError } from "../errors.ts";
import { CLIP_FPS, clipOutputArgs, probeDuration, run, timeLimitFor, withTempDir } from "../media.ts";
import { callProvider, type Fetch, postJson } from "./provider_http.ts";
import type { ImageProvider, LipsyncProvider, VideoProvider } from "./types.ts";

interface Answer {
  status?: string;
  id?: number | string;
  output?: string[];
  eta?: number;
  fetch_result?: string;
  message?: string;
}

export interface ModelsLabOptions {
  baseUrl?: string;
  /** Shortest and longest wait between polls, and the most a job may take. */
  pollSeconds?: [number, number];
  maxWaitSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Messages ModelsLab sends for conditions that pass (its errors arrive as HTTP 200). */
const PASSING = /rate limit|too many|busy|try again|timed? ?out|overload|queue/i;

export class ModelsLabClient {
  private baseUrl: string;
  private pollSeconds: [number, number];
  private maxWaitSeconds: number;
  private sleep: (ms: number) => Promise<void>;

  constructor(private apiKey: string, private fetchFn: Fetch = fetch, options: ModelsLabOptions = {}) {
    this.baseUrl = options.baseUrl ?? "https://modelslab.com/api";
    this.pollSeconds = options.pollSeconds ?? [5, 60];
    this.maxWaitSeconds = options.maxWaitSeconds ?? 900;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  private post(url: string, body: Record<string, unknown>): Promise<Answer> {
    return postJson("modelslab", this.fetchFn, url, {}, { key: this.apiKey, ...body }, 120_000);
  }

  /** Runs a job to the end and returns its output URLs. */
  async generate(path: string, body: Record<string, unknown>): Promise<string[]> {
    let answer = await this.post(`${this.baseUrl}${path}`, body);
    let waited = 0;
    while (answer.status === "processing") {
      if (!answer.fetch_result) {
        throw new RetryableError(`modelslab job ${answer.id} is processing without a fetch URL`);
      }
      if (waited >= this.maxWaitSeconds) {
        throw new RetryableError(`modelslab job ${answer.id} not ready after ${waited} s`);
      }
      const [shortest, longest] = this.pollSeconds;
      const wait = Math.min(Math.max(answer.eta ?? shortest, shortest), longest);
      await this.sleep(wait * 1000);
      waited += wait;
      answer = await this.post(answer.fetch_result, {});
    }
    if (answer.status === "success" && answer.output?.length) return answer.output;
    const message = answer.message ?? `status ${answer.status ?? "missing"} without output`;
    throw PASSING.test(message)
      ? new RetryableError(`modelslab: ${message}`)
      : new PermanentError(`modelslab: ${message}`);
  }

  async download(url: string): Promise<Uint8Array> {
    const response = await callProvider("modelslab output", this.fetchFn, url, {}, 120_000);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length === 0) throw new RetryableError(`modelslab output ${url} is empty`);
    return bytes;
  }
}

/** The largest size within ModelsLab's 1024-pixel limit with the same shape, in multiples of 8. */
export function fitWithin(width: number, height: number, limit = 1024): [number, number] {
  const scale = Math.min(1, limit / Math.max(width, height));
  return [Math.floor(width * scale / 8) * 8, Math.floor(height * scale / 8) * 8];
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The image as PNG: ModelsLab may answer with JPEG or WebP. */
async function asPng(bytes: Uint8Array): Promise<Uint8Array> {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return bytes;
  return await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/source`, bytes);
    await run("ffmpeg", [
      "-hide_banner",
      "-loglevel",
      "error",
      "-y",
      "-i",
      `${dir}/source`,
      "-frames:v",
      "1",
      `${dir}/image.png`,
    ], { timeoutMs: timeLimitFor(0) });
    return await Deno.readFile(`${dir}/image.png`);
  });
}

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

const IMAGE_MODEL = "flux";

export function modelslabImage(client: ModelsLabClient): ImageProvider {
  return {
    async render(request) {
      const started = performance.now();
      const [width, height] = fitWithin(request.width, request.height);
      const [url] = await client.generate("/v6/images/text2img", {
        model_id: IMAGE_MODEL,
        prompt: `${request.title}. ${request.caption} Cinematic still, ${request.mood} light.`,
        negative_prompt: "text, watermark, blurry, deformed, extra limbs",
        width,
        height,
        samples: 1,
      });
      const png = await asPng(await client.download(url));
      return {
        png,
        model: MODELS.modelslabImage,
        provider: "modelslab",
        usage: [{
          model: MODELS.modelslabImage,
          operation: "image",
          units: 1,
          duration_ms: Math.round(performance.now() - started),
        }],
      };
    },
  };
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
      const generatedSeconds = await probeDuration(source);
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
          units: generatedSeconds,
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
