/** Images stage: a card per scene and a portrait per main character, stored under the user's folder. */
import { mediaPath, type StageDeps, unitFolder } from "../_shared/pipeline/deps.ts";
import { checkImage } from "../_shared/pipeline/limits.ts";
import type { StepHandler } from "../_shared/pipeline/worker.ts";
import { PermanentError } from "../_shared/errors.ts";

interface SceneRow {
  id: string;
  scene_number: number;
  location: string;
  time_of_day: string;
  visual_description: string;
}

interface CharacterInfo {
  name: string;
  physical_description: string | null;
  personality: string | null;
}

export function imagesStage(deps: StageDeps<"image">): StepHandler {
  return async (context) => {
    const scene = context.scene as SceneRow | undefined;
    const character = context.character as CharacterInfo | undefined;
    const { frame_width: width, frame_height: height, model } = context;
    const request = scene
      ? {
        title: `Scene ${scene.scene_number}: ${scene.location}`,
        caption: scene.visual_description,
        mood: scene.time_of_day,
        width,
        height,
        model,
      }
      : {
        title: character!.name,
        caption: [character!.physical_description, character!.personality].filter(Boolean).join(" ") ||
          `Portrait of ${character!.name}.`,
        mood: "portrait",
        width,
        height,
        model,
      };
    const started = performance.now();
    const image = await deps.providers.image.render(request);
    // What the model answered must fit the frame asked for (a hosted model is asked for less than
    // the frame); the size recorded is the image's own, which the video stage holds the file to.
    const size = checkImage("the image model's answer", image.png, { frame: [width, height] });
    if (size.format !== "png") {
      throw new PermanentError(`the image model's answer is a ${size.format}, not a PNG`);
    }
    const stored = await deps.storage.put(
      "media",
      mediaPath(context.user_id, context.generation_id, unitFolder(context.unit), "image.png"),
      image.png,
      "image/png",
    );
    return {
      outputs: {
        image_type: scene ? "scene" : "character",
        prompt: request.caption,
        storage_path: stored.path,
        url: stored.url,
        width: size.width,
        height: size.height,
        provider: image.provider,
        model: image.model,
        generation_time_ms: Math.round(performance.now() - started),
      },
      usage: image.usage,
    };
  };
}
