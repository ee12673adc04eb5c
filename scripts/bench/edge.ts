/**
 * Edge benchmark (figures, not a test): each Edge-placed function on its largest allowed input, run as
 * Edge Runtime would (no subprocess, 256 MB heap) with recorded provider answers: CPU per request (the
 * most of any request, every thread of the process), peak RSS and wall time.
 */
import { createSql } from "../../supabase/functions/_shared/db.ts";
import { edgeFunctions } from "../../supabase/functions/_shared/placement.ts";
import { limitProblems, SCENARIOS } from "../edge/scenarios.ts";

const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const sql = createSql(dbUrl, { max: 4 });
const placed = edgeFunctions({
  get: (name: string) => (name === "MODELSLAB_API_KEY" ? "set" : Deno.env.get(name)),
});

console.log("| function | scenario | CPU ms per request (max) | peak RSS MB | wall s | within Edge limits |");
console.log("| --- | --- | ---: | ---: | ---: | --- |");
try {
  for (const { name } of placed) {
    const scenario = SCENARIOS[name];
    if (!scenario) {
      console.log(`| ${name} | no scenario | | | | no |`);
      continue;
    }
    const storageDir = await Deno.makeTempDir({ prefix: "edge-bench-" });
    try {
      const result = await scenario.run({ sql, dbUrl, storageDir });
      const cpu = Math.max(...result.requests.map((r) => r.cpuMs));
      const wall = Math.max(...result.requests.map((r) => r.wallSeconds));
      const problems = limitProblems(result);
      console.log(
        `| ${name} | ${scenario.input} | ${cpu.toFixed(0)} | ${result.peakRssMb.toFixed(0)} | ${
          wall.toFixed(2)
        } | ${problems.length ? `no: ${problems.join("; ")}` : "yes"} |`,
      );
    } catch (error) {
      console.log(
        `| ${name} | ${scenario.input} | | | | failed: ${(error as Error).message.split("\n")[0]} |`,
      );
    } finally {
      await Deno.remove(storageDir, { recursive: true });
    }
  }
} finally {
  await sql.end();
}
