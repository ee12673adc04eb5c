/**
 * Every provider, hosted where a key is set and offline otherwise: what the worker service and local
 * development use. Offline media providers run ffmpeg and espeak-ng, so no Edge Function imports this
 * module (Edge Functions choose theirs in edge.ts).
 */
import type { Config } from "../env.ts";
import { ELEVENLABS_MODELS, elevenlabsSpeech } from "./elevenlabs.ts";
import { MODELS } from "./models.ts";
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
  const offline = offlineProviders;
  const image = byModel(offline.image, cfg.modelslabApiKey ? hostedImageProvider(cfg, fetchFn) : null, [
    MODELS.modelslabImage,
  ]);
  const speech = byModel(
    offline.speech,
    cfg.elevenlabsApiKey
      ? elevenlabsSpeech(cfg.elevenlabsApiKey, fetchFn, cfg.providerBaseUrls?.elevenlabs)
      : null,
    ELEVENLABS_MODELS,
  );
  const video = byModel(offline.video, fetchesInputs && modelslabVideo(fetchesInputs), [
    MODELS.modelslabVideo,
  ]);
  const lipsync = byModel(offline.lipsync, fetchesInputs && modelslabLipsync(fetchesInputs), [
    MODELS.modelslabLipsync,
  ]);
  return {
    script: scriptProvider(cfg, fetchFn),
    image: image.only ?? { render: (request) => image.for(request.model).render(request) },
    speech: speech.only ??
      { speak: (text, voice, speaker, model) => speech.for(model).speak(text, voice, speaker, model) },
    video: video.only ?? { animate: (request) => video.for(request.model).animate(request) },
    lipsync: lipsync.only ?? { sync: (request) => lipsync.for(request.model).sync(request) },
    merge: offline.merge,
  };
}

/**
 * Per call, the hosted provider when its key is set and it serves the requested model (the quality's,
 * or none asked), the offline one otherwise: a quality whose ladder names an offline model gets it
 * whatever keys are set. Without a hosted provider there is nothing to choose (`only`).
 */
function byModel<P>(
  offline: P,
  hosted: P | null,
  serves: readonly string[],
): { only?: P; for(model?: string): P } {
  if (!hosted) return { only: offline, for: () => offline };
  return { for: (model) => (model === undefined || serves.includes(model) ? hosted : offline) };
}
