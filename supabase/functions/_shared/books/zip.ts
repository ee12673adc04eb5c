/**
 * Reads chosen entries of an EPUB or DOCX (zip archives) under the limits: the number of entries,
 * each entry's declared size and the bytes it really inflates to, counted chunk by chunk as it
 * inflates (a "zip bomb" declares a few bytes and inflates to gigabytes), and the total inflated by
 * every pass over one archive. Entries are handed on in chunks; nothing is kept here.
 */
import { Unzip, UnzipInflate } from "fflate";
import { BookFormatError, type ExtractLimits, mib } from "./limits.ts";

/** Receives one entry's inflated bytes, chunk by chunk; `end` once it is complete. */
export interface EntrySink {
  data(chunk: Uint8Array): void;
  end(): void;
}

/** Archive slices this size inflate to at most about 1,000 times as much per push (deflate's limit). */
const SLICE_BYTES = 4 * 1024;

export class ZipArchive {
  private inflated = 0;

  constructor(
    private readonly bytes: Uint8Array,
    /** "EPUB" or "DOCX", for messages. */
    readonly kind: string,
    private readonly limits: Pick<ExtractLimits, "maxZipEntries" | "maxEntryBytes" | "maxExpandedBytes">,
  ) {}

  /**
   * One pass over the archive in its stored order: each entry that `open` gives a sink for is inflated
   * into it; the others are skipped without inflating. Returns the names of every entry.
   */
  read(open: (name: string) => EntrySink | null): string[] {
    const names: string[] = [];
    let failure: unknown = null;
    let unreadable = false;
    const refuse = (error: unknown) => {
      failure ??= error;
    };
    const unzip = new Unzip((file) => {
      if (failure !== null) return;
      names.push(file.name);
      if (names.length > this.limits.maxZipEntries) {
        return refuse(this.tooMany());
      }
      let sink: EntrySink | null;
      try {
        sink = open(file.name);
      } catch (error) {
        return refuse(error);
      }
      if (sink === null) return;
      if ((file.originalSize ?? 0) > this.limits.maxEntryBytes) {
        return refuse(this.tooLarge(file.name, file.originalSize!, "declares"));
      }
      let size = 0;
      file.ondata = (error, chunk, final) => {
        if (failure !== null) return;
        if (error) {
          unreadable = true;
          return refuse(this.damaged(file.name));
        }
        size += chunk.length;
        this.inflated += chunk.length;
        if (size > this.limits.maxEntryBytes || this.inflated > this.limits.maxExpandedBytes) {
          file.terminate();
          return refuse(this.tooLarge(file.name, size, "inflates"));
        }
        try {
          if (chunk.length > 0) sink.data(chunk);
          if (final) sink.end();
        } catch (sinkError) {
          file.terminate();
          refuse(sinkError);
        }
      };
      try {
        file.start();
      } catch {
        refuse(
          new BookFormatError(
            `the ${this.kind} stores ${file.name} with a compression method we cannot read; ` +
              "save it again from the program that made it (which uses the usual one), or upload a PDF",
          ),
        );
      }
    });
    unzip.register(UnzipInflate);
    try {
      for (let at = 0; at < this.bytes.length && failure === null; at += SLICE_BYTES) {
        unzip.push(this.bytes.subarray(at, at + SLICE_BYTES), at + SLICE_BYTES >= this.bytes.length);
      }
    } catch {
      unreadable = true;
    }
    if (failure !== null) throw failure;
    if (unreadable || names.length === 0) {
      throw new BookFormatError(
        `not a valid ${this.kind}: the file is not a readable zip archive; ` +
          "save it again from the program that made it, or upload a PDF",
      );
    }
    return names;
  }

  private tooMany(): BookFormatError {
    return new BookFormatError(
      `the ${this.kind} holds more than ${this.limits.maxZipEntries.toLocaleString("en")} files, far more ` +
        "than a book needs; remove what is not the book (or upload it as PDF or plain text)",
    );
  }

  private tooLarge(name: string, size: number, how: "declares" | "inflates"): BookFormatError {
    const entryTooLarge = size > this.limits.maxEntryBytes;
    const limit = entryTooLarge ? this.limits.maxEntryBytes : this.limits.maxExpandedBytes;
    const detail = how === "declares"
      ? `${name} declares ${mib(size)}`
      : entryTooLarge
      ? `${name} alone`
      : `its parts together, on reaching ${name}`;
    return new BookFormatError(
      `the ${this.kind} expands to more than ${mib(limit)} when unzipped (${detail}), far more than a ` +
        "book's text needs: it may be a zip bomb or hold something other than the book; upload the book " +
        "itself, or as PDF or plain text",
    );
  }

  private damaged(name: string): BookFormatError {
    return new BookFormatError(
      `the ${this.kind} is damaged: ${name} cannot be unzipped; ` +
        "save it again from the program that made it and upload the new copy, or upload a PDF",
    );
  }
}
