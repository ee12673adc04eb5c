/**
 * A local stand-in for the hosted providers the pipeline calls (OpenAI chat, ElevenLabs speech,
 * ModelsLab images, video and lipsync), answering in the shapes of the recorded responses in
 * providers/recorded/ after a seeded, realistic delay. Each replica calls it under its own prefix
 * (/r<n>/...), so calls are counted per replica and per unit (a key taken from the request), and
 * the calls in flight are known when a replica is killed.
 */
import { run } from "../../../supabase/functions/_shared/media.ts";

const recordedDir = new URL("../../../supabase/functions/_shared/providers/recorded/", import.meta.url);
const recorded = (name: string): Record<string, unknown> =>
  JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, recordedDir)));

/** Seconds of each call at scale 1: [shortest, longest]. */
export const LATENCY: Record<PaidEndpoint, [number, number]> = {
  script: [3, 6],
  image: [2, 5],
  speech: [1, 3],
  video: [5, 10],
  lipsync: [3, 6],
};
/** ModelsLab keeps a request open this long (scale 1) before answering "processing" with an eta. */
const HOLD_SECONDS = 8;
/** Speech speed of the PCM answers, characters per second. */
const CHARS_PER_SECOND = 15;
const SAMPLE_RATE = 22050;

export type PaidEndpoint = "script" | "image" | "speech" | "video" | "lipsync";

export interface Call {
  endpoint: PaidEndpoint;
  key: string;
  replica: number;
  startedAt: number;
  endedAt?: number;
}

export interface StoryShape {
  scenes: number;
}

/** A seeded generator (mulberry32): the same seed gives the same delays in the same order. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The scenes the model "writes" for story `k`: every text names the story and scene, so each unit's calls have their own key. */
export function storyScenes(k: number, scenes: number) {
  return Array.from({ length: scenes }, (_, i) => ({
    location: `the harbour of story ${k}`,
    time_of_day: i % 2 ? "night" : "evening",
    characters: [`Mara${k}`],
    key_actions: [`Scene ${i + 1} of story ${k} happens`],
    visual_description: `Boats crowd the harbour in scene ${i + 1} of story ${k}.`,
    audio_requirements: "wind, gulls",
    narration: `The boats came home, scene ${i + 1} of story ${k}.`,
    dialogue: [{ speaker: `Mara${k}`, line: `Light the lamp, ${i + 1} of ${k}.` }],
    estimated_duration_seconds: 5,
  }));
}

export interface RecordedProviders {
  url: string;
  /** Base URLs for replica `n`'s environment. */
  envFor(replica: number): Record<string, string>;
  calls: Call[];
  /** ModelsLab answers that were "processing" (polled with fetch_result). */
  processing: number;
  /** Inputs (signed Storage URLs) the fake ModelsLab could not fetch. */
  inputFailures: string[];
  reset(): void;
  close(): Promise<void>;
}

