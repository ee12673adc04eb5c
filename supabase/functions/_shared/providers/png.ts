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

/** JPEG frame headers (SOF0 to SOF15 but DHT, JPG and DAC) carry the image's size. */
function isJpegFrameMarker(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Format and pixel size of a PNG or JPEG read from its header, without decoding it; null when the
 * bytes are neither or their header is cut short.
 */
export function imageSize(
  bytes: Uint8Array,
): { format: "png" | "jpeg"; width: number; height: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = imageFormat(bytes);
  if (format === "png") {
    const isHeaderChunk = bytes.length >= 24 && new TextDecoder().decode(bytes.subarray(12, 16)) === "IHDR";
    return isHeaderChunk ? { format, width: view.getUint32(16), height: view.getUint32(20) } : null;
  }
  if (format !== "jpeg") return null;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    if (marker === 0xff) { // fill byte before a marker
      at++;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { // markers without a segment
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image, or scan data before any frame
    const length = view.getUint16(at + 2);
    if (isJpegFrameMarker(marker)) {
      if (at + 9 > bytes.length) return null;
      return { format, width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
    }
    at += 2 + length;
  }
  return null;
}
