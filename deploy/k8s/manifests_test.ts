import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { WORKER_GROUPS, type WorkerGroup } from "../../supabase/functions/_shared/placement.ts";
import { withSql } from "../../supabase/functions/_shared/testing.ts";
import {
  deploymentName,
  groupQueues,
  K8S_DIR,
  loadKustomization,
  manifestProblems,
  queueDepthQuery,
  queuesInQuery,
  type Resource,
} from "./manifests.ts";

const GROUPS = Object.keys(WORKER_GROUPS) as WorkerGroup[];
const SCALER_ROLE_SQL = new URL("../sql/keda_scaler_role.sql", import.meta.url);

function scaledQuery(resources: Resource[], group: WorkerGroup): string {
  const scaled = resources.find((r) =>
    r.kind === "ScaledObject" && r.metadata?.name === deploymentName(group)
  );
  const query = scaled?.spec?.triggers?.[0]?.metadata?.query;
  assert.ok(query, `ScaledObject ${deploymentName(group)} has a query`);
  return query;
}

Deno.test("manifests: a Deployment and a ScaledObject per worker group, consistent with placement.ts", async () => {
  const resources = await loadKustomization();
  assert.deepEqual(manifestProblems(resources), []);
  for (const group of GROUPS) {
    const deployment = resources.find((r) =>
      r.kind === "Deployment" && r.metadata?.name === `worker-${group}`
    );
    assert.deepEqual(deployment?.spec?.template?.spec?.containers?.[0].args, ["--group", group]);
    // The query is exactly the one built from the placement table.
    assert.equal(scaledQuery(resources, group), queueDepthQuery(groupQueues(group)));
  }
  assert.deepEqual(groupQueues("media"), [
    "audio",
    "audiobook_export",
    "images",
    "lipsync",
    "merge",
    "video",
  ]);
  assert.deepEqual(groupQueues("books"), ["embed", "ingest"]);
});

Deno.test("manifests: the checks catch drift, literal secrets and missing probes", async () => {
  const fresh = async () => structuredClone(await loadKustomization());
  const media = (rs: Resource[], kind: string) =>
    rs.find((r) => r.kind === kind && r.metadata?.name === "worker-media")!;

  let rs = await fresh();
  const trigger = media(rs, "ScaledObject").spec!.triggers![0];
  trigger.metadata!.query = queueDepthQuery(["audio", "video"]);
  assert.match(manifestProblems(rs).join("\n"), /worker-media counts queues \[audio, video\]/);

  rs = await fresh();
  media(rs, "Deployment").spec!.template!.spec!.containers![0].args = ["--group", "books"];
  assert.match(manifestProblems(rs).join("\n"), /worker-media does not run --group media/);

  rs = await fresh();
  const books = rs.find((r) => r.kind === "Deployment" && r.metadata?.name === "worker-books")!;
  books.spec!.template!.spec!.containers![0].env = [];
  assert.match(
    manifestProblems(rs).join("\n"),
    /worker-books: DENO_V8_FLAGS must be "--max-old-space-size=128/,
  );

  rs = await fresh();
  media(rs, "ScaledObject").spec!.minReplicaCount = 1;
  assert.match(manifestProblems(rs).join("\n"), /minReplicaCount must be 0/);

  rs = await fresh();
  media(rs, "Deployment").spec!.template!.spec!.containers![0].readinessProbe = {
    httpGet: { path: "/livez" },
  };
  assert.match(manifestProblems(rs).join("\n"), /readinessProbe must GET \/readyz/);

  rs = await fresh();
  media(rs, "Deployment").spec!.template!.spec!.terminationGracePeriodSeconds = 30;
  assert.match(
    manifestProblems(rs).join("\n"),
    /terminationGracePeriodSeconds 30 must exceed WORKER_DRAIN_SECONDS 90/,
  );

  rs = await fresh();
  media(rs, "Deployment").spec!.template!.spec!.containers![0].env!.push({
    name: "OPENAI_API_KEY",
    value: "sk-1",
  });
  rs.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "leak" }, stringData: { a: "b" } });
  const problems = manifestProblems(rs).join("\n");
  assert.match(problems, /OPENAI_API_KEY has a literal value/);
  assert.match(problems, /Secret leak has values in the repository/);

  rs = (await fresh()).filter((r) => !(r.kind === "ScaledObject" && r.metadata?.name === "worker-books"));
  assert.match(manifestProblems(rs).join("\n"), /no ScaledObject worker-books/);
});