export async function startRecordedProviders(options: {
  scale: number;
  seed: number;
  scenes: number;
  workDir: string;
}): Promise<RecordedProviders> {
  const random = seeded(options.seed);
  const delay = (endpoint: PaidEndpoint) => {
    const [low, high] = LATENCY[endpoint];
    return (low + (high - low) * random()) * options.scale * 1000;
  };
  const media = await makeMedia(options.workDir);
  const chat = recorded("openai_chat_script");
  const processingTemplate = recorded("modelslab_text2img_processing");
  const templates = {
    image: recorded("modelslab_fetch_image_success"),
    video: recorded("modelslab_img2video_success"),
    lipsync: recorded("modelslab_lipsync_success"),
  };
  const jobs = new Map<number, { readyAt: number; kind: "image" | "video" | "lipsync"; call: Call }>();
  let nextJob = 1;
  const state: RecordedProviders = {
    url: "",
    envFor: (n) => ({
      OPENAI_API_KEY: "sk-bench",
      OPENAI_BASE_URL: `${state.url}/r${n}/openai/v1`,
      ELEVENLABS_API_KEY: "xi-bench",
      ELEVENLABS_BASE_URL: `${state.url}/r${n}/elevenlabs`,
      MODELSLAB_API_KEY: "ml-bench",
      MODELSLAB_BASE_URL: `${state.url}/r${n}/modelslab/api`,
    }),
    calls: [],
    processing: 0,
    inputFailures: [],
    reset() {
      state.calls.length = 0;
      state.processing = 0;
      state.inputFailures.length = 0;
      jobs.clear();
    },
    close: () => server.shutdown(),
  };
  const begin = (endpoint: PaidEndpoint, key: string, replica: number): Call => {
    const call = { endpoint, key, replica, startedAt: Date.now() };
    state.calls.push(call);
    return call;
  };
  /** A fake ModelsLab job: fetches its inputs as ModelsLab would, then holds or answers "processing". */
  const modelslabJob = async (
    kind: "image" | "video" | "lipsync",
    key: string,
    replica: number,
    inputs: string[],
    prefix: string,
  ): Promise<Response> => {
    const call = begin(kind, key, replica);
    for (const input of inputs) {
      const res = await fetch(input).catch((e) => new Response(String(e), { status: 599 }));
      if (!res.ok) state.inputFailures.push(`${kind} ${res.status} ${input.replace(/\?.*/, "")}`);
      await res.body?.cancel();
    }
    const seconds = delay(kind) / 1000;
    const hold = HOLD_SECONDS * options.scale;
    if (seconds <= hold) {
      await sleep(seconds * 1000);
      call.endedAt = Date.now();
      return Response.json(success(kind, nextJob++));
    }
    const id = nextJob++;
    jobs.set(id, { readyAt: Date.now() + seconds * 1000, kind, call });
    await sleep(Math.min(500 * options.scale, seconds * 1000));
    return processing(id, prefix);
  };
  const success = (kind: "image" | "video" | "lipsync", id: number) => ({
    ...templates[kind],
    id,
    output: [`${state.url}/files/${kind === "image" ? "image.png" : `${kind}.mp4`}`],
  });
  const processing = (id: number, prefix: string) => {
    state.processing++;
    const job = jobs.get(id)!;
    return Response.json({
      ...processingTemplate,
      id,
      eta: Math.max(0.5, (job.readyAt - Date.now()) / 1000),
      fetch_result: `${state.url}${prefix}/modelslab/api/v6/fetch/${id}`,
      output: [],
    });
  };

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname.startsWith("/files/")) {
      const bytes = media[url.pathname.slice("/files/".length)];
      return bytes ? new Response(bytes) : new Response("no such file", { status: 404 });
    }
    const match = url.pathname.match(/^(\/r(\d+))(\/.*)$/);
    if (!match || req.method !== "POST") return new Response("not recorded", { status: 404 });
    const [, prefix, replicaText, path] = match;
    const replica = Number(replicaText);
    const body = await req.json() as Record<string, unknown>;
    if (path === "/openai/v1/chat/completions") {
      const user = String((body.messages as { content: string }[])[1]?.content ?? "");
      const title = user.match(/^Chapter \d+, "([^"]*)"/)?.[1] ?? "unknown";
      const k = Number(title.match(/story (\d+)/)?.[1] ?? 0);
      const call = begin("script", `script:${title}`, replica);
      await sleep(delay("script"));
      call.endedAt = Date.now();
      const content = JSON.stringify({ scenes: storyScenes(k, options.scenes) });
      const choices = (chat.choices as Record<string, unknown>[]).map((c) => ({
        ...c,
        message: { role: "assistant", content, refusal: null },
      }));
      return Response.json({ ...chat, choices });
    }
    const voice = path.match(/^\/elevenlabs\/v1\/text-to-speech\/([A-Za-z0-9]+)$/)?.[1];
    if (voice) {
      const text = String(body.text ?? "");
      const call = begin("speech", `speech:${voice}:${text}`, replica);
      await sleep(delay("speech"));
      call.endedAt = Date.now();
      return new Response(pcmFor(text));
    }
    if (path === "/modelslab/api/v6/images/text2img") {
      return await modelslabJob("image", `image:${body.prompt}`, replica, [], prefix);
    }
    if (path === "/modelslab/api/v6/video/img2video") {
      const image = String(body.init_image);
      return await modelslabJob("video", `video:${image.replace(/\?.*/, "")}`, replica, [image], prefix);
    }
    if (path === "/modelslab/api/v7/video-fusion/lip-sync") {
      const clip = String(body.init_video);
      const audio = String(body.init_audio);
      return await modelslabJob(
        "lipsync",
        `lipsync:${clip.replace(/\?.*/, "")}`,
        replica,
        [clip, audio],
        prefix,
      );
    }
    const fetchId = path.match(/^\/modelslab\/api\/v6\/fetch\/(\d+)$/)?.[1];
    if (fetchId) {
      await sleep(delayRange(0.2, 0.5) * options.scale);
      const job = jobs.get(Number(fetchId));
      if (!job) return Response.json({ status: "error", message: `no job ${fetchId}` });
      if (Date.now() < job.readyAt) return processing(Number(fetchId), prefix);
      job.call.endedAt ??= Date.now();
      return Response.json(success(job.kind, Number(fetchId)));
    }
    return new Response(`not recorded: ${path}`, { status: 404 });
  };
  const delayRange = (low: number, high: number) => (low + (high - low) * random()) * 1000;

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  state.url = `http://127.0.0.1:${server.addr.port}`;
  return state;
}

/** A quiet tone as long as the text takes to say, as 16-bit PCM. */
function pcmFor(text: string): Uint8Array<ArrayBuffer> {
  const samples = Math.max(1, Math.round(text.length / CHARS_PER_SECOND * SAMPLE_RATE));
  const pcm = new Uint8Array(samples * 2);
  const view = new DataView(pcm.buffer);
  for (let i = 0; i < samples; i++) view.setInt16(i * 2, Math.round(3000 * Math.sin(i / 12)), true);
  return pcm;
}

/** A small PNG and two short MP4s, made once with ffmpeg (a generated clip; a synced clip with sound). */
async function makeMedia(dir: string): Promise<Record<string, Uint8Array<ArrayBuffer>>> {
  const ffmpeg = (args: string[]) => run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args]);
  await ffmpeg(["-f", "lavfi", "-i", "color=c=navy:s=256x144", "-frames:v", "1", `${dir}/image.png`]);
  await ffmpeg([
    ...["-f", "lavfi", "-i", "testsrc=s=320x180:r=16", "-t", "1.5"],
    ...["-pix_fmt", "yuv420p", `${dir}/video.mp4`],
  ]);
  await ffmpeg([
    ...["-f", "lavfi", "-i", "testsrc=s=320x180:r=25", "-f", "lavfi", "-i", "sine=frequency=300:duration=12"],
    ...["-t", "12", "-pix_fmt", "yuv420p", "-c:a", "aac", `${dir}/lipsync.mp4`],
  ]);
  return {
    "image.png": await Deno.readFile(`${dir}/image.png`),
    "video.mp4": await Deno.readFile(`${dir}/video.mp4`),
    "lipsync.mp4": await Deno.readFile(`${dir}/lipsync.mp4`),
  };
}
