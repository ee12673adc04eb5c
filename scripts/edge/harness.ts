/**
 * The Edge constraints harness: runs an Edge-placed function the way Edge Runtime would (no
 * subprocess permission, a 256 MB heap: scripts/functions/edge_process.ts) against a local server of
 * recorded provider answers, and measures each request's CPU time, the process's peak memory and the
 * wall time. It also reads a function's module graph for subprocess code.
 */
import { dirname, resolve } from "node:path";
import { encode as encodeJpeg } from "jpeg-js";
import { edgeFunctionArgs } from "../functions/edge_process.ts";

const root = new URL("../../", import.meta.url).pathname;
export const functionsDir = `${root}supabase/functions`;

/** Hosted Edge Functions' limits per request. */
export const EDGE_LIMITS = { cpuMs: 2000, memoryMb: 256, wallSeconds: 150 };

// ---------------------------------------------------------------------------------------------------
// Module graph

export interface SubprocessFinding {
  /** The offending module (a file URL, or an npm package's file). */
  module: string;
  /** What it contains. */
  reason: string;
  /** Import chain from the entry to the offender. */
  chain: string[];
}

interface GraphDependency {
  code?: { specifier?: string };
  type?: { specifier?: string };
}

interface GraphModule {
  kind: string;
  specifier: string;
  local?: string;
  npmPackage?: string;
  moduleName?: string;
  dependencies?: GraphDependency[];
}

interface NpmPackageInfo {
  name: string;
  dependencies: string[];
  localPath?: string;
}

interface ModuleGraph {
  roots: string[];
  modules: GraphModule[];
  redirects: Record<string, string>;
  npmPackages: Record<string, NpmPackageInfo>;
}

