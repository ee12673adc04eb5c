/**
 * A PDF's pages as positioned lines, and what their positions tell: page furniture (running heads,
 * page numbers) found by where it stands and that it stands there page after page, whatever it says;
 * where an outline entry's heading is on its page (the destination's y, and x for a column); and, in a
 * file without an outline, headings by their type size.
 */

/** A line of a page: its text, baseline (y, from the bottom), left edge and largest type size. */
export interface PdfLine {
  text: string;
  y: number;
  x: number;
  size: number;
}

export interface PdfPage {
  lines: PdfLine[];
  height: number;
}

interface TextItem {
  str?: string;
  hasEOL?: boolean;
  transform?: number[];
}

/** Text items in content order as lines: a new line where the baseline moves or an item ends one. */
export function pageLines(items: TextItem[]): PdfLine[] {
  const lines: PdfLine[] = [];
  let current: PdfLine | null = null;
  const end = () => {
    if (current && current.text.trim() !== "") lines.push({ ...current, text: current.text.trim() });
    current = null;
  };
  for (const item of items) {
    if (item.str === undefined) continue;
    const [a = 0, b = 0, c = 0, d = 0, x = 0, y = 0] = item.transform ?? [];
    if (current !== null && Math.abs(y - (current as PdfLine).y) > 1) end();
    const size = Math.max(Math.hypot(a, b), Math.hypot(c, d));
    if (current === null) current = { text: "", y, x, size: 0 };
    const line = current as PdfLine;
    line.text += item.str;
    if (item.str.trim() !== "") line.size = Math.max(line.size, size);
    if (item.hasEOL) end();
  }
  end();
  return lines;
}

const NUMBER_TOKEN = /\d+|\b[ivxlc]{1,7}\b/gi;
const masked = (text: string) => text.replace(NUMBER_TOKEN, "#").replace(/\s+/g, " ").trim();
const wordsIn = (text: string) => text.split(/\s+/).filter(Boolean).length;

/** Lines at the top or bottom of the page: the outermost two on each side, by height on the page. */
function outerLines(page: PdfPage): { line: PdfLine; band: "top" | "bottom" }[] {
  const byHeight = [...page.lines].sort((p, q) => q.y - p.y);
  const rows = [...new Set(byHeight.map((l) => Math.round(l.y)))];
  const top = new Set(rows.slice(0, 2));
  const bottom = new Set(rows.slice(-2));
  return byHeight.flatMap((line): { line: PdfLine; band: "top" | "bottom" }[] => {
    const row = Math.round(line.y);
    if (top.has(row) && line.y > page.height * 0.8) return [{ line, band: "top" as const }];
    if (bottom.has(row) && line.y < page.height * 0.2) return [{ line, band: "bottom" as const }];
    return [];
  });
}

/**
 * Page furniture: lines in a page's top or bottom band at a height where, on at least three pages and
 * a quarter of them, such a line stands again, and whose texts (numbers masked) repeat there rather
 * than run on like body text (a running head by chapter recurs on its chapter's pages; a page number
 * is "#"), on runs of pages (a heading that opens each chapter at the same height stands on pages
 * apart). Every line at such a height is furniture, whatever it says.
 */
export function removePageFurniture(pages: PdfPage[]): PdfPage[] {
  if (pages.length < 6) return pages;
  const slots = new Map<string, { pages: Set<number>; texts: string[] }>();
  const slotOf = (band: string, y: number) => `${band}|${Math.round(y / 2)}`;
  pages.forEach((page, index) => {
    for (const { line, band } of outerLines(page)) {
      const key = slotOf(band, line.y);
      const slot = slots.get(key) ?? { pages: new Set(), texts: [] };
      slot.pages.add(index);
      slot.texts.push(masked(line.text));
      slots.set(key, slot);
    }
  });
  const furniture = new Set<string>();
  for (const [key, slot] of slots) {
    const n = slot.pages.size;
    if (n < 3 || n < pages.length * 0.25) continue;
    const distinct = new Set(slot.texts).size;
    const inRuns = [...slot.pages].filter((p) => slot.pages.has(p - 1) || slot.pages.has(p + 1)).length;
    if (inRuns < n * 0.5) continue;
    const short = slot.texts.filter((t) => wordsIn(t) <= 12).length >= slot.texts.length * 0.9;
    if (short && distinct <= Math.max(2, slot.texts.length * 0.75)) furniture.add(key);
  }
  if (furniture.size === 0) return pages;
  return pages.map((page) => {
    const outer = new Set(
      outerLines(page).filter(({ line, band }) =>
        furniture.has(slotOf(band, line.y)) || furniture.has(slotOf(band, line.y + 2)) ||
        furniture.has(slotOf(band, line.y - 2))
      ).map(({ line }) => line),
    );
    return { ...page, lines: page.lines.filter((line) => !outer.has(line)) };
  });
}

/** Letters and digits of a title, for finding it on a page whatever its spacing and numbering. */
export function titleKey(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
}

