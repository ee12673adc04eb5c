/** Hosted media and script providers against recorded API answers; the media they return is real and checked. */
import assert from "node:assert/strict";
import { PermanentError, RetryableError } from "../errors.ts";
import { probeDuration, probeStreams, run, withTempDir } from "../media.ts";
import { elevenlabsSpeech } from "./elevenlabs.ts";
import { hostedScript } from "./hosted_script.ts";
import { fitWithin, ModelsLabClient, modelslabImage } from "./modelslab.ts";
import { modelslabLipsync, modelslabVideo } from "./modelslab_media.ts";
import { offlineProviders } from "./offline.ts";
import { OpenAIClient } from "./openai.ts";
import { selectProviders } from "./select.ts";

const recorded = (name: string) => Deno.readTextFileSync(new URL(`./recorded/${name}.json`, import.meta.url));

type Answer = { json: string; status?: number } | { bytes: Uint8Array; status?: number };

/** A fetch that answers each URL (by prefix) in turn from a script of answers, and keeps the requests. */
function scripted(answers: [string, Answer][]) {
  const requests: { url: string; body: Record<string, unknown> | null; headers: Headers }[] = [];
  const fetchFn = ((url: string, init: RequestInit = {}) => {
    requests.push({
      url,
      body: init.body ? JSON.parse(String(init.body)) : null,
      headers: new Headers(init.headers),
    });
    const index = answers.findIndex(([prefix]) => url.startsWith(prefix));
    if (index < 0) return Promise.reject(new TypeError(`no recorded answer for ${url}`));
    const [[, answer]] = answers.splice(index, 1);
    const response = "json" in answer
      ? new Response(answer.json, { status: answer.status, headers: { "Content-Type": "application/json" } })
      : new Response(new Uint8Array(answer.bytes), { status: answer.status });
    return Promise.resolve(response);
  }) as typeof fetch;
  return { fetchFn, requests };
}

async function ffmpeg(args: string[]) {
  await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args]);
}

/** A stage input already on disk and at a URL. */
const input = (file: string, url: string) => ({
  file: () => Promise.resolve(file),
  url: () => Promise.resolve(url),
});

const noSleep = { sleep: () => Promise.resolve(), pollSeconds: [5, 60] as [number, number] };

Deno.test("ModelsLab image: a queued job is fetched until ready, the JPEG it returns is stored as PNG", async () => {
  await withTempDir(async (dir) => {
    await ffmpeg(["-f", "lavfi", "-i", "color=c=navy:s=1024x576", "-frames:v", "1", `${dir}/out.jpg`]);
    const { fetchFn, requests } = scripted([
      ["https://modelslab.com/api/v6/images/text2img", { json: recorded("modelslab_text2img_processing") }],
      ["https://modelslab.com/api/v6/images/fetch/118293401", {
        json: recorded("modelslab_fetch_image_success"),
      }],
      ["https://pub-3626123a908346a7a8be8d9295f44e26.r2.dev/", {
        bytes: await Deno.readFile(`${dir}/out.jpg`),
      }],
    ]);
    const waits: number[] = [];
    const client = new ModelsLabClient("ml-key", fetchFn, {
      sleep: (ms) => Promise.resolve(void waits.push(ms)),
    });
    const image = await modelslabImage(client).render({
      title: "Scene 1: the lighthouse",
      caption: "The keeper climbs the tower at night.",
      mood: "night",
      width: 1920,
      height: 1080,
    });
    assert.deepEqual([...image.png.slice(1, 4)], [0x50, 0x4e, 0x47], "PNG signature");
    assert.equal(requests[0].body?.key, "ml-key");
    assert.equal(requests[0].body?.model_id, "flux");
    assert.deepEqual([requests[0].body?.width, requests[0].body?.height], [1024, 576]);
    assert.match(String(requests[0].body?.prompt), /keeper climbs the tower/);
    assert.deepEqual(requests[1].body, { key: "ml-key" }, "the fetch call carries only the key");
    assert.deepEqual(waits, [12500], "waits the eta ModelsLab gave");
    assert.equal(image.provider, "modelslab");
    assert.deepEqual(image.usage.map((u) => [u.model, u.units]), [["modelslab-flux", 1]]);
  });
});

