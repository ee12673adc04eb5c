import assert from "node:assert/strict";
import { strToU8, zipSync } from "fflate";
import { BookFormatError, decodeText, DEFAULT_LIMITS, extractBook, type ExtractLimits } from "./extract.ts";
import { detectStructure } from "./structure.ts";
import {
  blankPdf,
  deflatedBomb,
  DOCX_TEXT_OPENING,
  docxFiles,
  epubFiles,
  makeDocx,
  makeEpub,
  makeEpubDocuments,
  makePdf,
  prose,
  zipOf,
} from "./test_fixtures.ts";
import { wordCount } from "../providers/text/text_utils.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const titles = async (name: string, bytes: Uint8Array) => {
  const structure = detectStructure(await extractBook(name, bytes));
  return { structure, titles: structure.chapters.map((c) => c.title) };
};
const CHAPTERS = [
  { title: "The Storm", paragraphs: ["Mara climbed the tower while the wind rose.", "The glass rattled."] },
  { title: "The Lamp", paragraphs: ["Tomas lit the lamp at night and trimmed the wick."] },
  { title: "The Boat", paragraphs: ["At dawn a boat came round the point."] },
];

Deno.test("a text with Chapter I headings, a contents list, running headers and page numbers", async () => {
  const page = (n: number, body: string) => `THE LIGHTHOUSE\n\n${body}\n\n${n}\n`;
  const text = [
    "Contents\n\nChapter I\nChapter II\nChapter III\n",
    page(1, "CHAPTER I\n\nThe Storm\n\nMara climbed the tower. The wind rose all night."),
    page(2, "The glass rattled in its frame."),
    page(3, "Chapter II. The Lamp\n\nTomas lit the lamp."),
    page(4, "Chapter III\n\nAt dawn a boat came round the point."),
  ].join("\n");
  const { structure, titles: found } = await titles("book.txt", enc(text));
  assert.deepEqual(found, ["CHAPTER I: The Storm", "Chapter II. The Lamp", "Chapter III"]);
  assert.equal(structure.detector, "chapter_headings");
  assert.equal(structure.extractionMethod, "ai");
  const first = structure.chapters[0].content;
  assert.match(first, /glass rattled/);
  assert.doesNotMatch(first, /THE LIGHTHOUSE|^\d+$/m, "running header and page numbers are gone");
});

Deno.test("chapter words, parts, prologue and epilogue", async () => {
  const text = "Prologue\n\nIt began at sea.\n\nPart One: The Coast\n\nChapter One\n\nMara arrived.\n\n" +
    "Chapter Two\n\nTomas waited.\n\nPart Two: The Storm\n\nChapter Three\n\nThe storm came.\n\nEpilogue\n\nCalm returned.";
  const { structure, titles: found } = await titles("book.txt", enc(text));
  assert.deepEqual(found, ["Prologue", "Chapter One", "Chapter Two", "Chapter Three", "Epilogue"]);
  assert.deepEqual(structure.chapters.map((c) => c.partTitle), [
    null,
    "Part One: The Coast",
    "Part One: The Coast",
    "Part Two: The Storm",
    "Part Two: The Storm",
  ]);
  assert.equal(structure.structureType, "mixed");
});

Deno.test("roman numerals alone on a line are headings when there are several", async () => {
  const { titles: found } = await titles(
    "book.txt",
    enc("I.\n\nFirst part of the tale.\n\nII.\n\nSecond part.\n\nIII.\n\nThird."),
  );
  assert.deepEqual(found, ["I.", "II.", "III."]);
});

Deno.test("a book without markers falls back to parts of about 3,000 words", async () => {
  const { structure } = await titles("plain.txt", enc(prose(6500)));
  assert.equal(structure.detector, "fixed_parts");
  assert.deepEqual(structure.chapters.map((c) => c.title), ["Part 1", "Part 2"]);
  for (const chapter of structure.chapters) assert.ok(wordCount(chapter.content) >= 2900);
});

