/**
 * Every model id the providers record usage under. Each must have a price in private.model_prices:
 * a test checks it (models_test.ts), and a model used without one is listed by the health function.
 */
export const MODELS = {
  offlineText: "offline-rules-v1",
  offlineEmbedding: "offline-hashed-bow-1536",
  offlineImage: "offline-card-renderer",
  offlineSpeech: "espeak-ng",
  offlineVideo: "offline-ffmpeg-motion",
  offlineLipsync: "offline-lipsync-passthrough",
  ffmpegMerge: "ffmpeg-concat",
  openaiText: "gpt-4o-mini",
  openrouterText: "openai/gpt-4o-mini",
  openaiTextPremium: "gpt-4o",
  openrouterTextPremium: "openai/gpt-4o",
  openaiEmbedding: "text-embedding-3-small",
  elevenlabsSpeech: "eleven_multilingual_v2",
  elevenlabsSpeechFast: "eleven_flash_v2_5",
  modelslabImage: "modelslab-flux",
  modelslabVideo: "modelslab-image-to-video",
  modelslabLipsync: "modelslab-lipsync",
} as const;

const OFFLINE = new Set<string>([
  MODELS.offlineText,
  MODELS.offlineEmbedding,
  MODELS.offlineImage,
  MODELS.offlineSpeech,
  MODELS.offlineVideo,
  MODELS.offlineLipsync,
  MODELS.ffmpegMerge,
]);

/** A model that runs here, without a provider (private.model_prices.provider = 'offline'). */
export function isOfflineModel(model: string | undefined): boolean {
  return model !== undefined && OFFLINE.has(model);
}
