/** The worker stages' stored inputs are checked before use, with real files in the local Storage. */
import assert from "node:assert/strict";
import { encode as encodePng } from "fast-png";
import { PermanentError } from "../errors.ts";
import { clipOutputArgs, run } from "../media.ts";
import { LocalStorage, type Storage } from "../storage.ts";
import { silentWav, withSql } from "../testing.ts";
import { mediaPath } from "./deps.ts";
import { downloadSceneClip, sceneAudio, sceneClip, sceneImage } from "./inputs.ts";

/** A free-quality generation: 854x480, 150 s of video in all. */
const FREE = { frame_width: 854, frame_height: 480, max_video_seconds: 150 };

async function ffmpeg(args: string[]) {
  await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args]);
}

const png = (width: number, height: number) =>
  encodePng({ width, height, data: new Uint8Array(width * height * 3).fill(90), channels: 3 });

/** Rejects with a PermanentError whose message matches `message`. */
async function refused(promise: Promise<unknown>, message: RegExp) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof PermanentError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

interface Fixture {
  storage: Storage;
  dir: string;
  /** Stores `bytes` in the generation's scene folder as the backend does; returns its path. */
  place: (name: string, bytes: Uint8Array) => Promise<string>;
  /** A fresh local file name for a download. */
  scratch: (name: string) => string;
}

async function withFixture(body: (f: Fixture) => Promise<void>) {
  await withSql(async (sql) => {
    const dir = await Deno.makeTempDir({ prefix: "litinkai-inputs-" });
    const userId = crypto.randomUUID();
    const storage = new LocalStorage(sql, `${dir}/storage`, "http://127.0.0.1:54321");
    let n = 0;
    try {
      await body({
        storage,
        dir,
        place: async (name, bytes) =>
          (await storage.put(
            "media",
            mediaPath(userId, crypto.randomUUID(), "scene-1", name),
            bytes,
            "audio/wav",
          ))
            .path,
        scratch: (name) => `${dir}/${n++}-${name}`,
      });
    } finally {
      await sql`delete from storage.objects where bucket_id = 'media' and name like ${userId + "/%"}`;
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("scene audio: a WAV within the scene's limit and as long as the audio stage made it", async () => {
  await withFixture(async ({ storage, dir, place, scratch }) => {
    await ffmpeg(["-f", "lavfi", "-i", "sine=d=3", "-ac", "1", "-ar", "22050", `${dir}/three.wav`]);
    const three = await place("audio.wav", await Deno.readFile(`${dir}/three.wav`));
    const audio = (made: number | null, context = FREE) =>
      sceneAudio(storage, context, { storage_path: three, duration_ms: made }, scratch("audio.wav")).file();

    assert.ok(await audio(3000), "the track the audio stage made");
    assert.ok(await audio(null), "no length recorded: the scene's limit alone");
    await refused(audio(1000), /^the scene audio lasts 3\.0 s, but the audio stage made 1\.0 s$/);
    await refused(
      audio(3000, { ...FREE, max_video_seconds: 1 }),
      /^the scene audio lasts 3\.0 s; a scene of this video may last at most 1 s$/,
    );
    // An hour of 8 kHz sound in place of a 12 s track is not even downloaded.
    const hour = await place("audio.wav", silentWav(3600));
    await refused(
      sceneAudio(storage, FREE, { storage_path: hour, duration_ms: 12_000 }, scratch("audio.wav")).file(),
      /^the scene audio is over 2\.2 MB, more than a speech track of 13\.2 s can be$/,
    );
    // Not a WAV at all: a clip saved as audio.wav.
    await ffmpeg(["-f", "lavfi", "-i", "sine=d=1", "-f", "mp3", `${dir}/one.mp3`]);
    const mp3 = await place("audio.wav", await Deno.readFile(`${dir}/one.mp3`));
    await refused(
      sceneAudio(storage, FREE, { storage_path: mp3, duration_ms: 1000 }, scratch("audio.wav")).file(),
      /^the scene audio is not a WAV file of one audio stream \(it is mp3 with audio mp3\)$/,
    );
    const garbage = await place("audio.wav", new TextEncoder().encode("RIFF....WAVEnot really"));
    await refused(
      sceneAudio(storage, FREE, { storage_path: garbage, duration_ms: 1000 }, scratch("audio.wav")).file(),
      /^the scene audio is corrupt or not a media file/,
    );
  });
});

Deno.test("scene image: within the frame, of the size the images stage made; a URL is signed only after the check", async () => {
  await withFixture(async ({ storage, place, scratch }) => {
    const good = await place("image.png", png(854, 480));
    const swapped = await place("image.png", png(1920, 1080));
    const image = (path: string, made = { width: 854, height: 480 }) =>
      sceneImage(storage, FREE, { storage_path: path, ...made }, scratch("image.png"));

    assert.ok(await image(good).file());
    await refused(
      image(swapped).file(),
      /^the scene image is 1920x1080 pixels; this video's frame is 854x480$/,
    );
    await refused(
      image(good, { width: 832, height: 464 }).file(),
      /^the scene image is 854x480 pixels, but the images stage made it 832x464$/,
    );
    // A hosted provider asks for a URL: the file is checked first, and a refused one is never signed.
    const signed: string[] = [];
    const signing: Storage = {
      put: storage.put.bind(storage),
      get: storage.get.bind(storage),
      download: storage.download.bind(storage),
      remove: storage.remove.bind(storage),
      signedUrl: (bucket, path, seconds) => {
        signed.push(path);
        return storage.signedUrl(bucket, path, seconds);
      },
    };
    const forProvider = (path: string) =>
      sceneImage(signing, FREE, { storage_path: path, width: 854, height: 480 }, scratch("image.png")).url();
    await refused(forProvider(swapped), /is 1920x1080 pixels/);
    assert.match(await forProvider(good), /token=/);
    assert.deepEqual(signed, [good]);
  });
});

Deno.test("scene clips: an MP4 of the frame as long as the video stage made it, for lipsync and the merge", async () => {
  await withFixture(async ({ storage, dir, place, scratch }) => {
    const clipOf = async (size: string, seconds: number) => {
      const out = `${dir}/${size}-${seconds}.mp4`;
      await ffmpeg([
        "-f",
        "lavfi",
        "-i",
        `color=c=navy:s=${size}:r=25`,
        "-f",
        "lavfi",
        "-i",
        "sine",
        ...clipOutputArgs(seconds, out).slice(0, -1),
        "-pix_fmt",
        "yuv420p",
        out,
      ]);
      return await place("clip.mp4", await Deno.readFile(out));
    };
    const good = await clipOf("854x480", 2);
    const small = await clipOf("320x180", 2);
    const clip = (path: string, made: number) =>
      sceneClip(storage, FREE, { storage_path: path, duration_seconds: made }, scratch("clip.mp4")).file();

    assert.ok(await clip(good, 2));
    await refused(clip(good, 0.5), /^the scene clip lasts 2\.\d s, but the video stage made 0\.5 s$/);
    await refused(clip(small, 2), /^the scene clip is 320x180 pixels; this video's frame is 854x480$/);
    const notClip = await place("clip.mp4", silentWav(2));
    await refused(
      clip(notClip, 2),
      /^the scene clip is not an MP4 of H\.264 video and AAC audio \(it is wav with audio pcm_u8\)$/,
    );
    await refused(
      downloadSceneClip(
        storage,
        FREE,
        { storage_path: good, duration_seconds: 0.5, scene_number: 3 },
        scratch("c.mp4"),
      ),
      /^scene 3's clip lasts 2\.\d s, but the video stage made 0\.5 s$/,
    );
  });
});
