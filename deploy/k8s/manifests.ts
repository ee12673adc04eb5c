/**
 * Reads the worker service's Kubernetes manifests (the files kustomization.yaml lists) and checks
 * them against the placement table, so the Deployments and their KEDA triggers cannot drift from
 * where functions run. Used by manifests_test.ts and by `npm run deploy -- --check`.
 */
import { parse, parseAllDocuments } from "yaml";
import { BOOKS_WORKER } from "../../supabase/functions/_shared/books/limits.ts";
import { PLACEMENTS, WORKER_GROUPS, type WorkerGroup } from "../../supabase/functions/_shared/placement.ts";

export const K8S_DIR = new URL(".", import.meta.url).pathname;

/** The paths the worker service answers (see worker/main.ts). */
export const HEALTH_PATHS = { liveness: "/livez", readiness: "/readyz" } as const;
/** The worker's drain time when WORKER_DRAIN_SECONDS is not set. */
export const DEFAULT_DRAIN_SECONDS = 25;

interface Probe {
  httpGet?: { path?: string; port?: number | string };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name?: string; key?: string } };
}
interface Container {
  name?: string;
  image?: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  envFrom?: { secretRef?: { name?: string }; configMapRef?: { name?: string } }[];
  ports?: { name?: string; containerPort?: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers?: Container[];
  volumes?: { name: string; emptyDir?: Record<string, unknown> }[];
}
interface Trigger {
  type?: string;
  metadata?: Record<string, string>;
  authenticationRef?: { name?: string };
}
export interface Resource {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    template?: { spec?: PodSpec };
    scaleTargetRef?: { name?: string };
    minReplicaCount?: number;
    maxReplicaCount?: number;
    pollingInterval?: number;
    cooldownPeriod?: number;
    triggers?: Trigger[];
    secretTargetRef?: { parameter?: string; name?: string; key?: string }[];
  };
}

/** Every resource of the kustomization in `dir`, in file order. */
export async function loadKustomization(dir = K8S_DIR): Promise<Resource[]> {
  const kustomization = parse(await Deno.readTextFile(`${dir}/kustomization.yaml`)) as {
    resources?: string[];
  };
  const resources: Resource[] = [];
  for (const file of kustomization.resources ?? []) {
    for (const doc of parseAllDocuments(await Deno.readTextFile(`${dir}/${file}`))) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
      const value = doc.toJS() as Resource | null;
      if (value) resources.push(value);
    }
  }
  return resources;
}

/**
 * The queues a group's replicas may consume: its own, and those of Edge-placed stages that fall
 * back to it when their hosted key is unset (images without MODELSLAB_API_KEY). Counting the
 * fallback queue either way keeps a group at zero from stalling a pipeline that needs it.
 */
export function groupQueues(group: WorkerGroup): string[] {
  return PLACEMENTS.filter((p) => p.queue && (p.group === group || p.fallbackGroup === group))
    .map((p) => p.queue as string)
    .sort();
}

/** KEDA's query: messages waiting or in flight (pgmq's queue_length counts both) on these queues. */
export function queueDepthQuery(queues: readonly string[]): string {
  const list = queues.map((q) => `'${q}'`).join(", ");
  return `select coalesce(sum(queue_length), 0) from pgmq.metrics_all() where queue_name in (${list})`;
}

/** The queue names a ScaledObject's query filters on, sorted. */
export function queuesInQuery(query: string): string[] {
  const list = query.match(/queue_name\s+in\s*\(([^)]*)\)/i)?.[1] ?? "";
  return [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]).sort();
}

export function deploymentName(group: WorkerGroup): string {
  return `worker-${group}`;
}

function find(resources: Resource[], kind: string, name: string): Resource | undefined {
  return resources.find((r) => r.kind === kind && r.metadata?.name === name);
}

const SECRET_NAME = /(KEY|SECRET|PASSWORD|TOKEN|DB_URL|MNEMONIC|CONNECTION)/i;

function probePath(container: Container, probe: "livenessProbe" | "readinessProbe"): string | undefined {
  return container[probe]?.httpGet?.path;
}

/** The worker container's WORKER_DRAIN_SECONDS, or the worker's default. */
export function drainSeconds(container: Container): number {
  const value = container.env?.find((e) => e.name === "WORKER_DRAIN_SECONDS")?.value;
  return value === undefined ? DEFAULT_DRAIN_SECONDS : Number(value);
}