Deno.test("EPUB chapters come from the nav document, or from the NCX", async () => {
  for (const toc of ["nav", "ncx"] as const) {
    const { structure, titles: found } = await titles("book.epub", makeEpub(CHAPTERS, toc));
    assert.deepEqual(found, ["The Storm", "The Lamp", "The Boat"]);
    assert.equal(structure.detector, `epub_${toc}`);
    assert.equal(structure.extractionMethod, "toc");
    assert.equal(
      structure.chapters[0].content,
      "Mara climbed the tower while the wind rose.\n\nThe glass rattled.",
    );
  }
});

/** A generated manual as a documentation theme writes it: a header, navigation bars and a footer on every page. */
function themedManual(
  groups: { title: string; chapters: string[] }[],
  groupPage: "list" | "nothing" | "prose and list" = "list",
) {
  const pages: { href: string; title: string; body: string }[] = [];
  pages.push({ href: "index.xhtml", title: "The Keeper's Manual", body: "<p>Version 3 of the manual.</p>" });
  groups.forEach((group, g) => {
    const chapters = group.chapters.map((title, c) => ({
      href: `ch${g}-${c}.xhtml`,
      title: `${g + 1}.${c + 1}. ${title}`,
      body: prose(120, g * 10 + c + 1).split("\n\n").map((p) => `<p>${p}</p>`).join(""),
    }));
    const list = chapters.map((c) => `<li><a href="${c.href}">${c.title}</a></li>`).join("");
    pages.push({
      href: `group${g}.xhtml`,
      title: `${g + 1}. ${group.title}`,
      body: groupPage === "nothing"
        ? ""
        : `${groupPage === "prose and list" ? `<p>${prose(60, 50 + g)}</p>` : ""}<ul>${list}</ul>`,
    });
    pages.push(...chapters);
  });
  const documents = pages.map((page, i) => {
    const previous = pages[i - 1]
      ? `«&#160;&#160;<a href="${pages[i - 1].href}">${pages[i - 1].title}</a>`
      : "";
    const next = pages[i + 1] ? `<a href="${pages[i + 1].href}">${pages[i + 1].title}</a>&#160;&#160;»` : "";
    const bar =
      `<p>${previous}\n&#160;::&#160;\n<a href="index.xhtml">Contents</a>\n&#160;::&#160;\n${next}</p>`;
    return {
      href: page.href,
      body: `<div><h1>The Keeper's Manual documentation</h1><h2>${page.title}</h2></div>${bar}` +
        `<h1>${page.title}</h1>${page.body}${bar}<p>© Copyright the keepers.</p><p>Created using a generator.</p>`,
    };
  });
  const nav = `<ol><li><a href="index.xhtml">The Keeper's Manual</a></li>${
    groups.map((group, g) =>
      `<li><a href="group${g}.xhtml">${group.title}</a><ol>${
        group.chapters.map((title, c) => `<li><a href="ch${g}-${c}.xhtml">${title}</a></li>`).join("")
      }</ol></li>`
    ).join("")
  }</ol>`;
  return makeEpubDocuments(documents, nav);
}

const MANUAL = [
  { title: "Working on the Light", chapters: ["Scope", "The Lamp", "The Lens", "The Log"] },
  { title: "Appendix", chapters: ["Tools of the Keeper"] },
];

Deno.test("EPUB headers, navigation bars and footers on every document are left out, whatever they say", async () => {
  const { structure } = await titles("manual.epub", themedManual(MANUAL));
  const text = structure.chapters.map((c) => c.content).join("\n");
  assert.doesNotMatch(text, /::|«|»|Contents|Copyright|generator|documentation/);
  // Each chapter starts at its own heading and keeps all its words.
  assert.equal(structure.chapters[1].content.split("\n")[0], "1.2. The Lamp");
  assert.equal(wordCount(structure.chapters[1].content), 3 + wordCount(prose(120, 2)));
});

Deno.test("EPUB grouping pages (each entry in its own document, and listed on the page) are parts", async () => {
  const { structure, titles: found } = await titles("manual.epub", themedManual(MANUAL));
  assert.deepEqual(found, ["Scope", "The Lamp", "The Lens", "The Log", "Tools of the Keeper"]);
  assert.deepEqual(structure.chapters.map((c) => c.partTitle), [
    ...Array(4).fill("Working on the Light"),
    "Appendix",
  ]);
  // The title page and each grouping page's list of its chapters are matter, not lost.
  assert.deepEqual(structure.matter.map((m) => m.title), [
    "The Keeper's Manual",
    "Working on the Light",
    "Appendix",
  ]);
  assert.match(structure.matter[1].content, /1\.4\. The Log/);
  // A page that does not list what follows it, or opens with prose before its list, is a chapter
  // whose sections are documents of their own.
  for (const page of ["nothing", "prose and list"] as const) {
    assert.deepEqual((await titles("manual.epub", themedManual(MANUAL, page))).titles, [
      "Working on the Light",
      "Appendix",
    ]);
  }
});

