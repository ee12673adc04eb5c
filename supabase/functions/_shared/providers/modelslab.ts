/**
 * ModelsLab's client and its image model. The API key travels in the JSON body; a job that is not
 * ready at once answers "processing" with an eta and a fetch_result URL, polled until it succeeds.
 * Results are URLs, downloaded here. Nothing here runs a tool: it runs on Edge (the clip models,
 * which re-encode with ffmpeg, are in modelslab_media.ts).
 */
import { MODELS } from "./models.ts";
import { PermanentError, RetryableError } from "../errors.ts";
import { asPng } from "./png.ts";
import { callProvider, type Fetch, postJson } from "./provider_http.ts";
import type { ImageProvider } from "./types.ts";

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

/** A client at the configured base URL (MODELSLAB_BASE_URL), or ModelsLab's own. */
export function modelslabClient(
  apiKey: string,
  cfg: { providerBaseUrls?: { modelslab?: string } },
  fetchFn: Fetch = fetch,
): ModelsLabClient {
  return new ModelsLabClient(apiKey, fetchFn, { baseUrl: cfg.providerBaseUrls?.modelslab });
}

/** The largest size within ModelsLab's 1024-pixel limit with the same shape, in multiples of 8. */
export function fitWithin(width: number, height: number, limit = 1024): [number, number] {
  const scale = Math.min(1, limit / Math.max(width, height));
  return [Math.floor(width * scale / 8) * 8, Math.floor(height * scale / 8) * 8];
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
      const png = asPng(await client.download(url), "modelslab");
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
