/** The lipsync stage checks its stored inputs before a provider is given their URLs. */
import assert from "node:assert/strict";
import { PermanentError } from "../../supabase/functions/_shared/errors.ts";
import { withTempDir } from "../../supabase/functions/_shared/media.ts";
import { mediaPath } from "../../supabase/functions/_shared/pipeline/deps.ts";
import type { LipsyncProvider } from "../../supabase/functions/_shared/providers/types.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import { silentWav, testStepContext, tinyClip, withSql } from "../../supabase/functions/_shared/testing.ts";
import { lipsyncStage } from "./stage.ts";

Deno.test("a clip of another frame is refused before a hosted lipsync model is given its URL", async () => {
  await withSql(async (sql) => {
    await withTempDir(async (dir) => {
      const context = testStepContext("lipsync", "scene:1", { scene: { scene_number: 1 } });
      const storage = new LocalStorage(sql, `${dir}/storage`, "http://127.0.0.1:54321");
      const folder = (name: string) => mediaPath(context.user_id, context.generation_id, "scene-1", name);
      try {
        await tinyClip(`${dir}/small.mp4`);
        const clip = await storage.put(
          "media",
          folder("clip.mp4"),
          await Deno.readFile(`${dir}/small.mp4`),
          "video/mp4",
        );
        const audio = await storage.put("media", folder("audio.wav"), silentWav(1), "audio/wav");
        const asked: string[] = [];
        const hosted: LipsyncProvider = {
          async sync(request) {
            asked.push(await request.clip.url(), await request.audio.url());
            return { applied: false, model: "test-lipsync", provider: "test", usage: [] };
          },
        };
        const handler = lipsyncStage({ storage, providers: { lipsync: hosted } });
        await assert.rejects(
          handler({
            ...context,
            clip: { storage_path: clip.path, url: clip.url, duration_seconds: 1 },
            audio: { storage_path: audio.path, url: audio.url, duration_ms: 1000 },
          }, new AbortController().signal),
          (error) => {
            assert.ok(error instanceof PermanentError, String(error));
            assert.equal(error.message, "the scene clip is 64x36 pixels; this video's frame is 854x480");
            return true;
          },
        );
        assert.deepEqual(asked, [], "no URL reached the provider");
      } finally {
        await sql`delete from storage.objects where bucket_id = 'media' and name like ${
          context.user_id + "/%"
        }`;
      }
    });
  });
});