Deno.test("EPUB lines naming their own document are not furniture; a line on every document is", async () => {
  const chapters = Array.from({ length: 6 }, (_, i) => ({
    title: `Chapter ${i + 1}`,
    paragraphs: ["* * *", prose(60, i + 1), `End of Chapter ${i + 1}`],
  }));
  const book = await extractBook("novel.epub", makeEpub(chapters));
  const lines = book.text.split("\n");
  for (const c of chapters) {
    assert.ok(lines.includes(c.title), c.title);
    assert.ok(lines.includes(`End of ${c.title}`), `End of ${c.title}`);
  }
  assert.ok(!lines.includes("* * *"));
  assert.deepEqual(detectStructure(book).chapters.map((c) => c.title), chapters.map((c) => c.title));
});

Deno.test("PDF chapters come from the outline; the running header is dropped", async () => {
  const pdf = await makePdf([["Mara walked to the light."], ["She climbed."], ["Tomas slept."]], {
    outline: [{ title: "Arrival", page: 0 }, { title: "Night", page: 2 }],
    header: "THE LIGHTHOUSE",
  });
  const { structure, titles: found } = await titles("book.pdf", pdf);
  assert.deepEqual(found, ["Arrival", "Night"]);
  assert.equal(structure.detector, "pdf_outline");
  assert.equal(structure.chapters[0].content, "Mara walked to the light.\n\nShe climbed.");
});

Deno.test("a PDF without an outline is split by its headings", async () => {
  const pdf = await makePdf([["Chapter 1", "Mara walked."], ["Chapter 2", "Tomas slept."], [
    "Chapter 3",
    "Dawn.",
  ]]);
  assert.deepEqual((await titles("book.pdf", pdf)).titles, ["Chapter 1", "Chapter 2", "Chapter 3"]);
});

Deno.test("a chapter that starts mid-page starts at its heading, where its destination points", async () => {
  // Page 2 ends chapter 1, then chapter 2 begins on it (line 3 stands at y = 760 - 2 * 16 = 728).
  const pages = [
    ["Mara walked to the light.", "She climbed the tower."],
    ["The wind fell at last.", "Night came down.", "The Second Night", "Tomas slept by the lamp."],
    ["He woke at dawn."],
  ];
  const pdf = await makePdf(pages, {
    outline: [{ title: "Arrival", page: 0, top: 780 }, { title: "The Second Night", page: 1, top: 740 }],
  });
  const { structure } = await titles("book.pdf", pdf);
  assert.deepEqual(structure.chapters.map((c) => c.content), [
    "Mara walked to the light.\nShe climbed the tower.\n\nThe wind fell at last.\nNight came down.",
    "Tomas slept by the lamp.\n\nHe woke at dawn.",
  ]);
});

Deno.test("running heads are removed by where they stand, whatever they say; page numbers too", async () => {
  // Each chapter's two pages carry its own title as running head: no text recurs on three pages.
  const chapters = ["The Storm", "The Lamp", "The Boat", "The Rock", "The Gull"];
  // Pages of prose, ten words a line.
  const pages = Array.from(
    { length: 9 },
    (_, n) => prose(80, n + 1).replace(/\s+/g, " ").match(/(?:\S+ ?){1,10}/g)!,
  );
  const pdf = await makePdf(pages, {
    outline: chapters.map((title, i) => ({ title, page: i * 2 })),
    header: (n) => `${chapters[Math.floor(n / 2)]} — the tale`,
  });
  const { structure } = await titles("book.pdf", pdf);
  const text = structure.chapters.map((c) => c.content).join("\n");
  assert.doesNotMatch(text, /the tale/);
  assert.doesNotMatch(text, /^\d+$/m);
  assert.equal(structure.chapters[1].content.split("\n")[0], pages[2][0].trim());
});

