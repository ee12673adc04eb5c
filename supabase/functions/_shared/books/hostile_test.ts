/**
 * Hostile uploads, made here: zip bombs, deep nesting, a huge single entry, many tiny entries, a
 * corrupt DOCX. Each is refused with a message that says what is wrong and what to do, never a
 * parser's own words; and read under a small V8 heap, each (and the largest books the limits allow)
 * ends without running out of memory. Peak memory and time are measured by `npm run bench -- ingest_memory`.
 */
import assert from "node:assert/strict";
import { zipSync } from "fflate";
import { BookFormatError, DEFAULT_LIMITS, extractBook } from "./extract.ts";
import type { CliResult } from "./extract_cli.ts";
import {
  chaptersAsDocx,
  chaptersAsText,
  chaptersAtTextLimit,
  deflatedBomb,
  DOCX_TEXT_OPENING,
  docxFiles,
  epubFiles,
  type FixtureChapter,
  lyingZip,
  pdfBomb,
  prose,
  zipOf,
} from "./test_fixtures.ts";

const GIB = 1024 ** 3;
const enc = (s: string) => new TextEncoder().encode(s);
const CHAPTER: FixtureChapter[] = [{ title: "One", paragraphs: ["A quiet harbour at dawn."] }];
const DOCUMENT = "word/document.xml";
const CHAPTER_FILE = "OEBPS/text/ch1.xhtml";

/** A DOCX whose document.xml is `entry` (deflated by hand). */
const docxWith = (entry: ReturnType<typeof deflatedBomb> & { declared?: number }) =>
  zipOf(docxFiles([]), { [DOCUMENT]: entry });
/** An EPUB whose first chapter is `entry` (deflated by hand). */
function epubWith(entry: ReturnType<typeof deflatedBomb> & { declared?: number }) {
  const files = epubFiles(CHAPTER);
  delete files[CHAPTER_FILE];
  return zipOf(files, { [CHAPTER_FILE]: entry });
}

/** The hostile files: name, bytes, and what the refusal must say. */
async function hostileFiles(): Promise<[string, Uint8Array, RegExp][]> {
  // Markup that never ends (comments), text that never ends, and nesting that never ends.
  const comments = "<!-- -->";
  const epubOpening = "<html><body><p>";
  return [
    [
      "bomb-lying.docx",
      docxWith({ ...deflatedBomb(DOCX_TEXT_OPENING, 2 * GIB, comments), declared: 100 }),
      /the DOCX is damaged or a zip bomb: word\/document\.xml inflates to more than the 100 bytes it declares/,
    ],
    [
      "bomb-declared.docx",
      lyingZip(DOCUMENT, 1024 * 1024, 2 * GIB),
      /DOCX expands to more than 64 MiB when unzipped \(word\/document\.xml declares 2048 MiB\)/,
    ],
    [
      "bomb-text.docx",
      docxWith({ ...deflatedBomb(DOCX_TEXT_OPENING, 2 * GIB, "a"), declared: 60 * 1024 * 1024 }),
      /DOCX holds a stretch of more than 8,388,608 characters without markup in word\/document\.xml/,
    ],
    [
      "bomb-lying.epub",
      epubWith({ ...deflatedBomb(epubOpening, 2 * GIB, comments), declared: 100 }),
      /the EPUB is damaged or a zip bomb: OEBPS\/text\/ch1\.xhtml inflates to more than the 100 bytes it declares/,
    ],
    [
      "bomb-paragraphs.epub",
      epubWith({
        ...deflatedBomb(epubOpening, 2 * GIB, "<p>the harbour at dawn</p>"),
        declared: 60 * 1024 * 1024,
      }),
      /the book's text is longer than 8,388,608 characters \(about 1\.4 million words\).*split it into volumes/,
    ],
    [
      "deep.docx",
      zipOf(docxFiles([], DOCX_TEXT_OPENING.replace("<w:p><w:r><w:t>", "") + "<w:sdt>".repeat(100_000))),
      /DOCX nests elements more than 256 levels deep in word\/document\.xml/,
    ],
    [
      "deep.epub",
      zipOf({ ...epubFiles(CHAPTER), [CHAPTER_FILE]: enc(`<html><body>${"<div>".repeat(100_000)}`) }),
      /EPUB nests elements more than 256 levels deep in OEBPS\/text\/ch1\.xhtml/,
    ],
    [
      "deep-package.epub",
      zipOf({ ...epubFiles(CHAPTER), "OEBPS/content.opf": enc(`<package>${"<metadata>".repeat(100_000)}`) }),
      /EPUB nests elements more than 256 levels deep in OEBPS\/content\.opf/,
    ],
    [
      "huge-entry.docx",
      docxWith(deflatedBomb(DOCX_TEXT_OPENING, 12 * 1024 * 1024, "word ")),
      /DOCX holds a stretch of more than 8,388,608 characters without markup/,
    ],
    [
      "many-entries.docx",
      zipSync({
        ...docxFiles([{ text: "A quiet harbour." }]),
        ...Object.fromEntries(
          Array.from({ length: 100_000 }, (_, i) => [`word/media/${i}.png`, new Uint8Array()]),
        ),
      }, { level: 0 }),
      /DOCX holds more than 10,000 files, far more than a book needs/,
    ],
    [
      "corrupt.docx",
      zipOf(docxFiles([], `${DOCX_TEXT_OPENING}betwaen @#</w:r></w:p></w:body></w:document>`)),
      /^the DOCX is damaged: word\/document\.xml is not well-formed XML; open it in Word or LibreOffice, save it again/,
    ],
    [
      "bomb.pdf",
      await pdfBomb(GIB),
      /the PDF holds a stream that decodes to more than 32 MiB.*export it to PDF again/,
    ],
    [
      "too-long.txt",
      enc(prose(1_600_000)),
      /the book's text is longer than 8,388,608 characters/,
    ],
  ];
}

