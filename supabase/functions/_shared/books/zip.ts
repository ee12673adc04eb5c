/**
 * Reads chosen entries of an EPUB or DOCX (zip archives) under the limits, from a file or from
 * memory, with yauzl: the central directory gives the number of entries and each entry's declared
 * size before anything is inflated; only the entries a book needs are read (a book's pictures never
 * are), each one's declared size is held to the limits, and it may not inflate past what it declares
 * (a "zip bomb" declares a few bytes and inflates to gigabytes). Entries are handed on in chunks as
 * they inflate; nothing is kept here, and an archive in a file is never in memory as a whole.
 */
import { Buffer } from "node:buffer";
import type { Readable } from "node:stream";
// @ts-types="@types/yauzl"
import yauzl from "yauzl";
import { BookFormatError, type ExtractLimits, mib } from "./limits.ts";

/** Receives one entry's inflated bytes, chunk by chunk; `end` once it is complete. */
export interface EntrySink {
  data(chunk: Uint8Array): void;
  end(): void;
}

/** An archive in memory, or in a file (read where its entries are, pass after pass). */
export type ArchiveSource = Uint8Array | { file: string };

type ZipLimits = Pick<ExtractLimits, "maxZipEntries" | "maxEntryBytes" | "maxExpandedBytes">;

const OPTIONS = { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true };

export class ZipArchive {
  private inflated = 0;

  constructor(
    private readonly source: ArchiveSource,
    /** "EPUB" or "DOCX", for messages. */
    readonly kind: string,
    private readonly limits: ZipLimits,
  ) {}

  /**
   * One pass over the archive's entries: each entry that `open` gives a sink for is inflated into it;
   * the others are not read at all. Returns the names of every entry.
   */
  async read(open: (name: string) => EntrySink | null): Promise<string[]> {
    const zip = await this.open();
    try {
      if (zip.entryCount > this.limits.maxZipEntries) throw this.tooMany();
      const names: string[] = [];
      for (let entry = await nextEntry(zip); entry !== null; entry = await nextEntry(zip)) {
        names.push(entry.fileName);
        const sink = open(entry.fileName);
        if (sink === null) continue;
        const declared = entry.uncompressedSize;
        if (declared > this.limits.maxEntryBytes) throw this.tooLarge(entry.fileName, declared, "entry");
        if (this.inflated + declared > this.limits.maxExpandedBytes) {
          throw this.tooLarge(entry.fileName, this.inflated + declared, "together");
        }
        this.inflated += declared;
        await this.pump(zip, entry, sink);
      }
      return names;
    } catch (error) {
      throw error instanceof BookFormatError ? error : this.unreadable(error);
    } finally {
      zip.close();
    }
  }

  private open(): Promise<yauzl.ZipFile> {
    return new Promise((resolve, reject) => {
      const done = (error: Error | null, zip?: yauzl.ZipFile) =>
        error ? reject(this.unreadable(error)) : resolve(zip!);
      if (this.source instanceof Uint8Array) {
        const { buffer, byteOffset, byteLength } = this.source;
        yauzl.fromBuffer(Buffer.from(buffer, byteOffset, byteLength), OPTIONS, done);
      } else yauzl.open(this.source.file, OPTIONS, done);
    });
  }

  /** Inflates an entry into its sink; yauzl stops it as soon as it passes its declared size. */
  private pump(zip: yauzl.ZipFile, entry: yauzl.Entry, sink: EntrySink): Promise<void> {
    return new Promise((resolve, reject) => {
      zip.openReadStream(entry, (error, stream: Readable) => {
        if (error) return reject(this.entryError(entry, error));
        let failed = false;
        const fail = (cause: unknown) => {
          if (failed) return;
          failed = true;
          stream.destroy();
          reject(cause instanceof BookFormatError ? cause : this.entryError(entry, cause));
        };
        stream.on("data", (chunk: Uint8Array) => {
          try {
            if (!failed) sink.data(chunk);
          } catch (sinkError) {
            fail(sinkError);
          }
        });
        stream.on("error", fail);
        stream.on("end", () => {
          if (failed) return;
          try {
            sink.end();
            resolve();
          } catch (sinkError) {
            fail(sinkError);
          }
        });
      });
    });
  }

  private tooMany(): BookFormatError {
    return new BookFormatError(
      `the ${this.kind} holds more than ${this.limits.maxZipEntries.toLocaleString("en")} files, far more ` +
        "than a book needs; remove what is not the book (or upload it as PDF or plain text)",
    );
  }

  private tooLarge(name: string, size: number, how: "entry" | "together"): BookFormatError {
    const [limit, detail] = how === "entry"
      ? [this.limits.maxEntryBytes, `${name} declares ${mib(size)}`]
      : [this.limits.maxExpandedBytes, `its parts together, on reaching ${name}`];
    return new BookFormatError(
      `the ${this.kind} expands to more than ${mib(limit)} when unzipped (${detail}), far more than a ` +
        "book's text needs: it may be a zip bomb or hold something other than the book; upload the book " +
        "itself, or as PDF or plain text",
    );
  }

  /** What went wrong inside one entry, said for a person. */
  private entryError(entry: yauzl.Entry, cause: unknown): BookFormatError {
    const message = cause instanceof Error ? cause.message : String(cause);
    if (/too many bytes/i.test(message)) {
      return new BookFormatError(
        `the ${this.kind} is damaged or a zip bomb: ${entry.fileName} inflates to more than the ` +
          `${
            entry.uncompressedSize.toLocaleString("en")
          } bytes it declares; save it again from the program ` +
          "that made it and upload the new copy, or upload a PDF",
        { cause },
      );
    }
    if (/compression method|encrypted/i.test(message)) {
      return new BookFormatError(
        `the ${this.kind} stores ${entry.fileName} compressed or encrypted in a way we cannot read; save it ` +
          "again from the program that made it (without a password), or upload a PDF",
        { cause },
      );
    }
    return new BookFormatError(
      `the ${this.kind} is damaged: ${entry.fileName} cannot be unzipped; save it again from the program ` +
        "that made it and upload the new copy, or upload a PDF",
      { cause },
    );
  }

  private unreadable(cause: unknown): BookFormatError {
    return new BookFormatError(
      `not a valid ${this.kind}: the file is not a readable zip archive; save it again from the program ` +
        "that made it, or upload a PDF",
      { cause },
    );
  }
}

/** The next entry of the central directory, or null at its end. */
function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zip.off("entry", onEntry);
      zip.off("end", onEnd);
      zip.off("error", onError);
    };
    const onEntry = (entry: yauzl.Entry) => (cleanup(), resolve(entry));
    const onEnd = () => (cleanup(), resolve(null));
    const onError = (error: Error) => (cleanup(), reject(error));
    zip.on("entry", onEntry);
    zip.on("end", onEnd);
    zip.on("error", onError);
    zip.readEntry();
  });
}