Deno.test("a PDF without an outline takes its headings from their type size", async () => {
  const pdf = await makePdf([
    ["Getting Started", "Mara walked to the light."],
    ["She climbed.", "First Steps", "Tomas slept."],
    ["Dawn came."],
  ], { large: ["Getting Started", "First Steps"] });
  const { structure, titles: found } = await titles("book.pdf", pdf);
  assert.deepEqual(found, ["Getting Started", "First Steps"]);
  assert.equal(structure.detector, "pdf_type_sizes");
  assert.equal(structure.chapters[1].content, "Tomas slept.\n\nDawn came.");
});

/** A standard whose PDF outline lists its sections (each chapter has a Purpose) but not its chapters. */
async function standardPdf(heading: (n: number, title: string) => string[], large: string[] = []) {
  const chapters = ["Introduction", "The Lamp", "The Lens"];
  const sections = [["Purpose", "Conventions"], ["Purpose", "Requirements"], ["Purpose"]];
  const pages = [["The Keeper's Standard"]];
  const outline: { title: string; page: number; top?: number }[] = [];
  chapters.forEach((title, c) => {
    const lines = [...heading(c + 1, title), `This chapter is about ${title.toLowerCase()}.`];
    for (const section of sections[c]) {
      outline.push({ title: section, page: c + 1, top: 760 - lines.length * 16 + 12 });
      lines.push(section, `The ${section.toLowerCase()} of ${title.toLowerCase()} is set out here.`);
    }
    pages.push(lines);
  });
  return await makePdf(pages, { outline, large: ["The Keeper's Standard", ...large] });
}

Deno.test("a PDF outline without its chapters: chapter headings on the pages become the level above", async () => {
  const expected = ["Introduction", "The Lamp", "The Lens"];
  // A LaTeX short title printed before the title, where the typesetter did not know the chapter command.
  const printed = await titles("standard.pdf", await standardPdf((_, t) => [`[${t}]${t}`]));
  assert.deepEqual(printed.titles, expected);
  assert.equal(
    printed.structure.chapters[0].content,
    "This chapter is about introduction.\nPurpose\nThe purpose of introduction is set out here.\n" +
      "Conventions\nThe conventions of introduction is set out here.",
  );
  // "Chapter N" alone, its title on the next line.
  const numbered = await titles("standard.pdf", await standardPdf((n, t) => [`Chapter ${n}`, t]));
  assert.deepEqual(numbered.titles, expected.map((t, i) => `Chapter ${i + 1}: ${t}`));
  // Set larger than every heading the outline gives.
  const larger = await titles("standard.pdf", await standardPdf((_, t) => [t], expected));
  assert.deepEqual(larger.titles, expected);
});

Deno.test("a PDF outline that has its chapters gets no level above them", async () => {
  // A large title, and "Chapter N" lines over the titles the outline lists.
  const pages = [["The Keeper's Standard"], ["Chapter 1", "Introduction", "Mara lit the lamp."], [
    "Chapter 2",
    "The Lamp",
    "It burned.",
  ]];
  const pdf = await makePdf(pages, {
    outline: [{ title: "Introduction", page: 1 }, { title: "The Lamp", page: 2 }],
    large: ["The Keeper's Standard"],
  });
  assert.deepEqual((await titles("book.pdf", pdf)).titles, ["Introduction", "The Lamp"]);
});

Deno.test("an entry that holds nearly all the book beside matter is not a level; its siblings are matter", () => {
  const text = ["Contents", "Manual", "Part", "One", prose(400, 1), "Two", prose(400, 2), "Index", "a, b"]
    .join("\n\n");
  const at = (s: string) => text.indexOf(s);
  const structure = detectStructure({
    format: "epub",
    text,
    outline: [
      { title: "Table of Contents", depth: 0, start: at("Contents") },
      { title: "Manual", depth: 0, start: at("Manual") },
      { title: "What it is", depth: 1, start: at("Part") },
      { title: "One", depth: 2, start: at("One") },
      { title: "Two", depth: 2, start: at("Two") },
      { title: "Index", depth: 1, start: at("Index") },
    ],
    outlineSource: "epub_ncx",
  });
  assert.deepEqual(structure.chapters.map((c) => c.title), ["One", "Two"]);
  assert.deepEqual(structure.chapters.map((c) => c.partTitle), [null, null]);
  assert.ok(structure.matter.some((m) => m.title === "Index"));
});

