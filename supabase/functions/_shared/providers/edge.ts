/**
 * The providers an Edge Function may use: hosted clients, and offline ones that run no tool. A
 * capability whose only offline provider needs a tool has no fallback here: without its key, the
 * function fails with a configuration error instead of trying to run ffmpeg where it cannot.
 */
import { type Config, ConfigError } from "../env.ts";
import { hostedScript } from "./hosted_script.ts";
import { modelslabClient, modelslabImage } from "./modelslab.ts";
import { isOfflineModel } from "./models.ts";
import { offlineScript } from "./offline_script.ts";
import { type Fetch, textClient } from "./openai.ts";
import type { ImageProvider, ScriptProvider } from "./types.ts";

type KeyConfig =
  & Pick<Config, "openaiApiKey" | "openrouterApiKey" | "modelslabApiKey">
  & Partial<Pick<Config, "providerBaseUrls">>;

/** OpenAI or OpenRouter where a key is set, the offline rules otherwise. */
export function scriptProvider(cfg: KeyConfig, fetchFn: Fetch = fetch): ScriptProvider {
  const text = textClient(cfg, fetchFn);
  if (!text) return offlineScript;
  const hosted = hostedScript(text.client, text.model, text.modelId);
  // A quality whose ladder names the offline rules gets them, keys or not.
  return {
    generateScript: (input) => (isOfflineModel(input.model) ? offlineScript : hosted).generateScript(input),
  };
}

/** ModelsLab; without its key, a configuration error (the offline renderer runs in the worker service). */
export function hostedImageProvider(cfg: KeyConfig, fetchFn: Fetch = fetch): ImageProvider {
  if (!cfg.modelslabApiKey) {
    throw new ConfigError(
      "missing environment variable MODELSLAB_API_KEY: an Edge Function renders images with ModelsLab only " +
        "(without the key, run the images stage in the worker service: npm run worker -- images)",
    );
  }
  return modelslabImage(modelslabClient(cfg.modelslabApiKey, cfg, fetchFn));
}
