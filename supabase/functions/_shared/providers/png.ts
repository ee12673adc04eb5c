/**
 * Images as PNG without a tool (Edge Functions cannot run ffmpeg): PNG passes as it is, JPEG is
 * decoded and encoded again in bounded memory; any other format is refused with a clear error.
 */
import { decode as decodeJpeg } from "jpeg-js";
import { encode as encodePng } from "fast-png";
import { PermanentError } from "../errors.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, signature: number[]): boolean {
  return signature.every((b, i) => bytes[i] === b);
}

/** What the bytes claim to be, for messages. */
export function imageFormat(bytes: Uint8Array): string {
  if (startsWith(bytes, PNG_SIGNATURE)) return "png";
  if (startsWith(bytes, JPEG_SIGNATURE)) return "jpeg";
  const text = new TextDecoder().decode(bytes.slice(0, 12));
  if (text.startsWith("RIFF") && text.slice(8, 12) === "WEBP") return "webp";
  if (text.startsWith("GIF8")) return "gif";
  return "unknown";
}

/**
 * At most 2 megapixels (we ask for at most 1024 pixels a side), decoded within 64 MB: about 0.4 s of
 * CPU for a 1-megapixel photo, so three fit an Edge request's 2 s with room to spare.
 */
export function asPng(bytes: Uint8Array, source = "the image model"): Uint8Array {
  const format = imageFormat(bytes);
  if (format === "png") return bytes;
  if (format !== "jpeg") {
    throw new PermanentError(`${source} answered with a ${format} image; only PNG and JPEG can be stored`);
  }
  let image;
  try {
    image = decodeJpeg(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: 2,
      maxMemoryUsageInMB: 64,
    });
  } catch (error) {
    throw new PermanentError(
      `${source} answered with a JPEG that cannot be decoded: ${(error as Error).message}`,
    );
  }
  return encodePng({ width: image.width, height: image.height, data: image.data, channels: 4 });
}