Deno.test("DOCX chapters come from headings; a single title heading around them is no level and no part", async () => {
  const docx = makeDocx([
    { heading: 1, text: "The Lighthouse" },
    { text: "A tale of the coast." },
    { heading: 2, text: "Arrival" },
    { text: "Mara walked." },
    { heading: 2, text: "Night" },
    { text: "Tomas slept." },
  ]);
  const { structure, titles: found } = await titles("book.docx", docx);
  assert.deepEqual(found, ["Arrival", "Night"]);
  assert.equal(structure.detector, "docx_headings");
  assert.equal(structure.chapters[1].content, "Tomas slept.");
  assert.deepEqual(structure.chapters.map((c) => c.partTitle), [null, null]);
  assert.equal(structure.structureType, "chapters");
  // What the title heading says before the first chapter is kept as matter.
  assert.deepEqual(structure.matter, [{
    title: "The Lighthouse",
    words: 5,
    content: "A tale of the coast.",
  }]);
});

Deno.test("Markdown headings are the table of contents", async () => {
  const md = "# Guide\n\n## Basics\n\nLearn **the** basics.\n\n## Practice\n\nPractise [daily](http://x).";
  const { titles: found, structure } = await titles("guide.md", enc(md));
  assert.deepEqual(found, ["Basics", "Practice"]);
  assert.equal(structure.chapters[1].content, "Practise daily.");
});

Deno.test("Latin-1 text decodes; UTF-8 stays UTF-8", () => {
  assert.equal(decodeText(new Uint8Array([0x43, 0x61, 0x66, 0xe9])), "Café");
  assert.equal(decodeText(enc("Café")), "Café");
});

Deno.test("bad files are refused with a message a person can act on", async () => {
  // A chapter of 3 MiB (of spaces) against a limit of 1 MiB an entry.
  const bomb = zipSync({
    ...epubFiles([{ title: "One", paragraphs: ["A"] }]),
    "OEBPS/text/ch1.xhtml": strToU8(`<html><body>${" ".repeat(3 * 1024 * 1024)}</body></html>`),
  });
  const cases: [string, Uint8Array | Promise<Uint8Array>, RegExp, Partial<ExtractLimits>?][] = [
    ["empty.txt", new Uint8Array(), /the file is empty/],
    ["binary.txt", new Uint8Array(4096).map((_, i) => i % 7 === 0 ? 0 : i % 256), /looks binary/],
    ["broken.pdf", enc("%PDF-1.7\n1 0 obj <<"), /not a valid PDF/],
    ["locked.pdf", makePdf([["secret"]], { encrypt: true }), /encrypted with a password/],
    ["fake.epub", enc("this is not a zip"), /not a valid EPUB: the file is not a readable zip archive/],
    [
      "bomb.epub",
      bomb,
      /EPUB expands to more than 1 MiB when unzipped \(OEBPS\/text\/ch1.xhtml declares 3.0 MiB\)/,
      {
        maxEntryBytes: 1024 * 1024,
      },
    ],
    ["empty.docx", makeDocx([]), /DOCX file contains no text/],
    ["huge.txt", enc("a".repeat(2048)), /the file is 2 KiB; the limit is 1 KiB/, { maxFileBytes: 1024 }],
  ];
  for (const [name, bytes, message, limits] of cases) {
    await assert.rejects(
      extractBook(name, await bytes, limits),
      (error: Error) => error instanceof BookFormatError && message.test(error.message),
      name,
    );
  }
});

