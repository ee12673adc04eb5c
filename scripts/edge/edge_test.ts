/**
 * The Edge constraints harness: every Edge-placed function (placement.ts, with the hosted image key
 * set) has no subprocess code in its module graph, and on the largest input the product allows it
 * stays within Edge's 2 s of CPU a request, 256 MB and 150 s of wall clock.
 */
import assert from "node:assert/strict";
import { edgeFunctions } from "../../supabase/functions/_shared/placement.ts";
import { testDatabaseUrl, withSql } from "../../supabase/functions/_shared/testing.ts";
import { functionsDir, loadedFromMainEntry, subprocessFindings } from "./harness.ts";
import { limitProblems, SCENARIOS } from "./scenarios.ts";

const placed = edgeFunctions({
  get: (name: string) => (name === "MODELSLAB_API_KEY" ? "set" : Deno.env.get(name)),
});

Deno.test("every Edge-placed function has a largest-input scenario", () => {
  assert.ok(placed.length > 0);
  assert.deepEqual(placed.filter((p) => !SCENARIOS[p.name]).map((p) => p.name), []);
});

Deno.test("the graph scan reports a module that imports subprocess code, with its import chain", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-graph-" });
  try {
    const entry = `${dir}/index.ts`;
    await Deno.writeTextFile(entry, `import "${functionsDir}/_shared/media.ts";\n`);
    const findings = await subprocessFindings(entry);
    const media = findings.find((f) => f.module.endsWith("/_shared/media.ts"));
    assert.ok(media, JSON.stringify(findings));
    assert.equal(media.reason, "uses Deno.Command");
    assert.deepEqual(media.chain, [`file://${entry}`, "supabase/functions/_shared/media.ts"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an npm package's file that starts processes counts when the package loads it, not when only its own subpath does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-package-" });
  try {
    await Deno.mkdir(`${dir}/helpers`);
    const files: Record<string, string> = {
      "package.json": JSON.stringify({
        name: "sdk",
        exports: { ".": { import: "./index.mjs" }, "./*": "./*.mjs" },
      }),
      "index.mjs": 'export * from "./client.mjs";\n',
      "client.mjs": 'import { run } from "./helpers/run.mjs";\nexport const client = () => run;\n',
      "helpers/run.mjs": 'import { spawn } from "node:child_process";\nexport const run = spawn;\n',
      "helpers/play.mjs":
        '// import { play } from "sdk/helpers/play";\nimport { spawn } from "node:child_process";\nexport const play = spawn;\n',
    };
    for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(`${dir}/${name}`, text);
    assert.equal(await loadedFromMainEntry(dir, "sdk", `${dir}/index.mjs`), true, "the main entry");
    assert.equal(
      await loadedFromMainEntry(dir, "sdk", `${dir}/helpers/run.mjs`),
      true,
      "imported by the client",
    );
    assert.equal(
      await loadedFromMainEntry(dir, "sdk", `${dir}/helpers/play.mjs`),
      false,
      "named only by itself",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the graph scan: openai by its main entry starts no process, its audio helpers subpath does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-graph-" });
  try {
    await Deno.writeTextFile(`${dir}/main.ts`, 'import OpenAI from "openai";\nconsole.log(OpenAI);\n');
    assert.deepEqual(await subprocessFindings(`${dir}/main.ts`), []);
    const sdk =
      JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url))).imports.openai;
    await Deno.writeTextFile(
      `${dir}/audio.ts`,
      `import { playAudio } from "${sdk}/helpers/audio";\nconsole.log(playAudio);\n`,
    );
    const findings = await subprocessFindings(`${dir}/audio.ts`);
    assert.equal(findings.length, 1, JSON.stringify(findings));
    assert.match(findings[0].module, /\/helpers\/audio\.m?js$/);
    assert.equal(findings[0].reason, "an npm package file imports child_process");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const placement of placed) {
  Deno.test(`Edge limits: ${placement.name} on its largest input`, async () => {
    const findings = await subprocessFindings(`${functionsDir}/${placement.name}/index.ts`);
    assert.deepEqual(findings, [], "no subprocess code reachable from index.ts");
    const scenario = SCENARIOS[placement.name];
    assert.ok(scenario, `no scenario for ${placement.name}`);
    const storageDir = await Deno.makeTempDir({ prefix: "edge-storage-" });
    try {
      const result = await withSql((sql) => scenario.run({ sql, dbUrl: testDatabaseUrl(), storageDir }));
      assert.ok(result.requests.length > 0);
      const problems = limitProblems(result);
      assert.deepEqual(problems, [], `${placement.name}: ${scenario.input}`);
    } finally {
      await Deno.remove(storageDir, { recursive: true });
    }
  });
}
