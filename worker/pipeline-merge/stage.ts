/** Merge stage: the scene clips in order, concatenated into the final MP4 in Storage. */
import { withTempDir } from "../../supabase/functions/_shared/media.ts";
import { mediaPath, type StageDeps } from "../../supabase/functions/_shared/pipeline/deps.ts";
import { downloadSceneClip } from "../../supabase/functions/_shared/pipeline/inputs.ts";
import type { StepHandler } from "../../supabase/functions/_shared/pipeline/worker.ts";
import { PermanentError } from "../../supabase/functions/_shared/errors.ts";

interface Clip {
  scene_number: number;
  scene_video_id: string;
  storage_path: string;
  duration_seconds: number;
}

export function mergeStage(deps: StageDeps<"merge">): StepHandler {
  return async (context) => {
    const clips = (context.clips ?? []) as Clip[];
    if (clips.length === 0) throw new PermanentError("no scene clips to merge");
    return await withTempDir(async (dir) => {
      const files = [];
      // Each clip is checked before the join: the frame and codecs every clip shares, and the length
      // the video stage recorded, within the scene's limit.
      for (const clip of clips) {
        files.push(
          await downloadSceneClip(deps.storage, context, clip, `${dir}/scene-${clip.scene_number}.mp4`),
        );
      }
      const merged = await deps.providers.merge.concat(files, `${dir}/final.mp4`);
      const bytes = await Deno.readFile(`${dir}/final.mp4`);
      const stored = await deps.storage.put(
        "media",
        mediaPath(context.user_id, context.generation_id, "final.mp4"),
        bytes,
        "video/mp4",
      );
      return {
        outputs: {
          storage_path: stored.path,
          url: stored.url,
          duration_seconds: Math.round(merged.durationSeconds * 100) / 100,
          file_size_bytes: bytes.length,
          provider: merged.provider,
          model: merged.model,
          ffmpeg_params: merged.params,
          assets: clips.map((c, i) => ({
            scene_video_id: c.scene_video_id,
            url: c.storage_path,
            sequence_order: i,
          })),
        },
        usage: merged.usage,
      };
    });
  };
}