Deno.test("upload bombs: declared sizes are held to the limits and entries to their declared sizes; page and time limits hold; each with a clear message", async () => {
  // A DOCX whose zip declares 100 bytes for an entry that inflates to 64 MiB: stopped past 100 bytes.
  const bomb = (declared?: number) =>
    zipOf(docxFiles([]), {
      "word/document.xml": { ...deflatedBomb(DOCX_TEXT_OPENING, 64 * 1024 * 1024, "<!-- -->"), declared },
    });
  assert.ok(bomb(100).length < 1_000_000, `a small file (${bomb(100).length} bytes)`);
  await assert.rejects(
    extractBook("bomb.docx", bomb(100)),
    (e: Error) =>
      e instanceof BookFormatError &&
      /DOCX is damaged or a zip bomb: word\/document.xml inflates to more than the 100 bytes it declares/
        .test(e.message),
  );
  // Declared honestly, it is refused before it is inflated: alone, or with the parts read before it.
  await assert.rejects(
    extractBook("bomb.docx", bomb(), { maxEntryBytes: 8 * 1024 * 1024 }),
    /DOCX expands to more than 8 MiB when unzipped \(word\/document.xml declares 64.0 MiB\)/,
  );
  await assert.rejects(
    extractBook("bomb.docx", bomb(), { maxExpandedBytes: 6 * 1024 * 1024, maxEntryBytes: 100 * 1024 * 1024 }),
    /DOCX expands to more than 6 MiB when unzipped \(its parts together, on reaching word\/document.xml\)/,
  );

  // Many blank pages (pdf-lib, as other tools write them): refused by count before any page is read.
  await assert.rejects(
    extractBook("blank.pdf", await blankPdf(300), { maxPdfPages: 250 }),
    /the PDF has 300 pages; the limit is 250/,
  );

  // Reading that takes too long is stopped between pages.
  const pdf = await makePdf([["One."], ["Two."], ["Three."]]);
  await assert.rejects(
    extractBook("slow.pdf", pdf, { maxExtractMs: 0 }),
    /reading the PDF took longer than 0 s/,
  );
  assert.ok((await extractBook("slow.pdf", pdf)).text.includes("Three."), "within the limits it reads");
});

Deno.test("1,000 chapters are accepted; 1,001 are refused", async () => {
  const book = (n: number) =>
    Array.from({ length: n }, (_, i) => `Chapter ${i + 1}\n\nText of chapter ${i + 1}.`).join("\n\n");
  assert.equal((await titles("many.txt", enc(book(1000)))).titles.length, 1000);
  await assert.rejects(titles("many.txt", enc(book(1001))), /1001 chapters; at most 1000/);
});

Deno.test("text headings stand alone: cross-references and wrapped prose are not chapters; volumes are parts", async () => {
  const text = [
    "VOLUME I",
    "Chapter 1\n\nThe Harbour\n\nMara read about lamps, as described in\nChapter 7, Basics of the light, and slept.",
    "See chapter 2 for the rest of it.",
    "Chapter 2\n\nThe Tower\n\nTomas climbed the tower and the\nChapter 3 of his life began, he thought.",
    "VOLUME II",
    "Chapter 1\n\nThe Return\n\nThe boat came home at dawn.",
  ].join("\n\n");
  const { structure, titles: found } = await titles("volumes.txt", enc(text));
  assert.deepEqual(found, ["Chapter 1: The Harbour", "Chapter 2: The Tower", "Chapter 1: The Return"]);
  assert.deepEqual(structure.chapters.map((c) => c.partTitle), ["VOLUME I", "VOLUME I", "VOLUME II"]);
  assert.equal(structure.structureType, "mixed");
});

/** A book given as its outline: sections of `words` words each, placed in order. */
function outlined(sections: { title: string; depth: number; words?: number }[]) {
  let text = "";
  const outline = sections.map((s) => {
    if (text) text += "\n\n";
    const start = text.length;
    text += `${s.title}\n\n${prose(s.words ?? 0, start + 1)}`.trim();
    return { title: s.title, depth: s.depth, start };
  });
  return detectStructure({ format: "epub", text, outline, outlineSource: "epub_nav" });
}