const NUMBERING =
  /^\s*(?:(?:chapter|appendix|part|volume|book)\s+)?(?:\d+(?:\.\d+)*|[ivxlc]+|[a-z])\b[.:]?\s*/i;

/** Whether a title starts at line `i` (numbered or not, over up to three lines). */
function titleAt(lines: string[], i: number, title: string): boolean {
  const key = titleKey(title);
  const bare = titleKey(title.replace(NUMBERING, ""));
  if (key === "") return false;
  const rest = titleKey(lines[i + 1] ?? "") + titleKey(lines[i + 2] ?? "");
  const whole = titleKey(lines[i]) + rest;
  const unnumbered = titleKey(lines[i].replace(NUMBERING, "")) + rest;
  if (titleKey(lines[i]) === "") return false;
  return whole.startsWith(key) || (bare.length >= 3 && unnumbered.startsWith(bare)) ||
    (bare.length >= 3 && whole.startsWith(bare));
}

/**
 * The line of a page where an outline entry's heading stands: at or below the destination's top
 * (and right of its left edge, for a column), the first line that holds the title, else the first
 * line there; without a position, the first line that holds the title; else the page's first line.
 */
export function headingLine(
  lines: PdfLine[],
  title: string,
  at: { top: number | null; left: number | null },
): number {
  const texts = lines.map((l) => l.text);
  if (at.top !== null) {
    const below = lines.map((line, i) => ({ line, i })).filter(({ line }) =>
      line.y <= at.top! + line.size * 0.5 && (at.left === null || line.x >= at.left - line.size)
    );
    const named = below.find(({ i }) => titleAt(texts, i, title));
    if (named) return named.i;
    // The heading is the line nearest below the destination.
    const nearest = below.sort((p, q) => q.line.y - p.line.y || p.i - q.i)[0];
    if (nearest) return nearest.i;
  }
  const named = texts.findIndex((_, i) => titleAt(texts, i, title));
  return named >= 0 ? named : 0;
}

/** A destination's position on its page: XYZ gives left and top, FitH and FitBH a top. */
export function destinationPosition(explicit: unknown[]): { top: number | null; left: number | null } {
  const kind = (explicit[1] as { name?: string } | undefined)?.name;
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v : null;
  if (kind === "XYZ") return { left: num(explicit[2]), top: num(explicit[3]) };
  if (kind === "FitH" || kind === "FitBH") return { left: null, top: num(explicit[2]) };
  return { left: null, top: null };
}

/**
 * Headings by type size, for a PDF without an outline: short lines set larger than the body text
 * (the size most characters have), each size a level, larger first.
 */
export function typographicHeadings(
  pages: PdfPage[],
): { page: number; line: number; depth: number; title: string }[] {
  const chars = new Map<number, number>();
  for (const page of pages) {
    for (const line of page.lines) {
      const size = Math.round(line.size * 2) / 2;
      chars.set(size, (chars.get(size) ?? 0) + line.text.length);
    }
  }
  const body = [...chars].sort((p, q) => q[1] - p[1])[0]?.[0] ?? 0;
  const found: { page: number; line: number; size: number; title: string }[] = [];
  pages.forEach((page, p) => {
    page.lines.forEach((line, l) => {
      const size = Math.round(line.size * 2) / 2;
      if (size >= body * 1.15 && wordsIn(line.text) <= 14 && /\p{L}/u.test(line.text)) {
        const previous = found.at(-1);
        // A heading set on two lines is one.
        if (previous && previous.page === p && previous.line === l - 1 && previous.size === size) {
          previous.title += ` ${line.text}`;
          return;
        }
        found.push({ page: p, line: l, size, title: line.text });
      }
    });
  });
  const sizes = [...new Set(found.map((f) => f.size))].sort((p, q) => q - p);
  return found.map((f) => ({ page: f.page, line: f.line, depth: sizes.indexOf(f.size), title: f.title }));
}

/**
 * The pages as text (a line a line, a word broken by a hyphen at a line's end joined again), with
 * `strip` taking out what it finds to be running lines; `lineStart[p][l]` is where line l of page p
 * (or, if it was taken out, the next line kept) starts in page p's text.
 */
export function pagesText(
  pages: PdfPage[],
  strip: (pages: string[]) => string[],
): { pages: string[]; lineStart: number[][] } {
  const stripped = strip(pages.map((page) => page.lines.map((l) => l.text).join("\n")));
  const texts: string[] = [];
  const lineStart: number[][] = [];
  pages.forEach((page, p) => {
    const kept = stripped[p].split("\n");
    let k = 0;
    let text = "";
    const starts: number[] = [];
    const pending: number[] = []; // lines taken out, waiting for the next kept line's offset
    for (let l = 0; l < page.lines.length; l++) {
      if (k < kept.length && kept[k] === page.lines[l].text) {
        const line = kept[k++];
        if (text !== "" && /\p{Ll}-$/u.test(text) && /^\p{Ll}/u.test(line)) text = text.slice(0, -1);
        else if (text !== "") text += "\n";
        for (const waiting of pending.splice(0)) starts[waiting] = text.length;
        starts[l] = text.length;
        text += line;
      } else pending.push(l);
    }
    for (const waiting of pending) starts[waiting] = text.length;
    texts.push(text);
    lineStart.push(starts);
  });
  return { pages: texts, lineStart };
}

