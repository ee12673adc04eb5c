/** The images stage holds the model's answer to the frame it asked for, and records the image's own size. */
import assert from "node:assert/strict";
import { encode as encodeJpeg } from "jpeg-js";
import { encode as encodePng } from "fast-png";
import { PermanentError } from "../_shared/errors.ts";
import type { ImageProvider } from "../_shared/providers/types.ts";
import { LocalStorage } from "../_shared/storage.ts";
import { testStepContext, withSql } from "../_shared/testing.ts";
import { imagesStage } from "./stage.ts";

const answering = (bytes: Uint8Array): ImageProvider => ({
  render: () => Promise.resolve({ png: bytes, model: "test-image", provider: "test", usage: [] }),
});
const png = (width: number, height: number) =>
  encodePng({ width, height, data: new Uint8Array(width * height * 3).fill(40), channels: 3 });

/** Renders scene 1 of a free-quality generation (854x480) with `image`. */
async function renderScene(image: ImageProvider) {
  return await withSql(async (sql) => {
    const dir = await Deno.makeTempDir({ prefix: "litinkai-images-stage-" });
    const context = testStepContext("images", "scene:1", {
      scene: { scene_number: 1, location: "Harbour", time_of_day: "night", visual_description: "Boats." },
    });
    try {
      const storage = new LocalStorage(sql, dir, "http://127.0.0.1:54321");
      return (await imagesStage({ storage, providers: { image } })(context, new AbortController().signal))
        .outputs;
    } finally {
      await sql`delete from storage.objects where bucket_id = 'media' and name like ${
        context.user_id + "/%"
      }`;
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("an image within the frame is stored with its own size (a hosted model's is smaller)", async () => {
  const outputs = await renderScene(answering(png(848, 480)));
  assert.deepEqual([outputs.width, outputs.height], [848, 480]);
});

Deno.test("an image larger than the frame, or not a PNG, fails the unit at once", async () => {
  const refused = (message: RegExp) => (error: unknown) => {
    assert.ok(error instanceof PermanentError, String(error));
    assert.match(error.message, message);
    return true;
  };
  await assert.rejects(
    renderScene(answering(png(1920, 1080))),
    refused(/^the image model's answer is 1920x1080 pixels; this video's frame is 854x480$/),
  );
  const jpeg = new Uint8Array(
    encodeJpeg({ width: 64, height: 36, data: new Uint8Array(64 * 36 * 4).fill(9) }, 80).data,
  );
  await assert.rejects(
    renderScene(answering(jpeg)),
    refused(/^the image model's answer is a jpeg, not a PNG$/),
  );
  await assert.rejects(
    renderScene(answering(new TextEncoder().encode("<html>quota exceeded</html>"))),
    refused(/^the image model's answer is not a PNG or JPEG image$/),
  );
});
