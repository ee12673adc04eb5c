import assert from "node:assert/strict";
import { PermanentError, RetryableError } from "./errors.ts";
import {
  assertDecodable,
  probeDuration,
  probeMedia,
  run,
  timeLimitFor,
  wavSeconds,
  withTempDir,
} from "./media.ts";
import { wavFromPcm } from "./providers/elevenlabs.ts";
import { offlineSpeech, offlineVideo } from "./providers/offline.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A file that starts like a real PNG or WAV and then is garbage, as a truncated or damaged upload is. */
function corrupt(header: number[] | string, bytes = 2000): Uint8Array {
  const head = typeof header === "string" ? new TextEncoder().encode(header) : new Uint8Array(header);
  const body = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) body[i] = (i * 7919 + 13) % 251;
  return new Uint8Array([...head, ...body]);
}

Deno.test("a tool past its time limit is killed and the error is retryable", async () => {
  const started = performance.now();
  await assert.rejects(run("sleep", ["60"], { timeoutMs: 300 }), (error) => {
    assert.ok(error instanceof RetryableError);
    assert.match(error.message, /sleep did not finish within its time limit of 0.3 s and was stopped/);
    return true;
  });
  assert.ok(performance.now() - started < 10_000, "it did not wait for the process to finish on its own");
  assert.equal(timeLimitFor(10), 50_000, "20 s plus 3 s per second of media");
});

Deno.test("aborting a tool kills it; a missing tool and a failing run are permanent", async () => {
  const controller = new AbortController();
  const running = run("sleep", ["60"], { signal: controller.signal });
  controller.abort();
  await assert.rejects(running, RetryableError);
  await assert.rejects(run("no-such-tool-here", []), (error) => {
    assert.ok(error instanceof PermanentError);
    assert.match(error.message, /no-such-tool-here is not installed/);
    return true;
  });
  await assert.rejects(run("ffprobe", ["-v", "error", "/no/such/file.wav"]), PermanentError);
});

Deno.test("corrupt media fails at once and permanently: a damaged PNG, a damaged WAV", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/bad.png`, corrupt(PNG_SIGNATURE));
    await Deno.writeFile(`${dir}/bad.wav`, corrupt("RIFF\x24\x08\x00\x00WAVEfmt "));
    await assert.rejects(assertDecodable(`${dir}/bad.png`, "the scene image"), (error) => {
      assert.ok(error instanceof PermanentError);
      assert.match(error.message, /^the scene image is corrupt or not a media file/);
      return true;
    });
    await assert.rejects(assertDecodable(`${dir}/bad.wav`, "the scene audio"), PermanentError);

    // The offline video provider checks its inputs before ffmpeg, which would loop a corrupt still forever.
    const speech = await offlineSpeech.speak("A short line.", null, "Narrator");
    await Deno.writeFile(`${dir}/good.wav`, speech.wav);
    const file = (path: string) => ({ file: () => Promise.resolve(path), url: () => Promise.resolve(path) });
    await assert.rejects(
      offlineVideo.animate({
        image: file(`${dir}/bad.png`),
        audio: file(`${dir}/good.wav`),
        description: "d",
        outPath: `${dir}/clip.mp4`,
        width: 320,
        height: 180,
      }),
      (error) => {
        assert.ok(error instanceof PermanentError, String(error));
        assert.match(error.message, /the scene image is corrupt/);
        return true;
      },
    );
  });
});

Deno.test("wavSeconds reads a PCM WAV's length from its header, as ffprobe does; anything else is null", async () => {
  await withTempDir(async (dir) => {
    const speech = await offlineSpeech.speak("The keeper climbed the stairs.", null, "Narrator");
    await Deno.writeFile(`${dir}/line.wav`, speech.wav);
    const probed = await probeMedia(`${dir}/line.wav`);
    assert.equal(probed.format, "wav");
    assert.ok(Math.abs(wavSeconds(speech.wav)! - probed.seconds) < 0.001, `${wavSeconds(speech.wav)} s`);
    assert.equal(wavSeconds(wavFromPcm(new Uint8Array(22050 * 2), 22050)), 1, "ElevenLabs' PCM, wrapped");
    const cut = wavFromPcm(new Uint8Array(22050 * 2), 22050).subarray(0, 44 + 22050);
    assert.equal(wavSeconds(cut), 0.5, "a header that promises more than the file holds: what it holds");
    assert.equal(wavSeconds(new TextEncoder().encode("ID3\x04 an mp3")), null);
    assert.equal(wavSeconds(new TextEncoder().encode("RIFF\x04\x00\x00\x00WAVE")), null, "no data chunk");
  });
});

Deno.test("a tool's failure names its files by name, never by where the worker keeps them or its memory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "litinkai-media-paths-" });
  try {
    const audio = `${dir}/scene 1/audio.wav`;
    await Deno.mkdir(`${dir}/scene 1`);
    await Deno.writeFile(audio, new Uint8Array(100).fill(7));
    const png = `${dir}/image.png`;
    await Deno.writeFile(png, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    const messages: string[] = [];
    for (const attempt of [() => assertDecodable(audio, "the scene audio"), () => probeDuration(audio)]) {
      const error = await attempt().then(() => undefined, (e: Error) => e);
      assert.ok(error instanceof PermanentError);
      messages.push(error.message);
    }
    const pngError = await assertDecodable(png, "the scene image").then(() => undefined, (e: Error) => e);
    messages.push(pngError!.message);
    assert.match(messages[0], /^the scene audio is corrupt or not a media file: .*audio\.wav: Invalid data/);
    for (const message of messages) {
      assert.ok(!message.includes(dir), `no folder of the worker: ${message}`);
      assert.doesNotMatch(message, /@ 0x[0-9a-f]+/, `no memory address: ${message}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
