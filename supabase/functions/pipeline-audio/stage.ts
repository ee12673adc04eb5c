/** Audio stage: narration and each dialogue line of a scene, one voice per speaker, plus the scene track. */
import { run, timeLimitFor, withTempDir } from "../_shared/media.ts";
import { mediaPath, type StageDeps, unitFolder } from "../_shared/pipeline/deps.ts";
import type { StepHandler, UsageCall } from "../_shared/pipeline/worker.ts";

interface SceneRow {
  id: string;
  narration: string | null;
  visual_description: string;
  dialogue: { speaker: string; line: string }[];
}

const GAP_SECONDS = 0.25;

export function audioStage(deps: StageDeps): StepHandler {
  return async (context) => {
    const scene = context.scene as SceneRow;
    const voices = (context.voices ?? {}) as Record<string, string>;
    const folder = mediaPath(context.user_id, context.generation_id, unitFolder(context.unit));
    const script = [
      ...(scene.narration ? [{ speaker: "Narrator", line: scene.narration, type: "narration" }] : []),
      ...scene.dialogue.map((d) => ({ speaker: d.speaker, line: d.line, type: "dialogue" })),
    ];
    if (script.length === 0) {
      script.push({ speaker: "Narrator", line: scene.visual_description, type: "narration" });
    }

    return await withTempDir(async (dir) => {
      const usage: UsageCall[] = [];
      const lines = [];
      let model = "";
      let provider = "";
      for (const [i, item] of script.entries()) {
        const speech = await deps.providers.speech.speak(
          item.line,
          voices[item.speaker] ?? null,
          item.speaker,
        );
        await Deno.writeFile(`${dir}/line-${i}.wav`, speech.wav);
        const stored = await deps.storage.put("media", `${folder}/line-${i}.wav`, speech.wav, "audio/wav");
        usage.push(...speech.usage);
        model = speech.model;
        provider = speech.provider;
        lines.push({
          sequence_order: i,
          audio_type: item.type,
          speaker: item.speaker,
          text: item.line,
          voice_id: speech.voice,
          storage_path: stored.path,
          url: stored.url,
          duration_ms: speech.durationMs,
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
      return {
        outputs: {
          scene_id: (scene as { id: string }).id,
          lines,
          storage_path: stored.path,
          url: stored.url,
          duration_ms: durationMs,
          provider,
          model,
        },
        usage,
      };
    });
  };
}
