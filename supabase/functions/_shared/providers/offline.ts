/**
 * Offline providers: real media made on this machine with ffmpeg and espeak-ng, so they run in the
 * worker service and in local development, never in an Edge Function.
 */
import { MODELS } from "./models.ts";
import {
  assertDecodable,
  CLIP_FPS,
  clipOutputArgs,
  probeDuration,
  run,
  timeLimitFor,
  withTempDir,
} from "../media.ts";
import { offlineScript } from "./offline_script.ts";
import { castVoice } from "./voices.ts";
import type {
  ClipRequest,
  ImageProvider,
  ImageRequest,
  LipsyncProvider,
  MergeProvider,
  Providers,
  SpeechProvider,
  VideoProvider,
} from "./types.ts";

const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

/** Background and accent colours by time of day (or any mood word). */
const PALETTES: Record<string, [string, string]> = {
  dawn: ["0xF4A261", "0x6D3B47"],
  morning: ["0x8ECAE6", "0x023047"],
  noon: ["0xFFD166", "0x5A3E00"],
  afternoon: ["0xF6BD60", "0x4A2C00"],
  evening: ["0xE76F51", "0x2B0F0A"],
  night: ["0x1D3557", "0x0B1320"],
  portrait: ["0x6A4C93", "0x1C1030"],
  unspecified: ["0x6C757D", "0x212529"],
};

function wrap(text: string, width: number, maxLines: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if ((line + " " + word).trim().length > width) {
      lines.push(line);
      line = word;
      if (lines.length === maxLines) break;
    } else line = (line + " " + word).trim();
  }
  if (lines.length < maxLines && line) lines.push(line);
  return lines.join("\n");
}

/** A PNG card: palette from the mood, the title on top, the caption wrapped below. */
export const offlineImage: ImageProvider = {
  async render(request: ImageRequest) {
    const started = performance.now();
    const [background, band] = PALETTES[request.mood] ?? PALETTES.unspecified;
    const png = await withTempDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/title.txt`, wrap(request.title, 40, 2));
      await Deno.writeTextFile(`${dir}/caption.txt`, wrap(request.caption, 58, 7));
      const h = request.height;
      const filters = [
        `drawbox=x=0:y=${Math.round(h * 0.55)}:w=iw:h=${Math.round(h * 0.45)}:color=${band}@0.85:t=fill`,
        `drawbox=x=${Math.round(h * 0.04)}:y=${Math.round(h * 0.04)}:w=iw-${Math.round(h * 0.08)}:h=ih-${
          Math.round(h * 0.08)
        }:color=white@0.35:t=3`,
        `drawtext=fontfile=${FONT_BOLD}:textfile=${dir}/title.txt:fontcolor=white:fontsize=${
          Math.round(h / 14)
        }:x=(w-text_w)/2:y=${Math.round(h * 0.18)}:borderw=2:bordercolor=black@0.6`,
        `drawtext=fontfile=${FONT}:textfile=${dir}/caption.txt:fontcolor=white:fontsize=${
          Math.round(h / 26)
        }:line_spacing=6:x=${Math.round(h * 0.09)}:y=${Math.round(h * 0.6)}`,
      ].join(",");
      await run("ffmpeg", [
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        `color=c=${background}:s=${request.width}x${request.height}`,
        "-vf",
        filters,
        "-frames:v",
        "1",
        `${dir}/card.png`,
      ], { timeoutMs: timeLimitFor(0) });
      return await Deno.readFile(`${dir}/card.png`);
    });
    return {
      png,
      model: MODELS.offlineImage,
      provider: "offline",
      usage: [{
        model: MODELS.offlineImage,
        operation: "image",
        units: 1,
        duration_ms: Math.round(performance.now() - started),
      }],
    };
  },
};

const VOICES = ["en-us+m3", "en-gb+f3", "en-us+f4", "en-gb+m4", "en-us+m7", "en-gb-x-rp+f2"];

/** espeak-ng speech; one stable voice per speaker, a calm voice for the narrator. */
export const offlineSpeech: SpeechProvider = {
  async speak(text, voice, speakerKey) {
    const chosen = voice && /^[a-z]{2}/.test(voice) ? voice : castVoice(speakerKey, "en-gb+m1", VOICES);
    const started = performance.now();
    return await withTempDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/line.txt`, text);
      const spokenSeconds = text.split(/\s+/).length / 2.5;
      await run("espeak-ng", ["-v", chosen, "-s", "155", "-w", `${dir}/line.wav`, "-f", `${dir}/line.txt`], {
        timeoutMs: timeLimitFor(spokenSeconds),
      });
      const durationMs = Math.round((await probeDuration(`${dir}/line.wav`)) * 1000);
      return {
        wav: await Deno.readFile(`${dir}/line.wav`),
        durationMs,
        voice: chosen,
        model: MODELS.offlineSpeech,
        provider: "offline",
        usage: [{
          model: MODELS.offlineSpeech,
          operation: "speech",
          units: durationMs / 1000,
          duration_ms: Math.round(performance.now() - started),
        }],
      };
    });
  },
};

