/** The providers the configuration allows: hosted where a key is set, offline otherwise. */
import type { Config } from "../env.ts";
import { elevenlabsSpeech } from "./elevenlabs.ts";
import { hostedScript } from "./hosted_script.ts";
import { ModelsLabClient, modelslabImage, modelslabLipsync, modelslabVideo } from "./modelslab.ts";
import { offlineProviders } from "./offline.ts";
import { type Fetch, textClient } from "./openai.ts";
import type { Providers } from "./types.ts";

type ProviderConfig = Pick<
  Config,
  "openaiApiKey" | "openrouterApiKey" | "elevenlabsApiKey" | "modelslabApiKey" | "storageBackend"
>;

export function selectProviders(cfg: ProviderConfig, fetchFn: Fetch = fetch): Providers {
  const text = textClient(cfg, fetchFn);
  const modelslab = cfg.modelslabApiKey ? new ModelsLabClient(cfg.modelslabApiKey, fetchFn) : null;
  // Video and lipsync send ModelsLab URLs of stored inputs, which only Supabase Storage can sign.
  const fetchesInputs = modelslab && cfg.storageBackend === "supabase" ? modelslab : null;
  return {
    script: text ? hostedScript(text.client, text.model) : offlineProviders.script,
    image: modelslab ? modelslabImage(modelslab) : offlineProviders.image,
    speech: cfg.elevenlabsApiKey ? elevenlabsSpeech(cfg.elevenlabsApiKey, fetchFn) : offlineProviders.speech,
    video: fetchesInputs ? modelslabVideo(fetchesInputs) : offlineProviders.video,
    lipsync: fetchesInputs ? modelslabLipsync(fetchesInputs) : offlineProviders.lipsync,
    merge: offlineProviders.merge,
  };
}
