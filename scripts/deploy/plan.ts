/**
 * What `npm run deploy` deploys, from the placement table, and the offline checks of `--check`.
 *   plan.ts edge <env file>          Edge Functions to deploy, one a line
 *   plan.ts edge-workers <env file>  those of them that consume a queue (pg_cron invokes them)
 *   plan.ts workers <env file>       the worker service's groups and their functions
 *   plan.ts check                    function folders and manifests against the placement table
 * DEPLOY_ROOT (default: the repository) is where supabase/ and deploy/k8s are read.
 */
import {
  edgeFunctions,
  PLACEMENTS,
  WORKER_GROUPS,
  workerFunctions,
  type WorkerGroup,
} from "../../supabase/functions/_shared/placement.ts";
import { loadKustomization, manifestProblems } from "../../deploy/k8s/manifests.ts";

type Env = Pick<typeof Deno.env, "get">;

/** NAME=VALUE lines as the Supabase CLI reads them (comments, blank lines, `export`, quotes). */
export function parseEnvFile(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/^export\s+/, "");
    if (!line || line.startsWith("#")) continue;
    const at = line.indexOf("=");
    if (at <= 0) continue;
    let value = line.slice(at + 1).trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    values.set(line.slice(0, at).trim(), value);
  }
  return values;
}

function envOf(values: Map<string, string>): Env {
  return { get: (name: string) => values.get(name) };
}

/** Function folders under supabase/functions (folders starting with _ are shared code). */
async function functionFolders(root: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${root}/supabase/functions`)) {
    if (entry.isDirectory && !entry.name.startsWith("_") && !entry.name.startsWith(".")) {
      names.push(entry.name);
    }
  }
  return names.sort();
}

/** Functions config.toml turns off (`[functions.<name>]` with `enabled = false`). */
export function disabledInConfig(toml: string): Set<string> {
  const disabled = new Set<string>();
  let section = "";
  for (const raw of toml.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    const header = line.match(/^\[\s*functions\.("?)([\w-]+)\1\s*\]$/);
    if (line.startsWith("[")) section = header ? header[2] : "";
    else if (section && /^enabled\s*=\s*false$/.test(line)) disabled.add(section);
  }
  return disabled;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Every way the repository disagrees with the placement table, one readable line each. */
export async function checkProblems(root: string): Promise<string[]> {
  const problems: string[] = [];
  const folders = await functionFolders(root);
  const disabled = disabledInConfig(await Deno.readTextFile(`${root}/supabase/config.toml`).catch(() => ""));
  for (const p of PLACEMENTS.filter((p) => p.home === "edge")) {
    if (!(await exists(`${root}/supabase/functions/${p.name}/index.ts`))) {
      problems.push(`Edge-placed function ${p.name} has no supabase/functions/${p.name}/index.ts`);
    }
  }
  for (const p of PLACEMENTS.filter((p) => p.home === "worker")) {
    if (folders.includes(p.name)) {
      problems.push(
        `supabase/functions/${p.name} exists, but placement.ts runs ${p.name} in the worker service (group ${p.group}): move it out of supabase/functions`,
      );
    }
  }
  for (const name of folders) {
    if (!PLACEMENTS.some((p) => p.name === name) && !disabled.has(name)) {
      problems.push(
        `supabase/functions/${name} is not placed on Edge by placement.ts: place it, remove it, or set [functions.${name}] enabled = false in supabase/config.toml`,
      );
    }
  }
  try {
    problems.push(
      ...manifestProblems(await loadKustomization(`${root}/deploy/k8s`)).map((p) => `deploy/k8s: ${p}`),
    );
  } catch (error) {
    problems.push(`deploy/k8s: ${error instanceof Error ? error.message : String(error)}`);
  }
  return problems;
}

async function envFile(path: string | undefined): Promise<Env> {
  if (!path) throw new Error("give the Edge Functions' env file");
  return envOf(parseEnvFile(await Deno.readTextFile(path)));
}

if (import.meta.main) {
  const [command, file] = Deno.args;
  const root = Deno.env.get("DEPLOY_ROOT") || new URL("../..", import.meta.url).pathname;
  if (command === "edge") {
    for (const p of edgeFunctions(await envFile(file))) console.log(p.name);
  } else if (command === "edge-workers") {
    for (const p of edgeFunctions(await envFile(file)).filter((p) => p.queue)) console.log(p.name);
  } else if (command === "workers") {
    const env = await envFile(file);
    for (const group of Object.keys(WORKER_GROUPS) as WorkerGroup[]) {
      console.log(
        `${group}: ${workerFunctions([group], env).map((p) => `${p.name} (queue ${p.queue})`).join(", ")}`,
      );
    }
  } else if (command === "check") {
    const problems = await checkProblems(root);
    for (const problem of problems) console.log(problem);
    Deno.exit(problems.length ? 1 : 0);
  } else {
    console.error("usage: plan.ts edge|edge-workers|workers <env file> | check");
    Deno.exit(2);
  }
}