const LOCAL_PATTERNS: [RegExp, string][] = [
  [/\bDeno\.Command\b/, "uses Deno.Command"],
  [/\bDeno\.run\(/, "uses Deno.run("],
  [/["'](?:node:)?child_process["']/, "imports child_process"],
];
const NPM_PATTERN = /(?:require\s*\(\s*|from\s*|import\s*\(\s*)["'](?:node:)?child_process["']/;
/** Literal specifiers: `import … from "x"`, `export … from "x"`, `import "x"`, `import("x")`, `require("x")`. */
const SPECIFIERS = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;

/** The module graph of `entry` as `deno info --json` reports it. */
export async function moduleGraph(entry: string): Promise<ModuleGraph> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", `${root}deno.json`, entry],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`deno info ${entry} failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

async function* packageFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "node_modules") yield* packageFiles(path);
    else if (entry.isFile && /\.(?:[cm]?js)$/.test(entry.name)) yield path;
  }
}

const withoutExtension = (path: string) => path.replace(/\.[cm]?js$/, "");

/** Every string in a package.json `exports` value (conditions nest). */
function exportTargets(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value && typeof value === "object") return Object.values(value).flatMap(exportTargets);
  return [];
}

/**
 * Whether `file` (in the package at `dir` named `name`) is loaded when the package is imported by its
 * main entry: it is that entry, or another file of the package imports it by a literal specifier,
 * relative or through the package's own name. A file nothing names (openai's `helpers/audio`, a
 * subpath of its own that plays sound with ffplay) is loaded only by importing that subpath. A
 * specifier computed at run time is not followed.
 */
export async function loadedFromMainEntry(dir: string, name: string, file: string): Promise<boolean> {
  const { entries, names } = await packageNames(dir, name);
  const key = withoutExtension(file);
  return entries.has(key) || [...names].some(([path, named]) => path !== file && named.has(key));
}

interface PackageNames {
  /** The main entry's files, without extension. */
  entries: Set<string>;
  /** For each file, the files of the package it names (without extension; a directory also as its index). */
  names: Map<string, Set<string>>;
}

const packageNamesCache = new Map<string, Promise<PackageNames>>();

/** What names what in the package at `dir`, read once. */
function packageNames(dir: string, name: string): Promise<PackageNames> {
  let result = packageNamesCache.get(dir);
  if (!result) packageNamesCache.set(dir, result = readPackageNames(dir, name));
  return result;
}

async function readPackageNames(dir: string, name: string): Promise<PackageNames> {
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/package.json`));
  const exportsField = manifest.exports;
  const rootExport = exportsField && typeof exportsField === "object" &&
      Object.keys(exportsField).some((key) => key.startsWith("."))
    ? exportsField["."]
    : exportsField;
  const entries = [...exportTargets(rootExport), manifest.main ?? "index.js", manifest.module]
    .filter((target): target is string => typeof target === "string");
  const names = new Map<string, Set<string>>();
  for await (const path of packageFiles(dir)) {
    const named = new Set<string>();
    for (const [, specifier] of (await Deno.readTextFile(path)).matchAll(SPECIFIERS)) {
      const target = specifier.startsWith(".")
        ? resolve(dirname(path), specifier)
        : specifier === name || specifier.startsWith(`${name}/`)
        ? resolve(dir, specifier.slice(name.length + 1))
        : null;
      if (target) named.add(withoutExtension(target)).add(`${target}/index`);
    }
    names.set(path, named);
  }
  return { entries: new Set(entries.map((target) => withoutExtension(resolve(dir, target)))), names };
}

/** The subpath of an npm specifier of the graph (`npm:/openai@7.60.0/helpers/audio`), "" for the main entry. */
function npmSubpath(specifier: string): string {
  return specifier.match(/^npm:\/?(?:@[^/]+\/)?[^@/]+@[^/]+(?:\/(.*))?$/)?.[1] ?? "";
}

/** Whether any file of the packages `ids` imports a subpath of the package `name` (`name/…`). */
async function importsSubpathOf(graph: ModuleGraph, ids: string[], name: string): Promise<boolean> {
  for (const id of ids) {
    const dir = graph.npmPackages[id]?.localPath;
    if (!dir) return true; // unknown: assume it does
    for await (const path of packageFiles(dir)) {
      for (const [, specifier] of (await Deno.readTextFile(path)).matchAll(SPECIFIERS)) {
        if (specifier.startsWith(`${name}/`)) return true;
      }
    }
  }
  return false;
}

/**
 * Every module reachable from `entry` that can start a process: local modules whose source uses
 * Deno.Command or Deno.run( or imports child_process, `node:child_process` itself, and npm packages
 * (with their dependencies) holding a file that imports child_process. Each with its import chain.
 */
export async function subprocessFindings(entry: string): Promise<SubprocessFinding[]> {
  const graph = await moduleGraph(entry);
  const modules = new Map(graph.modules.map((m) => [m.specifier, m]));
  const resolve = (s: string) => graph.redirects[s] ?? s;
  const parent = new Map<string, string | null>();
  const queue = graph.roots.map(resolve);
  for (const r of queue) parent.set(r, null);
  while (queue.length) {
    const current = queue.shift()!;
    for (const dep of modules.get(current)?.dependencies ?? []) {
      const target = dep.code?.specifier;
      if (!target) continue;
      const next = resolve(target);
      if (!parent.has(next)) {
        parent.set(next, current);
        queue.push(next);
      }
    }
  }
  const chainOf = (specifier: string) => {
    const chain: string[] = [];
    for (let s: string | null | undefined = specifier; s; s = parent.get(s)) chain.unshift(s);
    return chain.map((s) => s.replace(`file://${root}`, ""));
  };
  const findings: SubprocessFinding[] = [];
  const packagesSeen = new Map<string, string>(); // package id -> the chain's last module
  for (const specifier of parent.keys()) {
    const mod = modules.get(specifier);
    if (!mod) continue;
    if (mod.kind === "node" && mod.moduleName === "child_process") {
      findings.push({ module: specifier, reason: "is node:child_process", chain: chainOf(specifier) });
    } else if (mod.local && mod.kind === "esm") {
      const text = await Deno.readTextFile(mod.local);
      for (const [pattern, reason] of LOCAL_PATTERNS) {
        if (pattern.test(text)) findings.push({ module: specifier, reason, chain: chainOf(specifier) });
      }
    } else if (mod.kind === "npm" && mod.npmPackage && !packagesSeen.has(mod.npmPackage)) {
      packagesSeen.set(mod.npmPackage, specifier);
    }
  }
  // npm packages and their dependencies: any file of theirs that imports child_process, unless the
  // package is imported only by its main entry and nothing it loads from there names that file.
  const pkgParent = new Map<string, string>();
  const pkgQueue = [...packagesSeen.keys()];
  const visited = new Set(pkgQueue);
  while (pkgQueue.length) {
    const id = pkgQueue.shift()!;
    const info = graph.npmPackages[id];
    if (!info) continue;
    for (const dep of info.dependencies) {
      if (!visited.has(dep)) {
        visited.add(dep);
        pkgParent.set(dep, id);
        pkgQueue.push(dep);
      }
    }
    if (!info.localPath) continue;
    let mainEntryOnly: boolean | undefined;
    for await (const file of packageFiles(info.localPath)) {
      if (!NPM_PATTERN.test(await Deno.readTextFile(file))) continue;
      mainEntryOnly ??= !graph.modules.some((m) => m.npmPackage === id && npmSubpath(m.specifier) !== "") &&
        !(await importsSubpathOf(
          graph,
          Object.keys(graph.npmPackages).filter((other) =>
            graph.npmPackages[other].dependencies.includes(id)
          ),
          info.name,
        ));
      if (mainEntryOnly && !(await loadedFromMainEntry(info.localPath, info.name, file))) continue;
      const pkgChain: string[] = [];
      for (let p: string | undefined = id; p; p = pkgParent.get(p)) pkgChain.unshift(`npm:${p}`);
      const top = pkgChain[0].slice(4);
      findings.push({
        module: file,
        reason: "an npm package file imports child_process",
        chain: [
          ...chainOf(packagesSeen.get(top)!),
          ...pkgChain.slice(1),
          file.slice(info.localPath.length + 1),
        ],
      });
      break;
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------------
// Recorded provider answers

const recordedDir = `${functionsDir}/_shared/providers/recorded`;
const stripeDir = `${functionsDir}/_shared/billing/recorded`;

/** Answers for a chat completion, by the JSON schema's name; the value becomes the message content. */
export type ChatAnswers = Record<string, unknown>;

export interface RecordedProviders {
  url: string;
  /** Requests served, as "METHOD path". */
  requests: string[];
  /** Env that points every hosted provider here, with dummy keys so the hosted ones are chosen. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A JPEG of noise (the costliest to decode and to store again as PNG), cached by size. */
const jpegs = new Map<string, Uint8Array>();
export function noiseJpeg(width: number, height: number): Uint8Array {
  const key = `${width}x${height}`;
  let jpeg = jpegs.get(key);
  if (!jpeg) {
    const data = new Uint8Array(width * height * 4);
    let seed = 12345;
    for (let i = 0; i < data.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      data[i] = (i & 3) === 3 ? 255 : (seed >> 16) & 255;
    }
    jpeg = encodeJpeg({ width, height, data }, 90).data;
    jpegs.set(key, jpeg);
  }
  return jpeg;
}

/**
 * Serves OpenAI (chat, embeddings), ModelsLab (text2img, fetch, output download) and Stripe (customers,
 * prices, checkout and portal sessions, subscriptions) from recorded answers, or answers built to
 * their shape. A text2img call answers "processing" first when `modelslabProcessing` (the fetch path).
 */
export function startRecordedProviders(
  options: { chat?: ChatAnswers; userId?: string; modelslabProcessing?: boolean } = {},
): RecordedProviders {
  const requests: string[] = [];
  const chatEnvelope = JSON.parse(Deno.readTextFileSync(`${recordedDir}/openai_chat_script.json`));
  const embeddings = JSON.parse(Deno.readTextFileSync(`${recordedDir}/openai_embeddings.json`));
  const vector: number[] = embeddings.data[0].embedding;
  const stripeFiles: Record<string, string> = {
    "POST /v1/customers": "customer_create",
    "GET /v1/prices": "price_list",
    "POST /v1/checkout/sessions": "checkout_session_create",
    "POST /v1/billing_portal/sessions": "portal_session_create",
  };
  let base = "";
  let jobs = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const key = `${req.method} ${url.pathname}`;
    requests.push(key);
    const body = req.method === "POST" && req.headers.get("content-type")?.includes("json")
      ? await req.json()
      : {};
    if (key === "POST /openai/v1/chat/completions") {
      const name: string = body.response_format?.json_schema?.name;
      if (!options.chat || !(name in options.chat)) {
        return Response.json({ error: { message: `no recorded answer for ${name}` } }, { status: 400 });
      }
      const envelope = structuredClone(chatEnvelope);
      envelope.choices[0].message.content = JSON.stringify(options.chat[name]);
      return Response.json(envelope);
    }
    if (key === "POST /openai/v1/embeddings") {
      const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
      return Response.json({
        ...embeddings,
        data: inputs.map((_, index) => ({ object: "embedding", index, embedding: vector })),
      });
    }
    if (key === "POST /modelslab/api/v6/images/text2img") {
      const id = ++jobs;
      const output = `${base}/modelslab/output/${body.width}x${body.height}/${id}.jpg`;
      if (options.modelslabProcessing && id === 1) {
        return Response.json({
          status: "processing",
          eta: 0,
          id,
          output: [],
          fetch_result: `${base}/modelslab/api/v6/images/fetch/${id}?size=${body.width}x${body.height}`,
        });
      }
      return Response.json({ status: "success", id, output: [output], generationTime: 1 });
    }
    const fetched = url.pathname.match(/^\/modelslab\/api\/v6\/images\/fetch\/(\d+)$/);
    if (fetched && req.method === "POST") {
      const output = `${base}/modelslab/output/${url.searchParams.get("size")}/${fetched[1]}.jpg`;
      return Response.json({ status: "success", id: Number(fetched[1]), output: [output] });
    }
    const image = url.pathname.match(/^\/modelslab\/output\/(\d+)x(\d+)\//);
    if (image && req.method === "GET") {
      return new Response(new Uint8Array(noiseJpeg(Number(image[1]), Number(image[2]))), {
        headers: { "Content-Type": "image/jpeg" },
      });
    }
    const file = stripeFiles[key];
    if (file) {
      const text = Deno.readTextFileSync(`${stripeDir}/${file}.json`).replaceAll(
        "USER_ID",
        options.userId ?? "",
      );
      return new Response(text, { headers: { "Content-Type": "application/json" } });
    }
    return Response.json({ error: { message: `no recorded answer for ${key}` } }, { status: 404 });
  });
  base = `http://127.0.0.1:${server.addr.port}`;
  return {
    url: base,
    requests,
    env: {
      OPENAI_API_KEY: "sk-recorded",
      OPENAI_BASE_URL: `${base}/openai/v1`,
      MODELSLAB_API_KEY: "ml-recorded",
      MODELSLAB_BASE_URL: `${base}/modelslab/api`,
      STRIPE_SECRET_KEY: "sk_test_recorded",
      STRIPE_API_BASE: base,
    },
    close: () => server.shutdown(),
  };
}

// ---------------------------------------------------------------------------------------------------
// Running and measuring a function

export interface RequestFigures {
  label: string;
  status: number;
  /** CPU of the whole process (every thread) during the request. */
  cpuMs: number;
  wallSeconds: number;
  body: string;
}

export interface EdgeProcess {
  name: string;
  pid: number;
  url: string;
  /** Sends a request and measures it. */
  request(label: string, init: RequestInit & { path?: string }): Promise<RequestFigures>;
  /** The process's peak resident memory so far (VmHWM), in MB. */
  peakRssMb(): number;
  /** Whether the process is still running. */
  alive(): boolean;
  stderr(): string;
  stop(): Promise<void>;
}

let clockTicks: number | undefined;

/** Clock ticks a second, for /proc/<pid>/stat (usually 100). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    const out = new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).outputSync();
    clockTicks = Number(new TextDecoder().decode(out.stdout).trim()) || 100;
  }
  return clockTicks;
}

/**
 * User plus system CPU of a process (all its threads), in milliseconds, from /proc/<pid>/stat; with
 * `tools`, also that of the children it has waited for (ffmpeg, espeak-ng).
 */
export function processCpuMs(pid: number, options: { tools?: boolean } = {}): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after the name start at field 3 (state): utime 14, stime 15, cutime 16, cstime 17.
  const counted = options.tools ? [14, 15, 16, 17] : [14, 15];
  const ticks = counted.reduce((sum, field) => sum + Number(fields[field - 3]), 0);
  return (ticks * 1000) / clockTicksPerSecond();
}

/** The peak resident set size (VmHWM) of a process, in MB. */
export function processPeakRssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(status.match(/^VmHWM:\s+(\d+)\s+kB/m)?.[1]);
  return kb / 1024;
}

/** A loopback port nobody listens on now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts `supabase/functions/<name>/index.ts` as the runner does (Edge permissions, 256 MB heap) with
 * `env` (the database, Supabase URL, provider URLs and keys) and waits until it listens.
 */
export async function startEdgeFunction(
  name: string,
  env: Record<string, string>,
  storageDir: string,
): Promise<EdgeProcess> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: edgeFunctionArgs(`${functionsDir}/${name}/index.ts`, [
      storageDir,
      Deno.env.get("TMPDIR") ?? "/tmp",
    ]),
    cwd: root,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
      DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
      LOCAL_STORAGE_DIR: storageDir,
      ...env,
    },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let exited = false;
  let errors = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stderr) errors = (errors + decoder.decode(chunk)).slice(-8000);
  })();
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`${name} exited before listening: ${errors}`);
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${name} did not listen within 30 s: ${errors}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const url = `http://127.0.0.1:${port}`;
  let peak = 0;
  const peakRssMb = () => {
    if (!exited) peak = Math.max(peak, processPeakRssMb(child.pid));
    return peak;
  };
  return {
    name,
    pid: child.pid,
    url,
    async request(label, init) {
      const cpuBefore = processCpuMs(child.pid);
      const started = performance.now();
      let status = 0;
      let body = "";
      try {
        const res = await fetch(`${url}${init.path ?? "/"}`, init);
        status = res.status;
        body = await res.text();
      } catch (error) {
        body = String(error);
      }
      const wallSeconds = (performance.now() - started) / 1000;
      const cpuMs = exited ? NaN : processCpuMs(child.pid) - cpuBefore;
      peakRssMb();
      return { label, status, cpuMs, wallSeconds, body };
    },
    peakRssMb,
    alive: () => !exited,
    stderr: () => errors,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      await status;
      await reading;
    },
  };
}
