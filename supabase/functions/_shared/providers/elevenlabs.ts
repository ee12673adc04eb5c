/**
 * ElevenLabs text to speech. Asks for raw 16-bit PCM so the WAV every stage expects is a header away,
 * with no decoder; usage is billed per character.
 */
import { MODELS } from "./models.ts";
import { RetryableError } from "../errors.ts";
import { callProvider, type Fetch } from "./provider_http.ts";
import type { SpeechProvider } from "./types.ts";
import { castVoice } from "./voices.ts";

const SAMPLE_RATE = 22050;
export const ELEVENLABS_MODEL = MODELS.elevenlabsSpeech;
/** The voices' models this client calls: the default, and the faster one at half the price. */
export const ELEVENLABS_MODELS: readonly string[] = [MODELS.elevenlabsSpeech, MODELS.elevenlabsSpeechFast];

/** Premade voices anyone's account has: a news-reader narrator, and a cast for the characters. */
const NARRATOR_VOICE = "onwK4e9ZLuTAKqWW03F9";
const CAST = [
  "21m00Tcm4TlvDq8ikWAM",
  "pNInz6obpgDQGcFmaJgB",
  "EXAVITQu4vr4xnYDxJrR",
  "ErXwobaYiN019PkySvjV",
  "MF3mGyEYCl7XYWbV9V6O",
  "TxGEqnHWrfWFTfGW9XjX",
];
const VOICE_ID = /^[A-Za-z0-9]{20}$/;

/** A mono 16-bit WAV around raw little-endian PCM. */
export function wavFromPcm(pcm: Uint8Array, sampleRate: number): Uint8Array {
  const wav = new Uint8Array(44 + pcm.length);
  const view = new DataView(wav.buffer);
  const ascii = (offset: number, text: string) =>
    [...text].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  ascii(0, "RIFF");
  view.setUint32(4, 36 + pcm.length, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, pcm.length, true);
  wav.set(pcm, 44);
  return wav;
}

export function elevenlabsSpeech(
  apiKey: string,
  fetchFn: Fetch = fetch,
  baseUrl = "https://api.elevenlabs.io",
): SpeechProvider {
  return {
    async speak(text, voice, speakerKey, requested) {
      const model = requested && ELEVENLABS_MODELS.includes(requested) ? requested : ELEVENLABS_MODEL;
      const chosen = voice && VOICE_ID.test(voice) ? voice : castVoice(speakerKey, NARRATOR_VOICE, CAST);
      const started = performance.now();
      const response = await callProvider(
        "elevenlabs",
        fetchFn,
        `${baseUrl}/v1/text-to-speech/${chosen}?output_format=pcm_${SAMPLE_RATE}`,
        {
          method: "POST",
          headers: { "xi-api-key": apiKey, "Content-Type": "application/json" },
          body: JSON.stringify({ text, model_id: model }),
        },
        120_000,
      );
      const pcm = new Uint8Array(await response.arrayBuffer());
      if (pcm.length < 2 || pcm.length % 2 !== 0) {
        throw new RetryableError(`elevenlabs returned ${pcm.length} bytes, not 16-bit audio`);
      }
      const durationMs = Math.round(pcm.length / 2 / SAMPLE_RATE * 1000);
      return {
        wav: wavFromPcm(pcm, SAMPLE_RATE),
        durationMs,
        voice: chosen,
        model,
        provider: "elevenlabs",
        usage: [{
          model,
          operation: "speech",
          units: text.length,
          duration_ms: Math.round(performance.now() - started),
        }],
      };
    },
  };
}
