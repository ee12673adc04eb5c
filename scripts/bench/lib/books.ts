/** Books for the worker benchmarks: the largest the limits allow, and hostile uploads. */
import { zipSync } from "fflate";
import { DEFAULT_LIMITS } from "../../../supabase/functions/_shared/books/limits.ts";
import {
  chaptersAsDocx,
  chaptersAsText,
  chaptersAtTextLimit,
  deflatedBomb,
  DOCX_TEXT_OPENING,
  docxFiles,
  epubFiles,
  pdfBomb,
  zipOf,
} from "../../../supabase/functions/_shared/books/test_fixtures.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const GIB = 1024 ** 3;

/** A plain-text book just under the text limit, in 400 chapters. */
export function largestTextBook(): Uint8Array {
  return enc(chaptersAsText(chaptersAtTextLimit()));
}

/** Plain text of the upload limit's size (50 MiB): more text than a book may have. */
export function uploadLimitText(): Uint8Array {
  const chapter = chaptersAsText(chaptersAtTextLimit(400).slice(0, 1));
  const bytes = new Uint8Array(DEFAULT_LIMITS.maxFileBytes - 1024);
  const one = enc(`${chapter}\n\n`);
  for (let at = 0; at < bytes.length; at += one.length) bytes.set(one.subarray(0, bytes.length - at), at);
  return bytes;
}

/** Bytes that do not compress (a book's pictures), `size` of them. */
function pictures(size: number): [Uint8Array, { level: 0 }] {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
  return [bytes, { level: 0 }];
}

/** An EPUB and a DOCX at the upload limit: text just under the text limit plus pictures. */
export function largestUploads(): [string, Uint8Array][] {
  const chapters = chaptersAtTextLimit();
  const room = (files: Parameters<typeof zipSync>[0]) =>
    DEFAULT_LIMITS.maxFileBytes - zipSync(files).length - 4096;
  const epub = epubFiles(chapters);
  epub["OEBPS/images/plates.jpg"] = pictures(room(epub));
  const docx: Parameters<typeof zipSync>[0] = docxFiles(chaptersAsDocx(chapters));
  docx["word/media/plates.jpg"] = pictures(room(docx));
  return [["largest.epub", zipSync(epub)], ["largest.docx", zipSync(docx)]];
}

/**
 * Hostile uploads: the DOCX bomb (about 408 KB whose one entry, declared as 100 bytes,
 * inflates to 408 MiB of "A"); bombs of 2 GiB made of markup and of text whose headers declare
 * 60 MiB, within the limits, so that they are inflated until a limit stops them (the most a bomb
 * can make the reader do); and a PDF bomb.
 */
export async function hostileUploads(): Promise<[string, Uint8Array][]> {
  const declared = 60 * 1024 * 1024;
  const comments = { ...deflatedBomb(DOCX_TEXT_OPENING, 2 * GIB, "<!-- -->"), declared };
  const chapter = epubFiles([{ title: "One", paragraphs: ["A"] }]);
  delete chapter["OEBPS/text/ch1.xhtml"];
  return [
    [
      "bomb-408kb.docx",
      zipOf(docxFiles([]), {
        "word/document.xml": { ...deflatedBomb("", 408 * 1024 ** 2, "A"), declared: 100 },
      }),
    ],
    ["bomb-2gib-markup.docx", zipOf(docxFiles([]), { "word/document.xml": comments })],
    [
      "bomb-2gib-text.docx",
      zipOf(docxFiles([]), {
        "word/document.xml": { ...deflatedBomb(DOCX_TEXT_OPENING, 2 * GIB, "a"), declared },
      }),
    ],
    [
      "bomb-2gib-paragraphs.epub",
      zipOf(chapter, {
        "OEBPS/text/ch1.xhtml": {
          ...deflatedBomb("<html><body>", 2 * GIB, "<p>the harbour at dawn</p>"),
          declared,
        },
      }),
    ],
    ["bomb-1gib.pdf", await pdfBomb(GIB)],
    [
      "corrupt.docx",
      zipOf(docxFiles([], `${DOCX_TEXT_OPENING}betwaen @#</w:r></w:p></w:body></w:document>`)),
    ],
  ];
}
