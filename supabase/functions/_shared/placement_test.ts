/** The placement table against what is on disk, in the database and in the worker service. */
import assert from "node:assert/strict";
import { WORKER_FUNCTIONS } from "../../../worker/functions.ts";
import { errorResponse } from "./http.ts";
import { edgeFunctions, PLACEMENTS, workerFunctions } from "./placement.ts";
import { hostedImageProvider } from "./providers/edge.ts";
import { withSql } from "./testing.ts";

const functionsDir = new URL("../", import.meta.url);
const withKeys = { get: (name: string) => (name === "MODELSLAB_API_KEY" ? "key" : undefined) };

Deno.test("placement: every Edge-placed function has an entry, and every entry is placed on Edge", async () => {
  const folders: string[] = [];
  for await (const entry of Deno.readDir(functionsDir)) {
    if (entry.isDirectory && !entry.name.startsWith("_")) folders.push(entry.name);
  }
  const edge = edgeFunctions(withKeys).map((p) => p.name).sort();
  assert.deepEqual(folders.sort(), edge, "supabase/functions holds exactly the Edge-placed functions");
  for (const name of edge) await Deno.stat(new URL(`${name}/index.ts`, functionsDir));
});

Deno.test("placement: the worker service can run every queue worker, and pg_cron invokes only Edge ones", async () => {
  const queueWorkers = PLACEMENTS.filter((p) => p.queue).map((p) => p.name).sort();
  assert.deepEqual(Object.keys(WORKER_FUNCTIONS).sort(), queueWorkers);
  const grouped = workerFunctions(["media", "books"], withKeys).map((p) => p.name).sort();
  assert.deepEqual(grouped, PLACEMENTS.filter((p) => p.home === "worker").map((p) => p.name).sort());
  await withSql(async (sql) => {
    const rows = await sql<{ function_name: string }[]>`
      select function_name from private.edge_function_schedules order by function_name`;
    const edgeWorkers = edgeFunctions(withKeys).filter((p) => p.queue).map((p) => p.name).sort();
    assert.deepEqual(rows.map((r) => r.function_name), edgeWorkers);
  });
});

Deno.test("placement: the operator alerts watch each queue worker's own queue", async () => {
  const queueWorkers = PLACEMENTS.filter((p) => p.queue);
  await withSql(async (sql) => {
    const rows = await sql<{ name: string; queue: string }[]>`
      select name, private.worker_queue(name) as queue from unnest(${
      queueWorkers.map((p) => p.name)
    }::text[]) name`;
    assert.deepEqual([...rows], queueWorkers.map((p) => ({ name: p.name, queue: p.queue })));
  });
});

Deno.test("an Edge function without the key its stage needs answers 503 with what to set", async () => {
  assert.throws(() => hostedImageProvider({}), /missing environment variable MODELSLAB_API_KEY/);
  let error: unknown;
  try {
    hostedImageProvider({});
  } catch (e) {
    error = e;
  }
  const response = errorResponse(error);
  assert.equal(response.status, 503);
  const body = await response.json();
  assert.equal(body.code, "configuration_error");
  assert.match(body.error, /run the images stage in the worker service/);
});