/** A slow zoom over the still image for the length of the audio, H.264 + AAC. */
export const offlineVideo: VideoProvider = {
  async animate(request: ClipRequest) {
    const started = performance.now();
    const [imageFile, audioFile] = await Promise.all([request.image.file(), request.audio.file()]);
    await Promise.all([
      assertDecodable(imageFile, "the scene image"),
      assertDecodable(audioFile, "the scene audio"),
    ]);
    const audioSeconds = await probeDuration(audioFile);
    const frames = Math.max(1, Math.ceil(audioSeconds * CLIP_FPS));
    await run("ffmpeg", [
      "-hide_banner",
      "-loglevel",
      "error",
      "-y",
      "-loop",
      "1",
      "-framerate",
      String(CLIP_FPS),
      "-i",
      imageFile,
      "-i",
      audioFile,
      "-filter_complex",
      `[0:v]scale=${request.width * 2}:${
        request.height * 2
      },zoompan=z='min(1+on*0.12/${frames},1.12)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s=${request.width}x${request.height}:fps=${CLIP_FPS},format=yuv420p[v]`,
      "-map",
      "[v]",
      "-map",
      "1:a",
      ...clipOutputArgs(audioSeconds, request.outPath),
    ], { timeoutMs: timeLimitFor(audioSeconds) });
    const durationSeconds = await probeDuration(request.outPath);
    return {
      durationSeconds,
      model: MODELS.offlineVideo,
      provider: "offline",
      usage: [{
        model: MODELS.offlineVideo,
        operation: "video",
        units: durationSeconds,
        duration_ms: Math.round(performance.now() - started),
      }],
    };
  },
};

/** No lip movement to sync on a still card: the clip passes through, and the job is recorded. */
export const offlineLipsync: LipsyncProvider = {
  sync() {
    return Promise.resolve({
      applied: false,
      model: MODELS.offlineLipsync,
      provider: "offline",
      usage: [{ model: MODELS.offlineLipsync, operation: "lipsync", units: 0 }],
    });
  },
};

/** Concatenates clips with identical encoding parameters without re-encoding. */
export const offlineMerge: MergeProvider = {
  async concat(clipPaths, outPath) {
    const started = performance.now();
    const list = `${outPath}.txt`;
    await Deno.writeTextFile(
      list,
      clipPaths.map((p) => `file '${p.replaceAll("'", "'\\''")}'`).join("\n") + "\n",
    );
    await run("ffmpeg", [
      "-hide_banner",
      "-loglevel",
      "error",
      "-y",
      "-f",
      "concat",
      "-safe",
      "0",
      "-i",
      list,
      "-c",
      "copy",
      "-movflags",
      "+faststart",
      outPath,
    ], { timeoutMs: timeLimitFor(60 * clipPaths.length) });
    const durationSeconds = await probeDuration(outPath);
    return {
      durationSeconds,
      model: MODELS.ffmpegMerge,
      provider: "offline",
      params: { demuxer: "concat", codec: "copy", movflags: "+faststart", inputs: clipPaths.length },
      usage: [{
        model: MODELS.ffmpegMerge,
        operation: "merge",
        units: durationSeconds,
        duration_ms: Math.round(performance.now() - started),
      }],
    };
  },
};

export { offlineScript };

export const offlineProviders: Providers = {
  script: offlineScript,
  image: offlineImage,
  speech: offlineSpeech,
  video: offlineVideo,
  lipsync: offlineLipsync,
  merge: offlineMerge,
};
