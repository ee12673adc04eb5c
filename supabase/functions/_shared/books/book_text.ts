/**
 * A book's text written as it is read (markup parsers hand it on in pieces), counted against the
 * limits as it grows so that no reader holds more than a book's worth of text, and normalised on the
 * way: each line's spaces collapsed and trimmed, at most one blank line in a row, pieces (the
 * sections an outline points at) separated by a blank line.
 */
import { BookFormatError, type ExtractLimits } from "./limits.ts";

type TextLimits = Pick<ExtractLimits, "maxTextChars" | "maxTextLines">;

/** Characters and lines written so far, shared by every part of one book. */
export class TextBudget {
  chars = 0;
  lines = 0;

  constructor(readonly limits: TextLimits) {}

  add(chars: number, lines: number) {
    this.chars += chars;
    this.lines += lines;
    this.check(0);
  }

  /** Refuses the book once its text (plus `pending` characters not yet written) passes the limits. */
  check(pending: number) {
    if (this.chars + pending > this.limits.maxTextChars) throw tooMuchText(this.limits);
    if (this.lines > this.limits.maxTextLines) {
      throw new BookFormatError(
        `the book's text has more than ${this.limits.maxTextLines.toLocaleString("en")} lines, more than ` +
          "any book we read; split it into volumes and upload each",
      );
    }
  }
}

export function tooMuchText(limits: Pick<ExtractLimits, "maxTextChars">): BookFormatError {
  const words = Math.round(limits.maxTextChars / 6 / 100_000) / 10;
  return new BookFormatError(
    `the book's text is longer than ${limits.maxTextChars.toLocaleString("en")} characters (about ` +
      `${words} million words), more than we read as one book; split it into volumes and upload each`,
  );
}

/** Joined parts are folded into one string every so many, so a text of tiny lines stays compact. */
const PARTS_PER_BLOCK = 1024;

export class BookText {
  private readonly blocks: string[] = [];
  private parts: string[] = [];
  private written = 0;
  private line: string[] = [];
  private lineChars = 0;
  private pieceHasText = false;
  private blankPending = false;
  /** Where each piece starts; -1 until its first line is written. */
  private readonly starts: number[] = [];
  private unresolved: number[] = [];

  constructor(readonly budget: TextBudget) {}

  get length(): number {
    return this.written;
  }

  /** Starts a piece; returns its number, for `startOf`. */
  startPiece(): number {
    this.endLine();
    this.resolve(this.written); // the previous piece had no text: it starts (and ends) here
    this.pieceHasText = false;
    this.blankPending = false;
    this.starts.push(-1);
    this.unresolved.push(this.starts.length - 1);
    return this.starts.length - 1;
  }

  /** Writes text; "\n" ends a line. */
  write(text: string) {
    let from = 0;
    for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", from)) {
      this.addToLine(text.slice(from, at));
      this.endLine();
      from = at + 1;
    }
    this.addToLine(from === 0 ? text : text.slice(from));
  }

  /** Ends the line being written and leaves a blank line (a paragraph's end). */
  paragraph() {
    this.endLine();
    if (this.pieceHasText) this.blankPending = true;
  }

  /** The whole text; the pieces' starts are final from here on. */
  text(): string {
    this.endLine();
    this.resolve(this.written);
    if (this.parts.length > 0) this.blocks.push(this.parts.join(""));
    this.parts = [];
    const text = this.blocks.join("");
    this.blocks.length = 0;
    if (text !== "") this.blocks.push(text);
    return text;
  }

  startOf(piece: number): number {
    return this.starts[piece];
  }

  private addToLine(text: string) {
    if (text === "") return;
    this.lineChars += text.length;
    this.budget.check(this.lineChars);
    this.line.push(text);
  }

  private endLine() {
    if (this.line.length === 0) {
      if (this.pieceHasText) this.blankPending = true;
      return;
    }
    const line = (this.line.length === 1 ? this.line[0] : this.line.join("")).replace(/[ \t]+/g, " ").trim();
    this.line = [];
    this.lineChars = 0;
    if (line === "") {
      if (this.pieceHasText) this.blankPending = true;
      return;
    }
    let separator: string;
    if (!this.pieceHasText) {
      separator = this.written > 0 ? "\n\n" : "";
      this.resolve(this.written + separator.length);
      this.pieceHasText = true;
    } else {
      separator = this.blankPending ? "\n\n" : "\n";
    }
    this.blankPending = false;
    this.append(separator, separator.length);
    this.append(line, 0);
  }

  private append(text: string, newlines: number) {
    if (text === "") return;
    this.parts.push(text);
    this.written += text.length;
    this.budget.add(text.length, newlines);
    if (this.parts.length >= PARTS_PER_BLOCK) {
      this.blocks.push(this.parts.join(""));
      this.parts = [];
    }
  }

  private resolve(at: number) {
    for (const piece of this.unresolved) this.starts[piece] = at;
    this.unresolved = [];
  }
}

/**
 * Counts the elements of a book's markup, how deeply they nest and how long a stretch without
 * markup runs (what a parser holds as one string), and refuses past the limits.
 */
export class MarkupBudget {
  private elements = 0;

  constructor(
    private readonly kind: string,
    private readonly limits: Pick<ExtractLimits, "maxXmlDepth" | "maxXmlElements" | "maxTextChars">,
  ) {}

  /** An element opens in `part` at `depth` (1 for the outermost). */
  open(part: string, depth: number) {
    if (++this.elements > this.limits.maxXmlElements) {
      throw new BookFormatError(
        `the ${this.kind} has more than ${this.limits.maxXmlElements.toLocaleString("en")} elements of ` +
          "markup, far more than a book needs; save it again from the program that made it, or upload a PDF",
      );
    }
    if (depth > this.limits.maxXmlDepth) {
      throw new BookFormatError(
        `the ${this.kind} nests elements more than ${this.limits.maxXmlDepth} levels deep in ${part}, ` +
          "which no book needs: it may be damaged or made to harm readers; save it again from the program " +
          "that made it, or upload a PDF",
      );
    }
  }

  /** Returns a counter of the characters since the last "<" of a part, to feed each decoded chunk. */
  runs(part: string): (chunk: string) => void {
    let run = 0;
    return (chunk) => {
      const lastTag = chunk.lastIndexOf("<");
      run = lastTag < 0 ? run + chunk.length : chunk.length - lastTag - 1;
      if (run > this.limits.maxTextChars) {
        throw new BookFormatError(
          `the ${this.kind} holds a stretch of more than ${this.limits.maxTextChars.toLocaleString("en")} ` +
            `characters without markup in ${part}, longer than a whole book may be: it may be damaged or made ` +
            "to harm readers; save it again from the program that made it, or upload a PDF",
        );
      }
    };
  }
}
