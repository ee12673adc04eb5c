import assert from "node:assert/strict";
import { encode as encodeJpeg } from "jpeg-js";
import { encode as encodePng } from "fast-png";
import { PermanentError } from "../errors.ts";
import { assertLength, checkImage, imageByteLimit, sceneSecondsLimit } from "./limits.ts";

const png = (width: number, height: number) =>
  encodePng({ width, height, data: new Uint8Array(width * height * 3).fill(90), channels: 3 });
const jpeg = (width: number, height: number) =>
  new Uint8Array(
    encodeJpeg({ width, height, data: new Uint8Array(width * height * 4).fill(200) }, 80).data,
  );

/** Asserts `body` throws a PermanentError whose message matches `message`. */
function refuses(body: () => unknown, message: RegExp) {
  assert.throws(body, (error) => {
    assert.ok(error instanceof PermanentError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("a scene lasts at most 600 s, and never longer than its quality's whole video", () => {
  assert.equal(sceneSecondsLimit({ max_video_seconds: 150 }), 150, "free: 150 s of video in all");
  assert.equal(sceneSecondsLimit({ max_video_seconds: 3600 }), 600);
  assert.equal(sceneSecondsLimit({} as { max_video_seconds: number }), 600, "no ceiling known: 600 s");
});

Deno.test("a length past the scene's limit or past what its stage made is refused, saying which", () => {
  const limit = { sceneSeconds: 600, madeSeconds: 12.3, madeBy: "the audio stage" };
  assertLength("the scene audio", 12.3, limit);
  assertLength("the scene audio", 13.5, limit); // an encoder's rounding passes
  refuses(
    () => assertLength("the scene audio", 3600, limit),
    /^the scene audio lasts 3600\.0 s; a scene of this video may last at most 600 s$/,
  );
  refuses(
    () => assertLength("the scene audio", 30, limit),
    /^the scene audio lasts 30\.0 s, but the audio stage made 12\.3 s$/,
  );
  refuses(
    () => assertLength("the scene audio", 160, { sceneSeconds: 150, madeBy: "the audio stage" }),
    /at most 150 s$/,
  );
  refuses(() => assertLength("the scene audio", Number.NaN, limit), /has no length that can be read/);
});

Deno.test("an image must be a real PNG or JPEG within the frame, of the size its stage made, of a sane byte size", () => {
  const frame: [number, number] = [64, 36];
  assert.deepEqual(checkImage("the scene image", png(64, 36), { frame }), {
    format: "png",
    width: 64,
    height: 36,
  });
  assert.deepEqual(checkImage("the scene image", jpeg(48, 27), { frame }), {
    format: "jpeg",
    width: 48,
    height: 27,
  });
  assert.deepEqual(
    checkImage("the scene image", png(48, 27), {
      frame,
      made: { width: 48, height: 27 },
      madeBy: "the images stage",
    }),
    { format: "png", width: 48, height: 27 },
    "a hosted model's smaller image, as recorded",
  );
  refuses(
    () => checkImage("the scene image", png(128, 72), { frame }),
    /^the scene image is 128x72 pixels; this video's frame is 64x36$/,
  );
  refuses(
    () =>
      checkImage("the scene image", png(64, 36), {
        frame,
        made: { width: 48, height: 27 },
        madeBy: "the images stage",
      }),
    /^the scene image is 64x36 pixels, but the images stage made it 48x27$/,
  );
  refuses(
    () => checkImage("the scene image", new TextEncoder().encode("GIF89a...."), { frame }),
    /is not a PNG or JPEG image/,
  );
  refuses(
    () => checkImage("the scene image", png(64, 36).subarray(0, 20), { frame }),
    /is not a PNG or JPEG image/,
  );
  const wide: [number, number] = [640, 360];
  const padded = new Uint8Array(imageByteLimit(...wide) + 200_000);
  padded.set(png(64, 36));
  refuses(
    () => checkImage("the scene image", padded, { frame: wide }),
    /^the scene image is 2\.9 MB; an image of 640x360 is at most 2\.8 MB$/,
  );
});