Deno.test("ModelsLab errors: a bad key is permanent, a rate limit or an endless queue is retried", async () => {
  const fail = (name: string) =>
    new ModelsLabClient(
      "k",
      scripted([["https://modelslab.com/", { json: recorded(name) }]]).fetchFn,
      noSleep,
    );
  await assert.rejects(fail("modelslab_error_key").generate("/v6/images/text2img", {}), PermanentError);
  await assert.rejects(
    fail("modelslab_error_rate_limit").generate("/v6/images/text2img", {}),
    RetryableError,
  );
  const http = new ModelsLabClient(
    "k",
    scripted([["https://modelslab.com/", { json: "{}", status: 503 }]]).fetchFn,
  );
  await assert.rejects(http.generate("/v6/images/text2img", {}), RetryableError);
  const processing = recorded("modelslab_text2img_processing");
  const forever = scripted(
    Array.from({ length: 20 }, () => ["https://modelslab.com/", { json: processing }]),
  );
  const slow = new ModelsLabClient("k", forever.fetchFn, { ...noSleep, maxWaitSeconds: 30 });
  await assert.rejects(slow.generate("/v6/images/text2img", {}), /not ready after 37\.5 s/);
  assert.equal(forever.requests.length, 4, "gives up once the wait passes its limit");
  assert.deepEqual(fitWithin(854, 480), [848, 480]);
});

Deno.test("ModelsLab video: the short generated clip is looped to the scene's audio in the shared clip format", async () => {
  await withTempDir(async (dir) => {
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "testsrc=s=768x432:r=16",
      "-t",
      "1.5",
      "-pix_fmt",
      "yuv420p",
      `${dir}/gen.mp4`,
    ]);
    await ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=4", `${dir}/audio.wav`]);
    const { fetchFn, requests } = scripted([
      ["https://modelslab.com/api/v6/video/img2video", { json: recorded("modelslab_img2video_success") }],
      ["https://pub-3626123a908346a7a8be8d9295f44e26.r2.dev/video/", {
        bytes: await Deno.readFile(`${dir}/gen.mp4`),
      }],
    ]);
    const clip = await modelslabVideo(new ModelsLabClient("k", fetchFn)).animate({
      image: {
        file: () => Promise.reject(new Error("the image is not downloaded: ModelsLab fetches it")),
        url: () =>
          Promise.resolve("https://project.supabase.co/storage/v1/object/sign/media/u/image.png?token=t"),
      },
      audio: input(
        `${dir}/audio.wav`,
        "https://project.supabase.co/storage/v1/object/sign/media/u/audio.wav?token=t",
      ),
      description: "Mara climbs the spiral stair.",
      outPath: `${dir}/clip.mp4`,
      width: 1280,
      height: 720,
    });
    assert.equal(
      requests[0].body?.init_image,
      "https://project.supabase.co/storage/v1/object/sign/media/u/image.png?token=t",
    );
    assert.equal(requests[0].body?.prompt, "Mara climbs the spiral stair.");
    assert.ok(
      Math.abs(clip.durationSeconds - 4) < 0.2,
      `clip lasts as long as its audio: ${clip.durationSeconds}`,
    );
    assert.deepEqual((await probeStreams(`${dir}/clip.mp4`)).sort(), ["audio", "video"]);
    const size = await run("ffprobe", [
      "-v",
      "error",
      "-select_streams",
      "v",
      "-show_entries",
      "stream=width,height,r_frame_rate",
      "-of",
      "csv=p=0",
      `${dir}/clip.mp4`,
    ]);
    assert.equal(size.trim(), "1280,720,25/1");
    assert.equal(clip.usage[0].model, "modelslab-image-to-video");
    assert.equal(clip.usage[0].units, 1, "billed per clip generated, however long the scene it is looped to");
  });
});