Deno.test("outlines of novels: same-titled chapters stay apart; a prologue and epilogue stand beside parts", () => {
  const pov = outlined([
    { title: "Prologue", depth: 0, words: 300 },
    { title: "Bran", depth: 0, words: 400 },
    { title: "Catelyn", depth: 0, words: 400 },
    { title: "Bran", depth: 0, words: 400 },
    { title: "Jon", depth: 0, words: 400 },
  ]);
  assert.deepEqual(pov.chapters.map((c) => c.title), ["Prologue", "Bran", "Catelyn", "Bran", "Jon"]);

  const parts = outlined([
    { title: "Prologue", depth: 0, words: 200 },
    { title: "Part One", depth: 0 },
    { title: "Chapter 1", depth: 1, words: 300 },
    { title: "Chapter 2", depth: 1, words: 300 },
    { title: "Part Two", depth: 0 },
    { title: "Chapter 1", depth: 1, words: 300 },
    { title: "Chapter 2", depth: 1, words: 300 },
    { title: "Epilogue", depth: 0, words: 200 },
  ]);
  assert.deepEqual(
    parts.chapters.map((c) => [c.title, c.partTitle]),
    [["Prologue", null], ["Chapter 1", "Part One"], ["Chapter 2", "Part One"], ["Chapter 1", "Part Two"], [
      "Chapter 2",
      "Part Two",
    ], ["Epilogue", null]],
  );
  assert.equal(parts.structureType, "mixed");
  assert.deepEqual(parts.matter, [], "the prologue is a chapter, not a title page");
});

Deno.test("a contents link gives way to its heading only when its own section is a few words", () => {
  const book = outlined([
    { title: "1. The Harbour", depth: 0, words: 5 },
    { title: "2. The Tower", depth: 0, words: 5 },
    { title: "Chapter 1. The Harbour", depth: 0, words: 400 },
    { title: "Chapter 2. The Tower", depth: 0, words: 400 },
  ]);
  assert.deepEqual(book.chapters.map((c) => c.title), ["Chapter 1. The Harbour", "Chapter 2. The Tower"]);
});

Deno.test("a play's speaker names are not running headers", async () => {
  const scene = (n: number) =>
    `SCENE ${n}\n\nHAMLET\n\nWho is there, friend?\n\nHORATIO\n\nA friend to this ground.\n\nHAMLET\n\nWelcome, then.`;
  const text = ["ACT I", scene(1), "ACT II", scene(2), "ACT III", scene(3)].join("\n\n");
  const book = await extractBook("play.txt", enc(text));
  const structure = detectStructure(book);
  const all = structure.chapters.map((c) => c.content).join("\n");
  assert.equal((all.match(/^HAMLET$/gm) ?? []).length, 6, "every speaker line is kept");
});

Deno.test("a chapter longer than the limit becomes consecutive chapters cut at paragraphs", () => {
  const paragraphs = Array.from(
    { length: 30 },
    (_, i) => `Paragraph ${i + 1} ${"of the long chapter ".repeat(10).trim()}.`,
  );
  const text = `# The Long Chapter\n\n${paragraphs.join("\n\n")}`;
  const book = {
    format: "md" as const,
    text,
    outline: [{ title: "The Long Chapter", depth: 0, start: 0 }],
    outlineSource: "x",
  };
  const whole = detectStructure(book).chapters;
  assert.equal(whole.length, 1);
  const split = detectStructure(book, 2_000).chapters;
  assert.ok(split.length >= 3, `${split.length} chapters`);
  assert.deepEqual(
    split.map((c) => c.title),
    split.map((_, i) => `The Long Chapter (${i + 1}/${split.length})`),
  );
  for (const chapter of split) {
    assert.ok(chapter.content.length <= 2_000);
    assert.match(chapter.content, /^Paragraph \d+ of/, "each part starts at a paragraph");
  }
  assert.equal(split.map((c) => c.content).join("\n\n"), whole[0].content, "nothing lost or repeated");
});

Deno.test("the upload limit is one number: the books bucket (migration, config.toml) says what limits.ts says", async () => {
  const root = new URL("../../../", import.meta.url);
  const migration = await Deno.readTextFile(new URL("migrations/20251201000800_storage.sql", root));
  const bucket = migration.match(/\('books', 'books', false, (\d+),/)?.[1];
  assert.equal(Number(bucket), DEFAULT_LIMITS.maxFileBytes);
  const toml = await Deno.readTextFile(new URL("config.toml", root));
  const project = toml.match(/\[storage\][^[]*?file_size_limit = "(\d+)MiB"/)?.[1];
  assert.equal(Number(project) * 1024 * 1024, DEFAULT_LIMITS.maxFileBytes);
});