/** What is wrong with the manifests given the placement table: one readable line per problem. */
export function manifestProblems(resources: Resource[]): string[] {
  const problems: string[] = [];
  const groups = Object.keys(WORKER_GROUPS) as WorkerGroup[];

  for (const r of resources) {
    if (r.kind === "Secret" && (r.data || r.stringData)) {
      problems.push(`Secret ${r.metadata?.name} has values in the repository: create it outside`);
    }
  }
  for (const r of resources.filter((r) => r.kind === "Deployment" || r.kind === "ScaledObject")) {
    const name = r.metadata?.name ?? "";
    if (!groups.some((g) => deploymentName(g) === name)) {
      problems.push(`${r.kind} ${name} matches no worker group of placement.ts (${groups.join(", ")})`);
    }
  }

  for (const group of groups) {
    const name = deploymentName(group);
    const deployment = find(resources, "Deployment", name);
    const scaled = find(resources, "ScaledObject", name);
    if (!deployment) problems.push(`no Deployment ${name} for worker group "${group}"`);
    if (!scaled) problems.push(`no ScaledObject ${name} for worker group "${group}"`);

    const pod = deployment?.spec?.template?.spec;
    const container = pod?.containers?.[0];
    if (deployment && !container) problems.push(`Deployment ${name} has no container`);
    if (pod && container) {
      const args = container.args ?? [];
      const at = args.indexOf("--group");
      if (at < 0 || args[at + 1] !== group) {
        problems.push(`Deployment ${name} does not run --group ${group} (args: ${JSON.stringify(args)})`);
      }
      if (args.some((a, i) => a === "--group" && args[i + 1] !== group)) {
        problems.push(`Deployment ${name} runs another group than "${group}"`);
      }
      if (probePath(container, "livenessProbe") !== HEALTH_PATHS.liveness) {
        problems.push(`Deployment ${name}: livenessProbe must GET ${HEALTH_PATHS.liveness}`);
      }
      if (probePath(container, "readinessProbe") !== HEALTH_PATHS.readiness) {
        problems.push(`Deployment ${name}: readinessProbe must GET ${HEALTH_PATHS.readiness}`);
      }
      const grace = pod.terminationGracePeriodSeconds ?? 30;
      const drain = drainSeconds(container);
      if (!(grace > drain)) {
        problems.push(
          `Deployment ${name}: terminationGracePeriodSeconds ${grace} must exceed WORKER_DRAIN_SECONDS ${drain}`,
        );
      }
      if (pod.securityContext?.runAsNonRoot !== true) {
        problems.push(`Deployment ${name}: securityContext.runAsNonRoot must be true`);
      }
      if (container.securityContext?.readOnlyRootFilesystem !== true) {
        problems.push(`Deployment ${name}: readOnlyRootFilesystem must be true`);
      }
      const tmp = container.volumeMounts?.find((m) => m.mountPath === "/tmp");
      if (!tmp || !pod.volumes?.some((v) => v.name === tmp.name && v.emptyDir)) {
        problems.push(`Deployment ${name}: /tmp must be an emptyDir volume`);
      }
      if (!container.resources?.requests || !container.resources?.limits) {
        problems.push(`Deployment ${name}: set resource requests and limits`);
      }
      const v8Flags = container.env?.find((e) => e.name === "DENO_V8_FLAGS")?.value;
      if (group === "books" && v8Flags !== BOOKS_WORKER.v8Flags) {
        problems.push(
          `Deployment ${name}: DENO_V8_FLAGS must be "${BOOKS_WORKER.v8Flags}" (limits.ts: its memory budget), not ${
            JSON.stringify(v8Flags)
          }`,
        );
      }
      if (!container.envFrom?.some((e) => e.secretRef?.name)) {
        problems.push(`Deployment ${name}: take the worker's keys from a Secret (envFrom secretRef)`);
      }
      for (const env of container.env ?? []) {
        if (SECRET_NAME.test(env.name) && env.value !== undefined) {
          problems.push(`Deployment ${name}: ${env.name} has a literal value; use secretKeyRef`);
        }
      }
    }

    if (scaled) {
      const spec = scaled.spec ?? {};
      if (spec.scaleTargetRef?.name !== name) {
        problems.push(`ScaledObject ${name} scales ${spec.scaleTargetRef?.name}, not Deployment ${name}`);
      }
      if (spec.minReplicaCount !== 0) problems.push(`ScaledObject ${name}: minReplicaCount must be 0`);
      if (!spec.maxReplicaCount || spec.maxReplicaCount < 1) {
        problems.push(`ScaledObject ${name}: maxReplicaCount must be at least 1`);
      }
      const triggers = spec.triggers ?? [];
      const trigger = triggers.find((t) => t.type === "postgresql");
      if (!trigger || triggers.length !== 1) {
        problems.push(`ScaledObject ${name}: needs exactly one postgresql trigger`);
      } else {
        const meta = trigger.metadata ?? {};
        const want = groupQueues(group);
        const have = queuesInQuery(meta.query ?? "");
        if (JSON.stringify(have) !== JSON.stringify(want)) {
          problems.push(
            `ScaledObject ${name} counts queues [${have.join(", ")}], placement.ts gives [${
              want.join(", ")
            }]`,
          );
        }
        if (!/pgmq\.metrics_all\(\)/.test(meta.query ?? "")) {
          problems.push(`ScaledObject ${name}: the query must read pgmq.metrics_all()`);
        }
        for (const key of ["targetQueryValue", "activationTargetQueryValue"]) {
          if (typeof meta[key] !== "string" || !Number.isFinite(Number(meta[key]))) {
            problems.push(`ScaledObject ${name}: ${key} must be a quoted number`);
          }
        }
        for (const key of ["connection", "password", "connectionFromEnv", "passwordFromEnv"]) {
          if (key in meta) problems.push(`ScaledObject ${name}: ${key} belongs in the TriggerAuthentication`);
        }
        const authName = trigger.authenticationRef?.name;
        const auth = authName ? find(resources, "TriggerAuthentication", authName) : undefined;
        if (!auth) {
          problems.push(`ScaledObject ${name}: authenticationRef names no TriggerAuthentication here`);
        } else if (
          !auth.spec?.secretTargetRef?.some((s) => s.parameter === "connection" && s.name && s.key)
        ) {
          problems.push(
            `TriggerAuthentication ${authName}: take "connection" from a Secret (secretTargetRef)`,
          );
        }
      }
    }
  }
  return problems;
}