Deno.test("ModelsLab lipsync: sends both signed URLs and returns a conformed clip", async () => {
  await withTempDir(async (dir) => {
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "testsrc=s=640x360:r=25",
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=300:duration=3",
      "-t",
      "3",
      "-pix_fmt",
      "yuv420p",
      "-c:a",
      "aac",
      `${dir}/synced-remote.mp4`,
    ]);
    await ffmpeg(["-f", "lavfi", "-i", "sine=frequency=300:duration=3", `${dir}/audio.wav`]);
    const { fetchFn, requests } = scripted([
      ["https://modelslab.com/api/v7/video-fusion/lip-sync", { json: recorded("modelslab_lipsync_success") }],
      ["https://pub-3626123a908346a7a8be8d9295f44e26.r2.dev/", {
        bytes: await Deno.readFile(`${dir}/synced-remote.mp4`),
      }],
    ]);
    const synced = await modelslabLipsync(new ModelsLabClient("k", fetchFn)).sync({
      clip: input(`${dir}/clip.mp4`, "https://x/clip.mp4?token=a"),
      audio: input(`${dir}/audio.wav`, "https://x/audio.wav?token=b"),
      outPath: `${dir}/out.mp4`,
      width: 854,
      height: 480,
    });
    assert.deepEqual(
      [requests[0].body?.init_video, requests[0].body?.init_audio, requests[0].body?.model_id],
      ["https://x/clip.mp4?token=a", "https://x/audio.wav?token=b", "lipsync-2"],
    );
    assert.equal(synced.applied, true);
    assert.ok(Math.abs((await probeDuration(`${dir}/out.mp4`)) - 3) < 0.2, "the synced clip is at outPath");
  });
});

