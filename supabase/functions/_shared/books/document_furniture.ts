/**
 * Furniture of a book made of documents (an EPUB's spine): what a generator sets at the top or bottom
 * of every document, such as a site header, a "« previous :: Contents :: next »" bar or a footer. It is
 * found by where it stands and that it stands there document after document, whatever it says: lines
 * among a document's first or last few whose text, with the book's titles masked, recurs at that end
 * of most documents. A line that is one title alone (a document's own heading) is never furniture.
 */

/** Lines at each end of a document where furniture may stand. */
const END_LINES = 10;
/** Furniture recurs at its end of this share of the documents that have text, and of at least four. */
const RECURS_IN = 0.6;
const MIN_DOCUMENTS = 4;

const MASK = "#";

/**
 * Each document's pieces (a document is cut where the table of contents points into it) without its
 * furniture; pieces keep their places, so an entry that starts a piece still starts it. `titles[d]`
 * are the titles of the entries in document d: a line may name another document (a bar's previous and
 * next), but a line naming its own document in fixed words ("End of Chapter 3") is its own.
 */
export function withoutDocumentFurniture(documents: string[][], titles: string[][]): string[][] {
  const withText = documents.filter((pieces) => pieces.some((p) => p.trim() !== "")).length;
  if (withText < MIN_DOCUMENTS) return documents;
  const mask = titleMask(titles.flat());
  const ends = documents.map((pieces, d) => {
    const own = new Set(titles[d]?.map(titleKey));
    // Only the lines at the ends are read and masked: the rest of a long book is never split or compared.
    const keyed = (end: EndLine[]) =>
      end.map(({ p, l, line }) => ({ p, l, text: plain(line), key: mask(line, own) }));
    return { top: keyed(firstLines(pieces, END_LINES)), bottom: keyed(lastLines(pieces, END_LINES)) };
  });
  const furniture = (band: "top" | "bottom") => {
    const documentsWith = new Map<string, number>();
    for (const end of ends) {
      for (const key of new Set(end[band].map((line) => line.key))) {
        documentsWith.set(key, (documentsWith.get(key) ?? 0) + 1);
      }
    }
    const needed = Math.max(MIN_DOCUMENTS, withText * RECURS_IN);
    const keys = new Set(
      [...documentsWith].filter(([key, n]) => n >= needed && key !== MASK).map(([key]) => key),
    );
    // The same words where they name a document's own title (the bar on the title's own page).
    const texts = new Set(
      ends.flatMap((end) => end[band].filter((line) => keys.has(line.key)).map((l) => l.text)),
    );
    return (line: { key: string; text: string }) => keys.has(line.key) || texts.has(line.text);
  };
  const isFurniture = { top: furniture("top"), bottom: furniture("bottom") };
  return documents.map((pieces, d) => {
    const drop = new Set<string>();
    for (const band of ["top", "bottom"] as const) {
      for (const line of ends[d][band]) if (isFurniture[band](line)) drop.add(`${line.p}|${line.l}`);
    }
    if (drop.size === 0) return pieces;
    return pieces.map((piece, p) =>
      piece.split("\n").filter((_, l) => !drop.has(`${p}|${l}`)).join("\n").replace(/\n{3,}/g, "\n\n")
    );
  });
}

interface EndLine {
  /** The piece and the line's index in it. */
  p: number;
  l: number;
  line: string;
}

/** The first `n` lines with text of a document's pieces, in order. */
function firstLines(pieces: string[], n: number): EndLine[] {
  const found: EndLine[] = [];
  for (let p = 0; p < pieces.length && found.length < n; p++) {
    const piece = pieces[p];
    for (let from = 0, l = 0; found.length < n; l++) {
      const end = piece.indexOf("\n", from);
      const line = piece.slice(from, end < 0 ? piece.length : end);
      if (line.trim() !== "") found.push({ p, l, line });
      if (end < 0) break;
      from = end + 1;
    }
  }
  return found;
}

/** The last `n` lines with text of a document's pieces, in order. */
function lastLines(pieces: string[], n: number): EndLine[] {
  const found: EndLine[] = [];
  for (let p = pieces.length - 1; p >= 0 && found.length < n; p--) {
    const piece = pieces[p];
    let l = 0;
    for (let at = piece.indexOf("\n"); at >= 0; at = piece.indexOf("\n", at + 1)) l++;
    for (let to = piece.length; found.length < n; l--) {
      const start = to > 0 ? piece.lastIndexOf("\n", to - 1) + 1 : 0;
      const line = piece.slice(start, to);
      if (line.trim() !== "") found.push({ p, l, line });
      if (start === 0) break;
      to = start - 1;
    }
  }
  return found.reverse();
}

/** Spacing and quotes made plain, so a title matches however a line sets it. */
function plain(text: string): string {
  return text.replace(/[\u00a0\s]+/g, " ").replace(/[‘’]/g, "'").replace(/[“”]/g, '"').trim();
}

function titleKey(title: string): string {
  return plain(title).toLowerCase().replace(/^\d+(?:\.\d+)*\.?\s*/, "");
}

/** A line with the book's titles (numbered or not, "1.2. Title") but its own replaced by a mark. */
function titleMask(titles: string[]): (line: string, own: Set<string>) => string {
  const escaped = [...new Set(titles.map(plain).filter((t) => t.length >= 2))]
    .sort((a, b) => b.length - a.length)
    .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (escaped.length === 0) return plain;
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{N}])(?:\\d+(?:\\.\\d+)*\\.?\\s*)?(?:${escaped.join("|")})(?![\\p{L}\\p{N}])`,
    "giu",
  );
  return (line, own) => plain(line).replace(pattern, (title) => own.has(titleKey(title)) ? title : MASK);
}
