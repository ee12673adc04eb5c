/**
 * DOCX: the paragraphs of word/document.xml in order, headings (paragraph styles named or identified
 * as Heading 1 to 6, as Word, LibreOffice and pandoc write them) as the outline. The XML is parsed as
 * it inflates by a strict streaming parser, so memory holds one paragraph at a time, never the XML or
 * a tree of it; a part that is not well-formed XML is refused as damaged.
 */
import { SaxesParser, type SaxesTagPlain } from "saxes";
import { BookText, MarkupBudget, TextBudget } from "./book_text.ts";
import { BookFormatError, type ExtractLimits } from "./limits.ts";
import { type ArchiveSource, type EntrySink, ZipArchive } from "./zip.ts";

export interface DocxText {
  text: string;
  headings: { title: string; level: number; start: number }[];
}

const DOCUMENT = "word/document.xml";
const STYLES = "word/styles.xml";

/** Elements whose text is not the document's: deleted runs, and Word's choice beside its fallback. */
const SKIPPED = new Set(["w:del", "mc:Choice"]);
/** Elements that stand for a character in a run. */
const CHARACTERS: Record<string, string> = {
  "w:tab": "\t",
  "w:noBreakHyphen": "\u2011",
  "w:softHyphen": "\u00ad",
};

export async function readDocx(source: ArchiveSource, limits: ExtractLimits): Promise<DocxText> {
  const zip = new ZipArchive(source, "DOCX", limits);
  const markup = new MarkupBudget("DOCX", limits);

  // First the heading styles: styles.xml may come before or after the document in the archive.
  const styles = new Map<string, string>(); // style id -> name, paragraph styles
  let style: { id: string; name: string } | null = null;
  const names = await zip.read((name) =>
    name !== STYLES ? null : xmlSink(STYLES, markup, {
      open(tag) {
        if (tag.name === "w:style" && tag.attributes["w:type"] === "paragraph") {
          style = { id: tag.attributes["w:styleId"] ?? "", name: "" };
        } else if (tag.name === "w:name" && style) style.name = tag.attributes["w:val"] ?? "";
      },
      close(name) {
        if (name === "w:style" && style) {
          styles.set(style.id, style.name);
          style = null;
        }
      },
    })
  );
  if (!names.includes(DOCUMENT)) throw new BookFormatError(`not a valid DOCX: ${DOCUMENT} is missing`);
  const levelOf = (styleId: string | null): number | null => {
    if (styleId === null) return null;
    const byId = styleId.match(/^Heading([1-6])?$/);
    if (byId) return Number(byId[1] ?? 1);
    const byName = (styles.get(styleId) ?? "").match(/^heading(?: ([1-6]))?$/i);
    return byName ? Number(byName[1] ?? 1) : null;
  };

  const out = new BookText(new TextBudget(limits));
  const headings: { title: string; level: number; piece: number }[] = [];
  // Paragraphs nest (a text box's paragraphs inside a run): one open paragraph per level.
  const paragraphs: { runs: string[]; chars: number; style: string | null }[] = [];
  let inText = 0;
  let skipping = 0;
  const keep = (text: string) => {
    const paragraph = paragraphs.at(-1);
    if (!paragraph || skipping > 0) return;
    paragraph.runs.push(text);
    paragraph.chars += text.length;
    out.budget.check(paragraph.chars);
  };
  await zip.read((name) =>
    name !== DOCUMENT ? null : xmlSink(DOCUMENT, markup, {
      open(tag) {
        if (SKIPPED.has(tag.name) || skipping > 0) skipping++;
        else if (tag.name === "w:p") paragraphs.push({ runs: [], chars: 0, style: null });
        else if (tag.name === "w:t") inText++;
        else if (tag.name === "w:pStyle" && paragraphs.length > 0) {
          paragraphs.at(-1)!.style = tag.attributes["w:val"] ?? null;
        } else if (tag.name === "w:br") {
          const type = tag.attributes["w:type"];
          if (type === undefined || type === "textWrapping") keep("\n");
        } else if (CHARACTERS[tag.name]) keep(CHARACTERS[tag.name]);
      },
      text(text) {
        if (inText > 0) keep(text);
      },
      close(name) {
        if (skipping > 0) skipping--;
        else if (name === "w:t") inText--;
        else if (name === "w:p") {
          const paragraph = paragraphs.pop()!;
          const text = paragraph.runs.join("");
          const level = levelOf(paragraph.style);
          const title = level === null ? "" : text.split("\n").map((l) => l.replace(/[ \t]+/g, " ").trim())
            .filter(Boolean).join("\n");
          if (level !== null && title !== "") headings.push({ title, level, piece: out.startPiece() });
          out.write(text);
          out.paragraph();
        }
      },
    })
  );
  const text = out.text();
  return {
    text,
    headings: headings.map((h) => ({ title: h.title, level: h.level, start: out.startOf(h.piece) })),
  };
}

interface XmlHandlers {
  open(tag: SaxesTagPlain): void;
  text?(text: string): void;
  close(name: string): void;
}

/** A sink that parses an entry's XML as it inflates, counting its elements and their nesting. */
function xmlSink(part: string, markup: MarkupBudget, handlers: XmlHandlers): EntrySink {
  const parser = new SaxesParser();
  const decoder = new TextDecoder();
  const run = markup.runs(part);
  let depth = 0;
  parser.on("error", () => {
    throw new BookFormatError(
      `the DOCX is damaged: ${part} is not well-formed XML; open it in Word or LibreOffice, save it ` +
        "again and upload the new copy, or upload a PDF",
    );
  });
  parser.on("opentag", (tag) => {
    markup.open(part, ++depth);
    handlers.open(tag);
  });
  parser.on("closetag", (tag) => {
    depth--;
    handlers.close(tag.name);
  });
  if (handlers.text) parser.on("text", handlers.text);
  return {
    data(chunk) {
      const text = decoder.decode(chunk, { stream: true });
      run(text);
      parser.write(text);
    },
    end() {
      const text = decoder.decode();
      run(text);
      parser.write(text);
      parser.close();
    },
  };
}