Deno.test("ElevenLabs speech: PCM becomes a WAV of the right length, one voice per speaker, errors classified", async () => {
  const samples = 22050 * 2; // two seconds of a tone
  const pcm = new Uint8Array(samples * 2);
  const view = new DataView(pcm.buffer);
  for (let i = 0; i < samples; i++) view.setInt16(i * 2, Math.round(8000 * Math.sin(i / 10)), true);
  const tts = "https://api.elevenlabs.io/v1/text-to-speech/";
  const { fetchFn, requests } = scripted([[tts, { bytes: pcm }], [tts, { bytes: pcm }], [tts, {
    bytes: pcm,
  }]]);
  const speech = elevenlabsSpeech("xi-key", fetchFn);
  const line = await speech.speak("The storm will reach us by nightfall.", null, "Tom");
  const again = await speech.speak("Again.", null, "Tom");
  const narrator = await speech.speak("She climbed alone.", null, "Narrator");
  assert.equal(line.voice, again.voice, "the same speaker keeps the same voice");
  assert.notEqual(line.voice, narrator.voice);
  assert.match(requests[0].url, /\/v1\/text-to-speech\/[A-Za-z0-9]{20}\?output_format=pcm_22050$/);
  assert.equal(requests[0].headers.get("xi-api-key"), "xi-key");
  assert.deepEqual(requests[0].body, {
    text: "The storm will reach us by nightfall.",
    model_id: "eleven_multilingual_v2",
  });
  assert.equal(line.durationMs, 2000);
  assert.deepEqual(line.usage.map((u) => [u.model, u.units]), [["eleven_multilingual_v2", 37]]);
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/line.wav`, line.wav);
    assert.ok(Math.abs((await probeDuration(`${dir}/line.wav`)) - 2) < 0.01, "ffprobe reads the WAV");
  });
  const chosen = scripted([[tts, { bytes: pcm }]]);
  await elevenlabsSpeech("k", chosen.fetchFn).speak("Hi.", "pNInz6obpgDQGcFmaJgB", "Tom");
  assert.match(
    chosen.requests[0].url,
    /text-to-speech\/pNInz6obpgDQGcFmaJgB\?/,
    "a character's own voice wins",
  );

  const denied = scripted([[tts, { json: recorded("elevenlabs_error_401"), status: 401 }]]);
  await assert.rejects(elevenlabsSpeech("bad", denied.fetchFn).speak("x", null, "Tom"), PermanentError);
  const busy = scripted([[tts, { json: "{}", status: 429 }]]);
  await assert.rejects(elevenlabsSpeech("k", busy.fetchFn).speak("x", null, "Tom"), RetryableError);
});

Deno.test("OpenAI script: strict scene schema, scenes numbered in order, plot usage laid out like the offline one", async () => {
  const { fetchFn, requests } = scripted([
    ["https://api.openai.com/v1/chat/completions", { json: recorded("openai_chat_script") }],
  ]);
  const { script, usage } = await hostedScript(new OpenAIClient("sk", undefined, fetchFn), "gpt-4o-mini")
    .generateScript({
      chapterTitle: "The Storm",
      chapterNumber: 3,
      content: "Tom said the storm would come. Mara lit the lamp.",
      style: "cinematic",
      plot: { id: "00000000-0000-4000-8000-000000000001", logline: "A keeper holds the light." },
      characters: [{ name: "Mara", role: "protagonist", arc: "from doubt to resolve" }],
    });
  const format =
    (requests[0].body?.response_format as { json_schema: { strict: boolean; name: string } }).json_schema;
  assert.equal(format.strict, true);
  assert.equal(format.name, "script_scenes");
  assert.deepEqual(script.scenes.map((s) => [s.scene_number, s.location, s.estimated_duration_seconds]), [
    [1, "the harbour", 24],
    [2, "the lighthouse", 18],
  ]);
  assert.match(script.script, /SCENE 1\. EXT\. THE HARBOUR - EVENING/);
  assert.match(script.script, /TOM\n {2}The storm will reach us by nightfall\./);
  assert.deepEqual(script.characters, ["Mara", "Tom"]);
  assert.equal(script.plot_usage?.character_enhanced, true);
  assert.equal(script.plot_usage?.character_arcs.Mara, "from doubt to resolve");
  assert.deepEqual(usage, [{
    model: "gpt-4o-mini",
    operation: "script",
    input_tokens: 1184,
    output_tokens: 263,
  }]);
});

Deno.test("provider selection: offline without keys, hosted with them, ModelsLab video only with signable storage", () => {
  const none = selectProviders({ storageBackend: "local" });
  assert.deepEqual(none, offlineProviders);
  const local = selectProviders({ storageBackend: "local", modelslabApiKey: "m", elevenlabsApiKey: "e" });
  assert.notEqual(local.image, offlineProviders.image);
  assert.notEqual(local.speech, offlineProviders.speech);
  assert.equal(local.video, offlineProviders.video, "a local folder cannot give ModelsLab a URL");
  assert.equal(local.lipsync, offlineProviders.lipsync);
  const hosted = selectProviders({ storageBackend: "supabase", modelslabApiKey: "m", openrouterApiKey: "o" });
  assert.notEqual(hosted.video, offlineProviders.video);
  assert.notEqual(hosted.lipsync, offlineProviders.lipsync);
  assert.notEqual(hosted.script, offlineProviders.script);
  assert.equal(hosted.merge, offlineProviders.merge);
});

Deno.test("the ladder's model decides per call: an offline rung runs offline whatever the keys, a hosted one is called by name", async () => {
  const pcm = new Uint8Array(22050 * 2);
  const { fetchFn, requests } = scripted([
    ["https://api.elevenlabs.io/v1/text-to-speech/", { bytes: pcm }],
    ["https://openrouter.ai/api/v1/chat/completions", { json: recorded("openai_chat_script") }],
  ]);
  const providers = selectProviders(
    { storageBackend: "local", elevenlabsApiKey: "e", openrouterApiKey: "o" },
    fetchFn,
  );
  const free = await providers.speech.speak("Hello there.", null, "Tom", "espeak-ng");
  assert.equal(free.provider, "offline", "a free video speaks offline even with an ElevenLabs key");
  assert.equal(requests.length, 0);
  const basic = await providers.speech.speak("Hello there.", null, "Tom", "eleven_flash_v2_5");
  assert.equal(
    requests[0].body?.model_id,
    "eleven_flash_v2_5",
    "a basic video asks ElevenLabs for its fast model",
  );
  assert.deepEqual(basic.usage.map((u) => [u.model, u.units]), [["eleven_flash_v2_5", 12]]);

  const { usage } = await providers.script.generateScript({
    chapterTitle: "The Storm",
    chapterNumber: 3,
    content: "Tom said the storm would come. Mara lit the lamp.",
    style: "cinematic",
    model: "gpt-4o",
    limits: { scenes: 1, speech_characters: 30, video_seconds: 10 },
  });
  assert.equal(
    requests[1].body?.model,
    "openai/gpt-4o",
    "OpenRouter is asked for the premium rung's model by its id",
  );
  assert.equal(requests[1].body?.max_tokens, 16_000, "the answer is bounded before the call is made");
  assert.match(
    String((requests[1].body?.messages as { content: string }[])[0].content),
    /Write one scene in/,
  );
  assert.equal(usage[0].model, "openai/gpt-4o");
  const offline = await providers.script.generateScript({
    chapterTitle: "The Storm",
    chapterNumber: 3,
    content: "Tom said the storm would come. Mara lit the lamp.",
    style: "cinematic",
    model: "offline-rules-v1",
  });
  assert.equal(offline.model, "offline-rules-v1", "an offline text rung is not sent anywhere");
  assert.equal(requests.length, 2);
});
