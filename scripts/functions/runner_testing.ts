/** For tests that run the local runner (Edge Functions, their workers and the local API) as a process. */
import { testDatabaseUrl } from "../../supabase/functions/_shared/testing.ts";

/** Polls `probe` until it gives a value; an error it throws fails the wait at once. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until a worker service answers 200 on /readyz at `port`. */
export async function waitUntilReady(port: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(`the worker service on port ${port} to be ready`, timeoutMs, async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      await res.body?.cancel();
      return res.ok ? true : undefined;
    } catch {
      return undefined; // not listening yet
    }
  });
}

/** A function the runner serves: its process and how often it was restarted. */
export interface ServedFunction {
  name: string;
  pid: number;
  restarts: number;
}

/** The functions the runner on `port` serves, or undefined while it is not answering yet. */
export async function servedFunctions(port: number): Promise<ServedFunction[] | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/_runner/functions`);
    return await res.json();
  } catch {
    return undefined;
  }
}

/** Runs `body` while a runner serves on `port` (every function listening, the API up), then stops it. */
export async function withRunner(port: number, storageDir: string, body: () => Promise<void>) {
  const runner = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("./runner.ts", import.meta.url).pathname],
    env: {
      FUNCTIONS_PORT: String(port),
      SUPABASE_DB_URL: testDatabaseUrl(),
      LOCAL_STORAGE_DIR: storageDir,
      WORKER_BUDGET_SECONDS: "20",
      WORKER_POLL_SECONDS: "2",
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitFor(
      "the runner",
      60_000,
      async () => ((await servedFunctions(port))?.length ? true : undefined),
    );
    await body();
  } finally {
    runner.kill("SIGTERM");
    await runner.status;
  }
}
