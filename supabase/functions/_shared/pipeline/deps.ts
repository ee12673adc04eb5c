/**
 * What a stage needs: storage, and the providers of the capabilities it uses (an Edge-placed stage
 * is given only Edge-safe ones: providers/edge.ts; the worker service gives all: providers/select.ts).
 */
import { sql } from "../db.ts";
import { config } from "../env.ts";
import type { MediaInput, Providers } from "../providers/types.ts";
import { LocalStorage, type Storage, SupabaseStorage } from "../storage.ts";

export interface StageDeps<C extends keyof Providers = keyof Providers> {
  storage: Storage;
  providers: Pick<Providers, C>;
}

let storage: Storage | undefined;

/** The configured Storage backend, made once per process. */
export function configuredStorage(): Storage {
  if (storage) return storage;
  const cfg = config();
  storage = cfg.storageBackend === "supabase"
    ? new SupabaseStorage(cfg.supabaseUrl, cfg.serviceRoleKey!)
    : new LocalStorage(sql(), cfg.localStorageDir, cfg.supabaseUrl);
  return storage;
}

/** Deterministic object paths: a re-run writes the same files, never new ones. */
export function mediaPath(userId: string, generationId: string, ...parts: string[]): string {
  return [userId, "generations", generationId, ...parts].join("/");
}

export function unitFolder(unit: string): string {
  return unit.replace(":", "-").toLowerCase().replace(/[^a-z0-9-]+/g, "_");
}

/** Writes a stored object to a local file, for tools that need a path. */
export async function download(storage: Storage, path: string, file: string): Promise<string> {
  await Deno.writeFile(file, await storage.get("media", path));
  return file;
}

/** How long a hosted provider may fetch a stage's inputs: longer than any provider's queue. */
const INPUT_URL_SECONDS = 3600;

/** A stored media object as a stage input, downloaded or signed on first request only. */
export function mediaInput(storage: Storage, path: string, file: string): MediaInput {
  let local: Promise<string> | undefined;
  let signed: Promise<string> | undefined;
  return {
    file: () => local ??= download(storage, path, file),
    url: () => signed ??= storage.signedUrl("media", path, INPUT_URL_SECONDS),
  };
}
