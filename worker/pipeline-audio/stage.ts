/** Audio stage: the scene's lines (planned in SQL) spoken, one voice per speaker, plus the scene track. */
import { run, timeLimitFor, wavSeconds, withTempDir } from "../../supabase/functions/_shared/media.ts";
import { sceneSecondsLimit, withSlack } from "../../supabase/functions/_shared/pipeline/limits.ts";
import { mediaPath, type StageDeps, unitFolder } from "../../supabase/functions/_shared/pipeline/deps.ts";
import { PermanentError } from "../../supabase/functions/_shared/errors.ts";
import type { StepHandler, UsageCall } from "../../supabase/functions/_shared/pipeline/worker.ts";

/** A line to speak, as begin_step planned it (and recorded it as an audio row in progress). */
interface PlannedLine {
  sequence_order: number;
  audio_type: "narration" | "dialogue";
  speaker: string;
  text: string;
  voice_id: string | null;
}

/** What the audio stage returns for a scene: each line's file, and the scene track. */
export interface AudioOutputs {
  lines: {
    sequence_order: number;
    voice_id: string;
    storage_path: string;
    url: string;
    duration_ms: number;
  }[];
  storage_path: string;
  url: string;
  duration_ms: number;
  provider: string;
  model: string;
}

const GAP_SECONDS = 0.25;

export function audioStage(deps: StageDeps<"speech">): StepHandler {
  return async (context) => {
    const planned = (context.lines ?? []) as PlannedLine[];
    if (planned.length === 0) throw new PermanentError(`${context.unit} has nothing to speak`);
    const folder = mediaPath(context.user_id, context.generation_id, unitFolder(context.unit));
    const sceneSeconds = sceneSecondsLimit(context);
    return await withTempDir(async (dir) => {
      const usage: UsageCall[] = [];
      const lines: AudioOutputs["lines"] = [];
      let model = "";
      let provider = "";
      let spokenSeconds = 0;
      for (const [i, item] of planned.entries()) {
        const speech = await deps.providers.speech.speak(
          item.text,
          item.voice_id,
          item.speaker,
          context.model,
        );
        // The length is the file's own, not what the provider says: it sets ffmpeg's time limit.
        const seconds = wavSeconds(speech.wav);
        if (seconds === null) {
          throw new PermanentError(`the speech of line ${i + 1} is not a PCM WAV file`);
        }
        spokenSeconds += seconds + GAP_SECONDS;
        if (spokenSeconds > withSlack(sceneSeconds)) {
          // Stopped before paying for more speech than a scene may hold.
          throw new PermanentError(
            `the scene's speech lasts ${spokenSeconds.toFixed(1)} s by line ${i + 1} of ${planned.length}; ` +
              `a scene of this video may last at most ${sceneSeconds} s`,
          );
        }
        await Deno.writeFile(`${dir}/line-${i}.wav`, speech.wav);
        const stored = await deps.storage.put("media", `${folder}/line-${i}.wav`, speech.wav, "audio/wav");
        usage.push(...speech.usage);
        model = speech.model;
        provider = speech.provider;
        lines.push({
          sequence_order: item.sequence_order,
          voice_id: speech.voice,
          storage_path: stored.path,
          url: stored.url,
          duration_ms: Math.round(seconds * 1000),
        });
      }
      // One track for the scene: the lines in order with a short pause after each.
      const inputs = lines.flatMap((_, i) => ["-i", `${dir}/line-${i}.wav`]);
      const pads = lines.map((_, i) => `[${i}:a]aresample=22050,apad=pad_dur=${GAP_SECONDS}[a${i}]`).join(
        ";",
      );
      const joined = lines.map((_, i) => `[a${i}]`).join("");
      await run("ffmpeg", [
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        ...inputs,
        "-filter_complex",
        `${pads};${joined}concat=n=${lines.length}:v=0:a=1[out]`,
        "-map",
        "[out]",
        "-ac",
        "1",
        `${dir}/scene.wav`,
      ], { timeoutMs: timeLimitFor(lines.reduce((sum, l) => sum + l.duration_ms, 0) / 1000) });
      const track = await Deno.readFile(`${dir}/scene.wav`);
      const stored = await deps.storage.put("media", `${folder}/audio.wav`, track, "audio/wav");
      const durationMs = lines.reduce((sum, l) => sum + l.duration_ms, 0) +
        Math.round(lines.length * GAP_SECONDS * 1000);
      const outputs: AudioOutputs = {
        lines,
        storage_path: stored.path,
        url: stored.url,
        duration_ms: durationMs,
        provider,
        model,
      };
      return { outputs: { ...outputs }, usage };
    });
  };
}
