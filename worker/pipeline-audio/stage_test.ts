/** The audio stage holds the speech it is given to the scene's limit, by what the files hold. */
import assert from "node:assert/strict";
import { PermanentError } from "../../supabase/functions/_shared/errors.ts";
import type { SpeechProvider } from "../../supabase/functions/_shared/providers/types.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import { silentWav, testStepContext, withSql } from "../../supabase/functions/_shared/testing.ts";
import { type AudioOutputs, audioStage } from "./stage.ts";

/** A speech provider whose every line lasts `seconds` whatever it claims; counts its calls. */
function speaking(seconds: number, claimedMs: number) {
  let calls = 0;
  const speech: SpeechProvider = {
    speak: () => {
      calls++;
      return Promise.resolve({
        wav: silentWav(seconds),
        durationMs: claimedMs,
        voice: "v",
        model: "test-speech",
        provider: "test",
        usage: [{ model: "test-speech", units: 1 }],
      });
    },
  };
  return { speech, calls: () => calls };
}

const lines = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    sequence_order: i,
    audio_type: "narration",
    speaker: "Narrator",
    text: `Line ${i + 1}.`,
    voice_id: null,
  }));

/** Runs the stage for scene 1 of a free-quality generation (150 s of video at most). */
async function speakScene(speech: SpeechProvider, lineCount: number) {
  return await withSql(async (sql) => {
    const dir = await Deno.makeTempDir({ prefix: "litinkai-audio-stage-" });
    const context = testStepContext("audio", "scene:1", { lines: lines(lineCount) });
    try {
      const storage = new LocalStorage(sql, dir, "http://127.0.0.1:54321");
      const { outputs } = await audioStage({ storage, providers: { speech } })(
        context,
        new AbortController().signal,
      );
      return outputs as unknown as AudioOutputs;
    } finally {
      await sql`delete from storage.objects where bucket_id = 'media' and name like ${
        context.user_id + "/%"
      }`;
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("the audio stage records the length its files hold, not the one the provider claims", async () => {
  const { speech } = speaking(2, 500);
  const outputs = await speakScene(speech, 2);
  assert.deepEqual(outputs.lines.map((l) => l.duration_ms), [2000, 2000]);
  assert.equal(outputs.duration_ms, 4500, "two lines and their pauses");
});

Deno.test("speech past the scene's limit fails the unit at once, before paying for the lines after it", async () => {
  // Each line claims 1 s and holds 100 s: the second passes a free video's 150 s.
  const { speech, calls } = speaking(100, 1000);
  await assert.rejects(speakScene(speech, 5), (error) => {
    assert.ok(error instanceof PermanentError, String(error));
    assert.equal(
      error.message,
      "the scene's speech lasts 200.5 s by line 2 of 5; a scene of this video may last at most 150 s",
    );
    return true;
  });
  assert.equal(calls(), 2, "no speech is asked for after the limit is passed");
});

Deno.test("speech that is not a PCM WAV fails the unit at once", async () => {
  const speech: SpeechProvider = {
    speak: () =>
      Promise.resolve({
        wav: new TextEncoder().encode("ID3\x04 an mp3 answer"),
        durationMs: 1000,
        voice: "v",
        model: "test-speech",
        provider: "test",
        usage: [],
      }),
  };
  await assert.rejects(speakScene(speech, 1), /^PermanentError: the speech of line 1 is not a PCM WAV file$/);
});
