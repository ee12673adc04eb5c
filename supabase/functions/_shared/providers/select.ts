/**
 * Every provider, hosted where a key is set and offline otherwise: what the worker service and local
 * development use. Offline media providers run ffmpeg and espeak-ng, so no Edge Function imports this
 * module (Edge Functions choose theirs in edge.ts).
 */
import type { Config } from "../env.ts";
import { elevenlabsSpeech } from "./elevenlabs.ts";
import { hostedImageProvider, scriptProvider } from "./edge.ts";
import { modelslabClient } from "./modelslab.ts";
import { modelslabLipsync, modelslabVideo } from "./modelslab_media.ts";
import { offlineProviders } from "./offline.ts";
import type { Fetch } from "./openai.ts";
import type { Providers } from "./types.ts";

type ProviderConfig =
  & Pick<
    Config,
    "openaiApiKey" | "openrouterApiKey" | "elevenlabsApiKey" | "modelslabApiKey" | "storageBackend"
  >
  & Partial<Pick<Config, "providerBaseUrls">>;

export function selectProviders(cfg: ProviderConfig, fetchFn: Fetch = fetch): Providers {
  // Video and lipsync send ModelsLab URLs of stored inputs, which only Supabase Storage can sign.
  const fetchesInputs = cfg.modelslabApiKey && cfg.storageBackend === "supabase"
    ? modelslabClient(cfg.modelslabApiKey, cfg, fetchFn)
    : null;
  return {
    script: scriptProvider(cfg, fetchFn),
    image: cfg.modelslabApiKey ? hostedImageProvider(cfg, fetchFn) : offlineProviders.image,
    speech: cfg.elevenlabsApiKey
      ? elevenlabsSpeech(cfg.elevenlabsApiKey, fetchFn, cfg.providerBaseUrls?.elevenlabs)
      : offlineProviders.speech,
    video: fetchesInputs ? modelslabVideo(fetchesInputs) : offlineProviders.video,
    lipsync: fetchesInputs ? modelslabLipsync(fetchesInputs) : offlineProviders.lipsync,
    merge: offlineProviders.merge,
  };
}