Deno.test("manifests: no literal secret anywhere in the applied files; the example holds placeholders only", async () => {
  const kustomization = parse(await Deno.readTextFile(`${K8S_DIR}/kustomization.yaml`)) as {
    resources: string[];
  };
  assert.ok(!kustomization.resources.includes("secret.example.yaml"), "the example is not applied");
  for (const file of kustomization.resources) {
    const text = await Deno.readTextFile(`${K8S_DIR}/${file}`);
    assert.doesNotMatch(text, /kind:\s*Secret\b/, `${file} defines no Secret`);
    assert.doesNotMatch(text, /postgres(ql)?:\/\/[^"'\s]*:[^"'\s@]+@/, `${file} holds no connection string`);
    assert.doesNotMatch(text, /\b(sk-|sb_secret_|eyJ)[A-Za-z0-9_-]{8,}/, `${file} holds no key`);
  }
  const docs = parseAllDocuments(await Deno.readTextFile(`${K8S_DIR}/secret.example.yaml`))
    .map((d) => d.toJS() as Resource);
  assert.deepEqual(docs.map((d) => d.metadata?.name), ["litinkai-worker", "litinkai-keda-scaler"]);
  for (const doc of docs) {
    for (const [key, value] of Object.entries(doc.stringData ?? {})) {
      assert.match(value, /^<.*>$/, `${doc.metadata?.name}.${key} is a placeholder`);
    }
  }
  // The names the manifests reference are the example's.
  const resources = await loadKustomization();
  const auth = resources.find((r) => r.kind === "TriggerAuthentication");
  assert.equal(auth?.spec?.secretTargetRef?.[0].name, "litinkai-keda-scaler");
  assert.ok("connection" in (docs[1].stringData ?? {}));
  for (const group of GROUPS) {
    const container = resources.find((r) =>
      r.metadata?.name === deploymentName(group) && r.kind === "Deployment"
    )
      ?.spec?.template?.spec?.containers?.[0];
    assert.equal(container?.envFrom?.[0].secretRef?.name, "litinkai-worker");
  }
  const workerKeys = Object.keys(docs[0].stringData ?? {});
  for (const key of ["SUPABASE_DB_URL", "SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"]) {
    assert.ok(workerKeys.includes(key), `the example lists ${key}`);
  }
});

const kubectl = await (async () => {
  try {
    const out = await new Deno.Command("kubectl", {
      args: ["version", "--client"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: `manifests: kubectl kustomize renders the same resources${kubectl ? "" : " (skipped: no kubectl)"}`,
  ignore: !kubectl,
  fn: async () => {
    const out = await new Deno.Command("kubectl", {
      args: ["kustomize", K8S_DIR],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const rendered = parseAllDocuments(new TextDecoder().decode(out.stdout)).map((d) => d.toJS() as Resource);
    const names = (rs: Resource[]) => rs.map((r) => `${r.kind}/${r.metadata?.name}`).sort();
    assert.deepEqual(names(rendered), names(await loadKustomization()));
    assert.deepEqual(manifestProblems(rendered), []);
  },
});

class Rollback extends Error {}

Deno.test("manifests: each ScaledObject's query counts its group's queues in the database, as the scaler role", async () => {
  const resources = await loadKustomization();
  const roleSql = await Deno.readTextFile(SCALER_ROLE_SQL);
  await withSql(async (sql) => {
    for (const group of GROUPS) {
      const query = scaledQuery(resources, group);
      const queues = queuesInQuery(query);
      const other = "plot"; // a queue of no worker group
      assert.ok(!queues.includes(other));
      const depth = async (tx: Pick<typeof sql, "unsafe">) => Number((await tx.unsafe(query))[0].coalesce);
      await assert.rejects(
        sql.begin("isolation level repeatable read", async (tx) => {
          await tx.unsafe(roleSql);
          await tx`grant keda_scaler to current_user`;
          await tx`select set_config('role', 'keda_scaler', true)`;
          const before = await depth(tx);
          await tx`reset role`;
          for (const queue of queues) {
            await tx`select pgmq.send(${queue}, '{"test": "scaler"}'::jsonb) from generate_series(1, 2)`;
          }
          await tx`select pgmq.send(${other}, '{"test": "scaler"}'::jsonb) from generate_series(1, 3)`;
          // A message being worked on (invisible) still needs its replica.
          await tx`select * from pgmq.read(${queues[0]}, 60, 1)`;
          await tx`select set_config('role', 'keda_scaler', true)`;
          assert.equal(await depth(tx), before + 2 * queues.length, `${group}: two messages a queue`);
          // Least privilege: the scaler reads no table of the application.
          await assert.rejects(tx`select 1 from public.books limit 1`, /permission denied/);
          throw new Rollback();
        }),
        Rollback,
      );
    }
  });
});
