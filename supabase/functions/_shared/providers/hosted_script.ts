/**
 * Scripts from a hosted text model with strict JSON output: the model writes the scenes; the script
 * text and the plot usage are laid out by the same code as the offline generator, so both read alike.
 */
import { PermanentError } from "../errors.ts";
import { object, type OpenAIClient, str, strings } from "./openai.ts";
import {
  boundScenes,
  formatScript,
  type GeneratedScene,
  plotUsage,
  type TimeOfDay,
} from "./text/script_rules.ts";
import type { ScriptProvider } from "./types.ts";

const TIMES: TimeOfDay[] = ["dawn", "morning", "noon", "afternoon", "evening", "night", "unspecified"];

const SCENES_SCHEMA = object({
  scenes: {
    type: "array",
    items: object({
      location: str,
      time_of_day: { type: "string", enum: TIMES },
      characters: strings,
      key_actions: strings,
      visual_description: str,
      audio_requirements: str,
      narration: str,
      dialogue: { type: "array", items: object({ speaker: str, line: str }) },
      estimated_duration_seconds: { type: "integer" },
    }),
  },
});

const STYLE_BRIEF = {
  cinematic: "a screenplay: scenes with locations, time of day, action and the characters' spoken lines",
  narration: "a narrated adaptation: a narrator carries the story, characters speak their key lines",
  educational: "an educational video: segments that explain the chapter's ideas, with examples from the text",
};

/** `modelId` turns the requested model (the quality's) into the provider's id; `defaultModel` when none is asked. */
export function hostedScript(
  client: OpenAIClient,
  defaultModel: string,
  modelId: (requested?: string) => string = (requested) => requested ?? defaultModel,
): ScriptProvider {
  return {
    async generateScript(input) {
      const model = modelId(input.model);
      const most = Math.min(8, input.limits?.scenes ?? 8);
      const cast = input.characters?.length
        ? `\nKnown characters: ${
          input.characters.map((c) => `${c.name} (${c.role ?? "character"})`).join(", ")
        }.`
        : "";
      const plot = input.plot ? `\nThe book's logline: ${input.plot.logline}` : "";
      const { value, inputTokens, outputTokens } = await client.chatJson<
        { scenes: Omit<GeneratedScene, "scene_number">[] }
      >(
        model,
        `You adapt book chapters into ${STYLE_BRIEF[input.style]}. ${
          most > 1 ? `Write 2 to ${most} scenes` : "Write one scene"
        } in story order. ` +
          "Use only people and places the chapter names; dialogue lines are quoted or closely paraphrased from it. " +
          "estimated_duration_seconds is the time to perform the scene aloud." + cast + plot,
        `Chapter ${input.chapterNumber}, "${input.chapterTitle}":\n\n${input.content.slice(0, 48_000)}`,
        "script_scenes",
        SCENES_SCHEMA,
      );
      if (!value.scenes?.length) throw new PermanentError(`${model} wrote no scenes for the chapter`);
      const scenes: GeneratedScene[] = boundScenes(
        value.scenes.map((scene, i) => ({
          ...scene,
          scene_number: i + 1,
          estimated_duration_seconds: Math.max(1, Math.round(scene.estimated_duration_seconds)),
        })),
        input.limits,
      );
      const title = `Chapter ${input.chapterNumber}: ${input.chapterTitle}`;
      return {
        script: {
          title,
          script: formatScript(title, scenes, input.style),
          characters: [...new Set(scenes.flatMap((s) => s.characters))],
          scenes,
          plot_usage: input.plot ? plotUsage(input.plot, scenes, input.characters ?? []) : null,
        },
        model,
        usage: [{ model, operation: "script", input_tokens: inputTokens, output_tokens: outputTokens }],
      };
    },
  };
}
