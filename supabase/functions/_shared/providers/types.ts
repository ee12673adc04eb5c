/** One interface per capability; offline implementations are the default, hosted ones need keys. */
import type { GeneratedScript, ScriptInput } from "./text/script_rules.ts";
import type { UsageCall } from "../pipeline/worker.ts";

export interface ScriptProvider {
  generateScript(input: ScriptInput): Promise<{ script: GeneratedScript; model: string; usage: UsageCall[] }>;
}

/** Requests may name the model to call (the generation's quality's); a provider serving one model ignores it. */
export interface ImageRequest {
  model?: string;
  title: string;
  caption: string;
  mood: string;
  width: number;
  height: number;
}

export interface ImageProvider {
  render(
    request: ImageRequest,
  ): Promise<{ png: Uint8Array; model: string; provider: string; usage: UsageCall[] }>;
}

export interface SpeechProvider {
  /** WAV audio of `text` in `voice`; chooses a voice from `speakerKey` when none is given. */
  speak(text: string, voice: string | null, speakerKey: string, model?: string): Promise<
    {
      wav: Uint8Array;
      durationMs: number;
      voice: string;
      model: string;
      provider: string;
      usage: UsageCall[];
    }
  >;
}

/** A stored input, fetched only in the form a provider asks for: a local file for tools on this
 * machine, or a signed URL for a hosted service. */
export interface MediaInput {
  file(): Promise<string>;
  url(): Promise<string>;
}

export interface ClipRequest {
  model?: string;
  image: MediaInput;
  audio: MediaInput;
  /** What the scene shows, for providers that animate from a prompt. */
  description: string;
  outPath: string;
  width: number;
  height: number;
}

export interface LipsyncRequest {
  model?: string;
  clip: MediaInput;
  audio: MediaInput;
  outPath: string;
  width: number;
  height: number;
}

export interface VideoProvider {
  animate(
    request: ClipRequest,
  ): Promise<{ durationSeconds: number; model: string; provider: string; usage: UsageCall[] }>;
}

export interface LipsyncProvider {
  /** `applied`: the synced clip was written to `outPath`; otherwise the input clip stands. */
  sync(request: LipsyncRequest): Promise<
    { applied: boolean; model: string; provider: string; usage: UsageCall[] }
  >;
}

export interface MergeProvider {
  /** `params` records how the clips were joined (merge_jobs.ffmpeg_params). */
  concat(clipPaths: string[], outPath: string): Promise<
    {
      durationSeconds: number;
      model: string;
      provider: string;
      params: Record<string, unknown>;
      usage: UsageCall[];
    }
  >;
}

export interface Providers {
  script: ScriptProvider;
  image: ImageProvider;
  speech: SpeechProvider;
  video: VideoProvider;
  lipsync: LipsyncProvider;
  merge: MergeProvider;
}
