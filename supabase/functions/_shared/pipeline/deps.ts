/**
 * What a stage needs: storage, and the providers of the capabilities it uses (an Edge-placed stage
 * is given only Edge-safe ones: providers/edge.ts; the worker service gives all: providers/select.ts).
 */
import { type Sql, sql } from "../db.ts";
import { config } from "../env.ts";
import type { MediaInput, Providers } from "../providers/types.ts";
import { PermanentError } from "../errors.ts";
import { LocalStorage, ObjectTooLargeError, type Storage, SupabaseStorage } from "../storage.ts";
import { megabytes } from "./limits.ts";

export interface StageDeps<C extends keyof Providers = keyof Providers> {
  storage: Storage;
  providers: Pick<Providers, C>;
}

let storage: Storage | undefined;

/** The configured Storage backend, made once per process, writing only running generations' files. */
export function configuredStorage(): Storage {
  if (storage) return storage;
  const cfg = config();
  storage = forRunningGenerations(
    cfg.storageBackend === "supabase"
      ? new SupabaseStorage(cfg.supabaseUrl, cfg.serviceRoleKey!)
      : new LocalStorage(sql(), cfg.localStorageDir, cfg.supabaseUrl),
    sql(),
  );
  return storage;
}

/** Deterministic object paths: a re-run writes the same files, never new ones. */
export function mediaPath(userId: string, generationId: string, ...parts: string[]): string {
  return [userId, "generations", generationId, ...parts].join("/");
}

/** A generation's file in media (mediaPath): its generation's id. */
const GENERATION_FILE =
  /^[^/]+\/generations\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\//;

/**
 * Storage that writes a generation's files only while the generation runs: a unit that was in flight
 * when its generation was canceled, failed or deleted with its account leaves nothing behind (no
 * one would read it, and a deleted account's folder stays empty). Its calls are still logged by
 * complete_step; one stored in the moment between this check and the write is swept by the deletion.
 */
export function forRunningGenerations(backend: Storage, db: Sql): Storage {
  return {
    get: (bucket, path, maxBytes) => backend.get(bucket, path, maxBytes),
    download: (bucket, path, file) => backend.download(bucket, path, file),
    signedUrl: (bucket, path, seconds) => backend.signedUrl(bucket, path, seconds),
    remove: (bucket, paths) => backend.remove(bucket, paths),
    async put(bucket, path, bytes, contentType) {
      const generation = bucket === "media" ? GENERATION_FILE.exec(path)?.[1] : undefined;
      if (generation) {
        const [{ running }] = await db<{ running: boolean }[]>`
          select exists (select 1 from public.video_generations g
                         where g.id = ${generation} and private.generation_is_running(g.status)) as running`;
        if (!running) return { bucket, path, url: "", size: bytes.length, skipped: true };
      }
      return await backend.put(bucket, path, bytes, contentType);
    },
  };
}

export function unitFolder(unit: string): string {
  return unit.replace(":", "-").toLowerCase().replace(/[^a-z0-9-]+/g, "_");
}

/** What a stage expects of a stored input before anything uses it. */
export interface InputCheck {
  /** Names the input in messages: "the scene audio". */
  what: string;
  /** Its largest size: a larger object is not downloaded. */
  maxBytes: number;
  /** What was asked for, for the message when it is larger: "a speech track of 12.3 s". */
  expected: string;
  /** Throws (PermanentError) when the downloaded file is not what the pipeline made. */
  check?: (file: string) => Promise<unknown>;
}

/** Writes a stored object to a local file, for tools that need a path, after checking it. */
export async function download(
  storage: Storage,
  path: string,
  file: string,
  input: InputCheck,
): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await storage.get("media", path, input.maxBytes);
  } catch (error) {
    if (error instanceof ObjectTooLargeError) {
      throw new PermanentError(
        `${input.what} is over ${megabytes(input.maxBytes)}, more than ${input.expected} can be`,
      );
    }
    throw error;
  }
  await Deno.writeFile(file, bytes);
  await input.check?.(file);
  return file;
}

/** How long a hosted provider may fetch a stage's inputs: longer than any provider's queue. */
const INPUT_URL_SECONDS = 3600;

/**
 * A stored media object as a stage input, fetched only in the form a provider asks for; either form
 * is checked first (a URL too: the file is downloaded and checked before it is signed), so nothing
 * unchecked reaches a tool or a paid provider.
 */
export function mediaInput(storage: Storage, path: string, file: string, input: InputCheck): MediaInput {
  let local: Promise<string> | undefined;
  let signed: Promise<string> | undefined;
  const checked = () => local ??= download(storage, path, file, input);
  return {
    file: checked,
    url: () => signed ??= checked().then(() => storage.signedUrl("media", path, INPUT_URL_SECONDS)),
  };
}