/** A parser's own words, which must never reach a user. */
const PARSER_WORDS = /tagName|line:|col:|undefined|unexpected|Unclosed|invalid|Error\b/i;

Deno.test("hostile uploads are refused with a message that says what is wrong and what to do", async () => {
  for (const [name, bytes, message] of await hostileFiles()) {
    assert.ok(bytes.length < 20 * 1024 * 1024, `${name} is a small upload (${bytes.length} bytes)`);
    await assert.rejects(
      extractBook(name, bytes),
      (error: Error) => {
        assert.ok(error instanceof BookFormatError, `${name}: ${error}`);
        assert.match(error.message, message, name);
        assert.doesNotMatch(error.message, PARSER_WORDS, `${name} speaks the parser's language`);
        return true;
      },
    );
  }
});

Deno.test("a DOCX whose XML a strict parser stops at is damaged, whatever the fault", async () => {
  const faults = [
    "<w:t>betwaen @#", // unclosed
    "<w:t>a</w:r>", // closed by the wrong tag
    "<betwaen @#>", // not a tag
    "<w:t>&nosuch;</w:t>", // an entity XML does not define
  ];
  for (const fault of faults) {
    const xml = `${DOCX_TEXT_OPENING.replace("<w:t>", "")}${fault}</w:r></w:p></w:body></w:document>`;
    await assert.rejects(
      extractBook("corrupt.docx", zipOf(docxFiles([], xml))),
      /the DOCX is damaged: word\/document\.xml is not well-formed XML/,
      fault,
    );
  }
});

/** The largest books the limits allow, as text and in each format that inflates. */
function largestBooks(): [string, Uint8Array][] {
  const chapters = chaptersAtTextLimit();
  return [
    ["largest.txt", enc(chaptersAsText(chapters))],
    ["largest.epub", zipSync(epubFiles(chapters))],
    ["largest.docx", zipSync(docxFiles(chaptersAsDocx(chapters)))],
  ];
}

/** The V8 heap the reader gets in the memory test: a quarter of the worker's budget. */
const HEAP_MB = 64;

Deno.test(`under a ${HEAP_MB} MB V8 heap, every hostile file is refused and the largest books are read`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "litinkai-hostile-" });
  try {
    const expected = new Map<string, RegExp | null>();
    for (const [name, bytes, message] of await hostileFiles()) {
      await Deno.writeFile(`${dir}/${name}`, bytes);
      expected.set(name, message);
    }
    for (const [name, bytes] of largestBooks()) {
      assert.ok(bytes.length <= DEFAULT_LIMITS.maxFileBytes);
      await Deno.writeFile(`${dir}/${name}`, bytes);
      expected.set(name, null);
    }
    const cli = new URL("./extract_cli.ts", import.meta.url).pathname;
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--v8-flags=--max-old-space-size=${HEAP_MB}`,
        "--allow-read",
        cli,
        ...[...expected.keys()].map((n) => `${dir}/${n}`),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const [stdout, stderr] = [run.stdout, run.stderr].map((bytes) => new TextDecoder().decode(bytes));
    assert.equal(
      run.code,
      0,
      `the reader ended normally (not out of memory) after:\n${stdout}\n${stderr.slice(-1000)}`,
    );
    const results = stdout.trim().split("\n").map((line) => JSON.parse(line) as CliResult);
    assert.equal(results.length, expected.size);
    for (const result of results) {
      const message = expected.get(result.file.split("/").pop()!)!;
      if (message) assert.match(result.refused ?? "(read)", message, result.file);
      else {
        assert.equal(result.refused, undefined, result.file);
        assert.ok(
          result.chars! > DEFAULT_LIMITS.maxTextChars * 0.9,
          `${result.file}: ${result.chars} characters`,
        );
        assert.equal(result.chapters, 400, result.file);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
