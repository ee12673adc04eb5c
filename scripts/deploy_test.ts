/**
 * `npm run deploy`: --check on incomplete and complete configurations, the folder rules on a
 * fixture tree (DEPLOY_ROOT), and a full run against a stand-in Supabase CLI that records what it
 * was asked, with the SQL it was given applied to the database (rolled back).
 */
import assert from "node:assert/strict";
import { edgeFunctions, PLACEMENTS } from "../supabase/functions/_shared/placement.ts";
import { withSql } from "../supabase/functions/_shared/testing.ts";
import { disabledInConfig, parseEnvFile } from "./deploy/plan.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SECRETS = {
  SUPABASE_ACCESS_TOKEN: "sbp_test_access_token_0001",
  SUPABASE_PROJECT_REF: "abcdefghijklmnopqrst",
  SUPABASE_DB_PASSWORD: "db-password-it's-0002",
  SUPABASE_SERVICE_ROLE_KEY: "service-role-key-it's-0003",
};
const FUNCTION_SECRETS =
  "STRIPE_SECRET_KEY=sk_test_0004\nSTRIPE_WEBHOOK_SECRET=whsec_0005\nMODELSLAB_API_KEY=ml_0006\n";

/** A repository tree as placement.ts wants it: Edge functions only, the real config and manifests. */
async function fixture(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "deploy-fixture-" });
  for (const p of PLACEMENTS.filter((p) => p.home === "edge")) {
    await Deno.mkdir(`${dir}/supabase/functions/${p.name}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/supabase/functions/${p.name}/index.ts`, "");
  }
  await Deno.mkdir(`${dir}/supabase/functions/_shared`);
  await Deno.copyFile(`${ROOT}supabase/config.toml`, `${dir}/supabase/config.toml`);
  await Deno.mkdir(`${dir}/deploy/k8s`, { recursive: true });
  for await (const entry of Deno.readDir(`${ROOT}deploy/k8s`)) {
    if (entry.name.endsWith(".yaml")) {
      await Deno.copyFile(`${ROOT}deploy/k8s/${entry.name}`, `${dir}/deploy/k8s/${entry.name}`);
    }
  }
  await Deno.writeTextFile(`${dir}/functions.env`, FUNCTION_SECRETS);
  return dir;
}

