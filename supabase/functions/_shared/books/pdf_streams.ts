/**
 * What a PDF's streams decode to, checked before pdf.js reads the file: pdf.js decodes a stream
 * whole into memory, so a content stream of a megabyte that inflates to gigabytes (a "PDF bomb")
 * would cost gigabytes and minutes. Each stream that reading text decodes (contents, fonts, object
 * and cross-reference streams; not images) is inflated here by zlib up to the limit, and the PDF is
 * refused once one passes it. Streams of an encrypted PDF cannot be inflated before they are
 * decrypted, and are left to pdf.js.
 */
import { constants, inflateSync } from "node:zlib";
import { BookFormatError, type ExtractLimits, mib } from "./limits.ts";

const latin1 = new TextDecoder("latin1");
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const STREAM = ascii("stream");
const END_STREAM = ascii("endstream");
const OBJ = ascii("obj");
/** How far before "stream" the object's dictionary may start. */
const DICTIONARY_BYTES = 64 * 1024;

export function checkPdfStreams(bytes: Uint8Array, limits: Pick<ExtractLimits, "maxPdfStreamBytes">): void {
  const tail = latin1.decode(bytes.subarray(Math.max(0, bytes.length - DICTIONARY_BYTES)));
  if (/\/Encrypt\b/.test(tail)) return;
  for (let at = find(bytes, STREAM, 0); at >= 0; at = find(bytes, STREAM, at + STREAM.length)) {
    if (bytes[at - 1] === 0x64 /* d: endstream */) continue;
    let start = at + STREAM.length;
    if (bytes[start] === 0x0d) start++;
    if (bytes[start] !== 0x0a && bytes[start - 1] !== 0x0d) continue; // "stream" inside other text
    start++;
    const end = find(bytes, END_STREAM, start);
    const objAt = findLast(bytes, OBJ, at, Math.max(0, at - DICTIONARY_BYTES));
    const dictionary = objAt < 0 ? "" : latin1.decode(bytes.subarray(objAt, at));
    const filters = dictionary.match(/\/Filter\s*(\[[^\]]*\]|\/\w+)/)?.[1].match(/\/\w+/g) ?? [];
    // Images are not decoded for text; other filters shrink data or are refused by pdf.js itself.
    const checked = !/\/Subtype\s*\/Image\b/.test(dictionary) && filters.length > 0 &&
      filters.every((f) => f === "/FlateDecode" || f === "/Fl");
    if (checked) inflateCounting(bytes.subarray(start, end < 0 ? bytes.length : end), filters.length, limits);
    if (end < 0) break;
    at = end; // the stream's own bytes hold no objects
  }
}

/** Inflates a stream through `stages` inflations, each up to the limit; throws once one passes it. */
function inflateCounting(data: Uint8Array, stages: number, limits: Pick<ExtractLimits, "maxPdfStreamBytes">) {
  // One native inflation per stage, stopped by zlib itself at the limit (a truncated stream, which
  // pdf.js reads too, gives what it holds).
  const options = { maxOutputLength: limits.maxPdfStreamBytes, finishFlush: constants.Z_SYNC_FLUSH };
  let decoded: Uint8Array = data;
  for (let stage = 0; stage < stages; stage++) {
    try {
      decoded = inflateSync(decoded, options);
    } catch (error) {
      if (error instanceof RangeError) {
        throw new BookFormatError(
          `the PDF holds a stream that decodes to more than ${mib(limits.maxPdfStreamBytes)}, far more ` +
            "than a book's pages need: it may be damaged or made to harm readers; print or export it to PDF " +
            "again and upload the new copy",
        );
      }
      return; // not zlib data: pdf.js cannot decode it either
    }
  }
}

function find(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  for (let at = bytes.indexOf(needle[0], from); at >= 0; at = bytes.indexOf(needle[0], at + 1)) {
    let k = 1;
    while (k < needle.length && bytes[at + k] === needle[k]) k++;
    if (k === needle.length) return at;
  }
  return -1;
}

function findLast(bytes: Uint8Array, needle: Uint8Array, before: number, notBefore: number): number {
  if (before <= 0) return -1;
  for (
    let at = bytes.lastIndexOf(needle[0], before - 1);
    at >= notBefore;
    at = bytes.lastIndexOf(needle[0], at - 1)
  ) {
    let k = 1;
    while (k < needle.length && bytes[at + k] === needle[k]) k++;
    if (k === needle.length) return at;
    if (at === 0) break;
  }
  return -1;
}