/** A line of a book's pages: its page and its index on the page, with the title it gives. */
export interface PageHeading {
  page: number;
  line: number;
  title: string;
}

/** "Chapter 3", "CHAPTER IV.", "Appendix B": a chapter's number alone, its title on the next line. */
const NUMBERED_ALONE = /^(?:chapter|appendix)\s+(?:\d{1,3}|[ivxlc]{1,7}|[a-z])\.?$/i;
/** "Chapter 3: The Root Filesystem", set larger than the body text. */
const NUMBERED_TITLED = /^(?:chapter|appendix)\s+(?:\d{1,3}|[ivxlc]{1,7}|[a-z])\b[.:]?\s+(.+)$/i;
/** "[Introduction]Introduction": a LaTeX short title printed before its title (an unknown command). */
const SHORT_TITLE_PRINTED = /^\[(.+)\]\s*(.+)$/;

/** The size most characters are set in. */
function bodySize(pages: PdfPage[]): number {
  const chars = new Map<number, number>();
  for (const page of pages) {
    for (const line of page.lines) {
      const size = Math.round(line.size * 2) / 2;
      chars.set(size, (chars.get(size) ?? 0) + line.text.length);
    }
  }
  return [...chars].sort((p, q) => q[1] - p[1])[0]?.[0] ?? 0;
}

/**
 * Headings of a level the outline leaves out (its entries are the book's sections; its chapters stand
 * only on the pages). Three kinds: lines called "Chapter N" or "Appendix A" alone (the title on the
 * next line) or set larger than the body; lines printing a LaTeX short title in brackets before the
 * title; lines of one type size larger than every outline entry's heading. A heading whose title an
 * outline entry on its page has is the outline's own. Of one kind, each heading must hold outline
 * entries (some stand between it and the next) and there must be at least two, else there is no such
 * level; the kind with the most such headings gives it.
 */
export function headingsAboveOutline(pages: PdfPage[], outline: PageHeading[]): PageHeading[] {
  if (outline.length === 0) return [];
  const body = bodySize(pages);
  const outlineSize = Math.max(...outline.map((e) => pages[e.page]?.lines[e.line]?.size ?? 0));
  const bare = (title: string) => titleKey(title.replace(NUMBERING, ""));
  const listed = (page: number, title: string) =>
    outline.some((e) =>
      e.page === page && (bare(e.title) === bare(title) || titleKey(e.title) === titleKey(title))
    );
  const found: (PageHeading & { kind: string })[] = [];
  pages.forEach((page, p) => {
    page.lines.forEach((line, l) => {
      const text = line.text.trim();
      const larger = line.size >= body * 1.15;
      const printed = text.match(SHORT_TITLE_PRINTED);
      let heading: { title: string; kind: string } | null = null;
      if (printed && titleKey(printed[1]) !== "" && titleKey(printed[1]) === titleKey(printed[2])) {
        heading = { title: printed[2].trim(), kind: "short title" };
      } else if (NUMBERED_ALONE.test(text)) {
        const next = page.lines[l + 1]?.text.trim() ?? "";
        const titled = next !== "" && wordsIn(next) <= 12 && !/[.,;:]$/.test(next);
        heading = { title: titled ? `${text.replace(/\.$/, "")}: ${next}` : text, kind: "numbered" };
      } else if (larger && wordsIn(text) <= 14 && NUMBERED_TITLED.test(text)) {
        heading = { title: text, kind: "numbered" };
      } else if (
        line.size > outlineSize + 0.5 && larger && wordsIn(text) <= 14 &&
        (text.match(/\p{L}/gu) ?? []).length >= 3
      ) {
        const kind = `size ${Math.round(line.size * 2) / 2}`;
        // A heading set on two lines is one.
        const previous = found.at(-1);
        if (previous && previous.page === p && previous.line === l - 1 && previous.kind === kind) {
          previous.title += ` ${text}`;
          return;
        }
        heading = { title: text, kind };
      }
      if (heading && !listed(p, heading.title) && !listed(p, text)) {
        found.push({ page: p, line: l, ...heading });
      }
    });
  });
  const order = (h: { page: number; line: number }) => h.page * 1_000_000 + h.line;
  let best: PageHeading[] = [];
  for (const kind of new Set(found.map((h) => h.kind))) {
    const ofKind = found.filter((h) => h.kind === kind);
    const holding = ofKind.filter((h, k) =>
      outline.some((e) => order(e) > order(h) && (k + 1 === ofKind.length || order(e) < order(ofKind[k + 1])))
    );
    if (holding.length >= 2 && holding.length > best.length) {
      best = holding.map(({ page, line, title }) => ({ page, line, title }));
    }
  }
  return best;
}
