/** Lipsync stage: sync each scene clip with its dialogue; records a job per scene video. */
import { withTempDir } from "../../supabase/functions/_shared/media.ts";
import {
  mediaInput,
  mediaPath,
  type StageDeps,
  unitFolder,
} from "../../supabase/functions/_shared/pipeline/deps.ts";
import type { StepHandler } from "../../supabase/functions/_shared/pipeline/worker.ts";

interface Stored {
  storage_path: string;
  url: string;
}

export function lipsyncStage(deps: StageDeps<"lipsync">): StepHandler {
  return async (context) => {
    const scene = context.scene as { scene_number: number };
    const clip = context.clip as Stored;
    const audio = context.audio as Stored;
    return await withTempDir(async (dir) => {
      const synced = await deps.providers.lipsync.sync({
        clip: mediaInput(deps.storage, clip.storage_path, `${dir}/clip.mp4`),
        audio: mediaInput(deps.storage, audio.storage_path, `${dir}/audio.wav`),
        outPath: `${dir}/synced.mp4`,
        width: context.frame_width,
        height: context.frame_height,
        model: context.model,
      });
      const stored = synced.applied
        ? await deps.storage.put(
          "media",
          mediaPath(context.user_id, context.generation_id, unitFolder(context.unit), "lipsync.mp4"),
          await Deno.readFile(`${dir}/synced.mp4`),
          "video/mp4",
        )
        : { path: clip.storage_path, url: clip.url };
      return {
        outputs: {
          scene_number: scene.scene_number,
          storage_path: stored.path,
          url: stored.url,
          input_audio_url: audio.url,
          applied: synced.applied,
          provider: synced.provider,
          model: synced.model,
        },
        usage: synced.usage,
      };
    });
  };
}
