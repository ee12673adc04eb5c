/** multipart/form-data bodies, as storage-js uploads a Blob or a FormData. */

export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  content: Uint8Array<ArrayBuffer>;
}

/**
 * The parts of a multipart/form-data body; null when it is malformed. (Deno's `formData()` drops a
 * part with an empty name, which is how storage-js sends the file.)
 */
export function multipartParts(body: Uint8Array, boundary: string): MultipartPart[] | null {
  const encoder = new TextEncoder();
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  const headerEnd = encoder.encode("\r\n\r\n");
  // A CRLF before the first delimiter makes every delimiter alike.
  const data = new Uint8Array(body.length + 2);
  data.set(encoder.encode("\r\n"));
  data.set(body, 2);
  const parts: MultipartPart[] = [];
  let start = indexOf(data, delimiter, 0);
  // Each delimiter is followed by CRLF and the part, or by "--" after the last part.
  while (start !== -1 && data[start + delimiter.length] !== 0x2d) {
    const headersStart = start + delimiter.length + 2;
    const contentStart = indexOf(data, headerEnd, headersStart) + headerEnd.length;
    const next = indexOf(data, delimiter, contentStart);
    if (contentStart < headerEnd.length || next === -1) return null;
    const headers = new TextDecoder().decode(data.subarray(headersStart, contentStart));
    parts.push({
      name: headers.match(/;\s*name="([^"]*)"/i)?.[1] ?? "",
      filename: headers.match(/;\s*filename="([^"]*)"/i)?.[1],
      contentType: headers.match(/^content-type:\s*([^\r\n]+)/im)?.[1].trim(),
      content: data.subarray(contentStart, next),
    });
    start = next;
  }
  return parts;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  search: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue search;
    return i;
  }
  return -1;
}
