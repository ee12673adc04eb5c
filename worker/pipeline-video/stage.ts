/** Video stage: one clip per scene from its image and its audio track. */
import { withTempDir } from "../../supabase/functions/_shared/media.ts";
import { mediaPath, type StageDeps, unitFolder } from "../../supabase/functions/_shared/pipeline/deps.ts";
import {
  sceneAudio,
  sceneImage,
  type StoredAudio,
  type StoredImage,
} from "../../supabase/functions/_shared/pipeline/inputs.ts";
import type { StepHandler } from "../../supabase/functions/_shared/pipeline/worker.ts";
import { PermanentError } from "../../supabase/functions/_shared/errors.ts";

export function videoStage(deps: StageDeps<"video">): StepHandler {
  return async (context) => {
    const scene = context.scene as { id: string; scene_number: number; visual_description: string };
    const image = context.image as StoredImage | null;
    const audio = context.audio as StoredAudio | null;
    if (!image?.storage_path || !audio?.storage_path) {
      throw new PermanentError(
        `scene ${scene.scene_number} has no ${image ? "audio" : "image"} to make a clip from`,
      );
    }
    return await withTempDir(async (dir) => {
      const started = performance.now();
      // Both inputs are checked as they are fetched: the image against the frame and the size the
      // images stage made, the audio against the scene's limit and the length the audio stage made.
      const clip = await deps.providers.video.animate({
        image: sceneImage(deps.storage, context, image, `${dir}/image.png`),
        audio: sceneAudio(deps.storage, context, audio, `${dir}/audio.wav`),
        description: scene.visual_description,
        outPath: `${dir}/clip.mp4`,
        width: context.frame_width,
        height: context.frame_height,
        model: context.model,
      });
      const stored = await deps.storage.put(
        "media",
        mediaPath(context.user_id, context.generation_id, unitFolder(context.unit), "clip.mp4"),
        await Deno.readFile(`${dir}/clip.mp4`),
        "video/mp4",
      );
      return {
        outputs: {
          scene_number: scene.scene_number,
          storage_path: stored.path,
          url: stored.url,
          duration_seconds: Math.round(clip.durationSeconds * 100) / 100,
          provider: clip.provider,
          model: clip.model,
          generation_time_ms: Math.round(performance.now() - started),
        },
        usage: clip.usage,
      };
    });
  };
}