async function deploy(args: string[], env: Record<string, string>) {
  const clean: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/tmp",
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) clean.DENO_DIR = denoDir;
  const out = await new Deno.Command("bash", {
    args: [`${ROOT}scripts/deploy.sh`, ...args],
    env: { ...clean, ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

function assertNoSecretShown(text: string) {
  for (
    const value of [
      ...Object.values(SECRETS).filter((v) => v !== SECRETS.SUPABASE_PROJECT_REF),
      "sk_test_0004",
      "whsec_0005",
      "ml_0006",
    ]
  ) {
    assert.ok(!text.includes(value), `the output does not show ${value}`);
  }
}

const expectedEdge = edgeFunctions({ get: (name) => parseEnvFile(FUNCTION_SECRETS).get(name) }).map((p) =>
  p.name
);

Deno.test("deploy --check: an incomplete configuration fails and names every missing variable", async () => {
  const dir = await fixture();
  try {
    await Deno.writeTextFile(
      `${dir}/functions.env`,
      "STRIPE_SECRET_KEY=sk_test_0004\nSUPABASE_URL=https://x\n",
    );
    const { code, text } = await deploy(["--check"], {
      DEPLOY_ROOT: dir,
      FUNCTIONS_ENV_FILE: `${dir}/functions.env`,
      SUPABASE_PROJECT_REF: SECRETS.SUPABASE_PROJECT_REF,
    });
    assert.notEqual(code, 0);
    for (
      const name of [
        "SUPABASE_ACCESS_TOKEN",
        "SUPABASE_DB_PASSWORD",
        "SUPABASE_SERVICE_ROLE_KEY",
        "STRIPE_WEBHOOK_SECRET",
      ]
    ) {
      assert.match(text, new RegExp(`missing ${name}( in \\S+)?: \\S`), `names ${name} and what it is for`);
    }
    assert.match(text, /SUPABASE_URL in .*hosted Supabase sets SUPABASE_\* itself/);
    assert.doesNotMatch(text, /missing SUPABASE_PROJECT_REF/);
    assert.doesNotMatch(text, /missing STRIPE_SECRET_KEY/);
    assert.match(text, /5 problem\(s\) above; nothing was deployed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy --check: a complete configuration passes and lists the Edge Functions it would deploy", async () => {
  const dir = await fixture();
  try {
    const { code, text } = await deploy(["--check"], {
      ...SECRETS,
      DEPLOY_ROOT: dir,
      FUNCTIONS_ENV_FILE: `${dir}/functions.env`,
    });
    assert.equal(code, 0, text);
    assert.ok(
      text.includes(`Edge Functions to deploy (${expectedEdge.length})\n    ${expectedEdge.join(" ")}\n`),
      text,
    );
    assert.ok(expectedEdge.includes("pipeline-images"));
    assert.match(text, /media: pipeline-audio \(queue audio\), pipeline-video/);
    assert.match(text, /books: ingest \(queue ingest\)/);
    assertNoSecretShown(text);

    // Without the ModelsLab key, images are the media workers'.
    await Deno.writeTextFile(`${dir}/functions.env`, FUNCTION_SECRETS.replace(/MODELSLAB_API_KEY=.*\n/, ""));
    const without = await deploy(["--check"], {
      ...SECRETS,
      DEPLOY_ROOT: dir,
      FUNCTIONS_ENV_FILE: `${dir}/functions.env`,
    });
    assert.equal(without.code, 0, without.text);
    assert.ok(without.text.includes(`Edge Functions to deploy (${expectedEdge.length - 1})`), without.text);
    assert.match(without.text, /media: pipeline-images \(queue images\), pipeline-audio/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy --check: function folders must match placement.ts unless config.toml disables them", async () => {
  const dir = await fixture();
  try {
    const worker = PLACEMENTS.find((p) => p.home === "worker")!;
    const edge = PLACEMENTS.find((p) => p.home === "edge")!;
    await Deno.mkdir(`${dir}/supabase/functions/${worker.name}`);
    await Deno.mkdir(`${dir}/supabase/functions/legacy-report`);
    await Deno.remove(`${dir}/supabase/functions/${edge.name}/index.ts`);
    const env = { ...SECRETS, DEPLOY_ROOT: dir, FUNCTIONS_ENV_FILE: `${dir}/functions.env` };
    let { code, text } = await deploy(["--check"], env);
    assert.notEqual(code, 0);
    assert.match(
      text,
      new RegExp(
        `supabase/functions/${worker.name} exists, but placement.ts runs ${worker.name} in the worker service`,
      ),
    );
    assert.match(text, /supabase\/functions\/legacy-report is not placed on Edge/);
    assert.match(text, new RegExp(`${edge.name} has no supabase/functions/${edge.name}/index.ts`));

    await Deno.writeTextFile(`${dir}/supabase/functions/${edge.name}/index.ts`, "");
    await Deno.remove(`${dir}/supabase/functions/${worker.name}`);
    await Deno.writeTextFile(
      `${dir}/supabase/config.toml`,
      "\n[functions.legacy-report]\nenabled = false\n",
      { append: true },
    );
    ({ code, text } = await deploy(["--check"], env));
    assert.equal(code, 0, text);

    // A drifted manifest fails the check too.
    const media = `${dir}/deploy/k8s/worker-media.yaml`;
    await Deno.writeTextFile(media, (await Deno.readTextFile(media)).replace("'audio', ", ""));
    ({ code, text } = await deploy(["--check"], env));
    assert.notEqual(code, 0);
    assert.match(
      text,
      /deploy\/k8s: ScaledObject worker-media counts queues \[audiobook_export, images, lipsync, merge, video\]/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy: config.toml's disabled functions and env files are read as the CLI reads them", () => {
  assert.deepEqual(
    [...disabledInConfig(
      '[functions.a]\nenabled = false\n[functions."b"]\nenabled = false # off\n[functions.c]\nenabled = true\n[db]\nenabled = false\n',
    )],
    ["a", "b"],
  );
  assert.deepEqual(
    [...parseEnvFile("# c\nexport A=1\nB='two words'\nC=\"x=y\"\n\nbad line\n")],
    [["A", "1"], ["B", "two words"], ["C", "x=y"]],
  );
});

class Rollback extends Error {}

Deno.test("deploy: a full run calls the CLI in order, never shows a secret, and its SQL sets Vault and the schedules", async () => {
  const dir = await fixture();
  try {
    const log = `${dir}/cli.log`;
    const cli = `${dir}/fake-supabase-cli`;
    await Deno.writeTextFile(
      cli,
      `#!/usr/bin/env bash
printf '%s\\n' "$*" >> "${log}"
while [ $# -gt 0 ]; do
  if [ "$1" = "--file" ]; then cp "$2" "${dir}/query.sql"; fi
  shift
done
`,
    );
    await Deno.chmod(cli, 0o755);
    const { code, text } = await deploy([], {
      ...SECRETS,
      DEPLOY_ROOT: dir,
      FUNCTIONS_ENV_FILE: `${dir}/functions.env`,
      SUPABASE_CLI_BINARY: cli,
    });
    assert.equal(code, 0, text);
    assertNoSecretShown(text);
    assert.match(text, /kubectl apply -n <namespace> -k deploy\/k8s/);

    const calls = (await Deno.readTextFile(log)).trim().split("\n").map((line) =>
      line.replace(/^--workdir \S+ /, "")
    );
    assertNoSecretShown(calls.join("\n"));
    assert.equal(calls[0], `link --project-ref ${SECRETS.SUPABASE_PROJECT_REF} --yes`);
    assert.equal(calls[1], "db push --remote --yes");
    const deployed = calls.filter((c) => c.startsWith("functions deploy ")).map((c) => c.split(" ")[2]);
    assert.deepEqual(deployed, expectedEdge);
    assert.ok(calls.some((c) => /^functions deploy stripe-webhook .*--no-verify-jwt/.test(c)));
    assert.ok(calls.filter((c) => c.includes("--no-verify-jwt")).length === 1);
    assert.equal(calls.at(-2), `secrets set --env-file ${dir}/functions.env --yes`);
    assert.match(calls.at(-1)!, /^db query --remote --file \S+ --yes$/);

    // The SQL, on the database with a stand-in Vault (what hosted Supabase provides), rolled back.
    const query = await Deno.readTextFile(`${dir}/query.sql`);
    const edgeWorkers = PLACEMENTS.filter((p) => p.queue && expectedEdge.includes(p.name)).map((p) => p.name)
      .sort();
    await withSql(async (sql) => {
      await assert.rejects(
        sql.begin(async (tx) => {
          await tx.unsafe(`
            create schema vault;
            create table vault.secrets (id uuid primary key default gen_random_uuid(), name text unique, secret text);
            create function vault.create_secret(new_secret text, new_name text default null) returns uuid
              language sql as $$ insert into vault.secrets (name, secret) values (new_name, new_secret) returning id $$;
            create function vault.update_secret(secret_id uuid, new_secret text default null) returns void
              language sql as $$ update vault.secrets set secret = new_secret where id = secret_id $$;
            select vault.create_secret('https://old.example', 'project_url');`);
          await tx.unsafe(query);
          const secrets = await tx<{ name: string; secret: string }[]>`
            select name, secret from vault.secrets order by name`;
          assert.deepEqual(secrets.map((s) => [s.name, s.secret]), [
            ["project_url", `https://${SECRETS.SUPABASE_PROJECT_REF}.supabase.co`],
            ["service_role_key", SECRETS.SUPABASE_SERVICE_ROLE_KEY],
          ]);
          const enabled = await tx<{ function_name: string }[]>`
            select function_name from private.edge_function_schedules where enabled order by function_name`;
          assert.deepEqual(enabled.map((r) => r.function_name), edgeWorkers);
          throw new Rollback();
        }),
        Rollback,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
