/** What can be checked of worker/Containerfile without building it. */
import { WORKER_PERMISSIONS } from "./permissions.ts";
import assert from "node:assert/strict";
import { loadKustomization } from "../deploy/k8s/manifests.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CONTAINERFILE = await Deno.readTextFile(`${ROOT}worker/Containerfile`);
/** Instructions with their continuation lines joined, comments dropped. */
const INSTRUCTIONS = CONTAINERFILE.replace(/\\\n/g, " ")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"));

function instructions(keyword: string): string[] {
  return INSTRUCTIONS.filter((i) => i.toUpperCase().startsWith(`${keyword} `)).map((i) =>
    i.slice(keyword.length + 1).trim()
  );
}

function entrypoint(): string[] {
  const [json] = instructions("ENTRYPOINT");
  assert.ok(json, "the Containerfile has an ENTRYPOINT");
  return JSON.parse(json) as string[];
}

/** `name=version` pins of the runtime stage's apt-get install. */
function aptPins(): { name: string; version: string }[] {
  const install = instructions("RUN").find((r) => r.includes("apt-get install"));
  assert.ok(install, "the image installs its tools with apt-get");
  const command = install.slice(install.indexOf("apt-get install")).split("&&")[0];
  const after = command.split(/\s+/).slice(2).filter((w) => w && !w.startsWith("-"));
  return after.map((w) => {
    const [name, version] = w.split("=");
    return { name, version };
  });
}

Deno.test("Containerfile: base images pinned to an exact tag or digest; the runtime is Debian bookworm", () => {
  const froms = instructions("FROM").map((f) => f.split(/\s+/)[0]);
  assert.ok(froms.length >= 1);
  for (const image of froms) {
    assert.match(image, /(@sha256:[0-9a-f]{64}|:[a-z-]*\d+\.\d+[\w.-]*)$/, `${image} is pinned`);
  }
  assert.match(froms.at(-1)!, /debian:(12\.\d+-slim|bookworm-\d{8}-slim)(@sha256:[0-9a-f]{64})?$/);
});

Deno.test("Containerfile: Deno is package.json's version", async () => {
  const pkg = JSON.parse(await Deno.readTextFile(`${ROOT}package.json`)) as {
    devDependencies: Record<string, string>;
  };
  const arg = instructions("ARG").find((a) => a.startsWith("DENO_VERSION="));
  assert.equal(arg, `DENO_VERSION=${pkg.devDependencies.deno}`);
  assert.match(CONTAINERFILE, /npm install [^\n]*"deno@\$\{DENO_VERSION\}"/);
});

Deno.test("Containerfile: runs as the non-root user the Deployments require", async () => {
  const users = instructions("USER");
  assert.equal(users.length, 1);
  const [uid, gid] = users[0].split(":").map(Number);
  assert.ok(uid > 0 && gid > 0, `USER ${users[0]} is numeric and not root`);
  for (const r of (await loadKustomization()).filter((r) => r.kind === "Deployment")) {
    const pod = r.spec?.template?.spec as { securityContext?: { runAsUser?: number; runAsGroup?: number } };
    assert.equal(pod.securityContext?.runAsUser, uid, `${r.metadata?.name} runs as the image's user`);
    assert.equal(pod.securityContext?.runAsGroup, gid);
  }
  // The user comes after the build steps that need root.
  const userAt = INSTRUCTIONS.findIndex((i) => i.startsWith("USER "));
  assert.ok(INSTRUCTIONS.slice(userAt).every((i) => !/apt-get|useradd|chmod/.test(i)));
});

Deno.test("Containerfile: the entry is worker/main.ts with the worker's permissions, cached at build time", async () => {
  const entry = entrypoint();
  const script = entry.at(-1)!;
  assert.equal(script, "worker/main.ts");
  const stat = await Deno.stat(`${ROOT}${script}`).catch(() => undefined);
  assert.ok(stat?.isFile, `${script}, the image's entry, exists in the repository`);
  assert.deepEqual(entry.slice(0, 4), ["/usr/bin/tini", "--", "deno", "run"]);
  for (const flag of ["--cached-only", ...WORKER_PERMISSIONS]) {
    assert.ok(entry.includes(flag), `the entry runs with ${flag}`);
  }
  assert.ok(!entry.includes("--allow-all") && !entry.includes("-A"));
  assert.ok(instructions("RUN").some((r) => r.startsWith(`deno cache`) && r.includes(script)));
  // What the build copies is in the build context.
  const ignore = await Deno.readTextFile(`${ROOT}.dockerignore`);
  for (const copy of instructions("COPY").filter((c) => !c.startsWith("--from"))) {
    for (const source of copy.split(/\s+/).slice(0, -1)) {
      assert.ok(ignore.includes(`!${source}`), `.dockerignore lets ${source} into the build context`);
    }
  }
});

Deno.test("Containerfile: installs ffmpeg, espeak-ng, the DejaVu fonts and an init, each at a pinned version", () => {
  const pins = aptPins();
  assert.deepEqual(pins.map((p) => p.name).sort(), ["espeak-ng", "ffmpeg", "fonts-dejavu-core", "tini"]);
  for (const pin of pins) assert.ok(pin.version, `${pin.name} has a version`);
  assert.match(CONTAINERFILE, /--no-install-recommends/);
  assert.match(CONTAINERFILE, /DejaVuSans\.ttf/);
});

// Whether the pins are in Debian's archive, from this machine's apt lists when they are Debian's.
async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return { ok: out.success, out: new TextDecoder().decode(out.stdout) };
  } catch {
    return { ok: false, out: "" };
  }
}

/** version -> where apt has it (archive URLs, or /var/lib/dpkg/status for an installed one). */
function versionTable(policy: string): Map<string, string[]> {
  const table = new Map<string, string[]>();
  let current: string | undefined;
  for (
    const line of policy.split("\n").slice(policy.split("\n").findIndex((l) => /Version table/.test(l)) + 1)
  ) {
    const version = line.match(/^\s+(?:\*\*\* )?(\S+) \d+$/);
    const source = line.match(/^\s+\d+ (\S+)/);
    if (version) table.set(current = version[1], []);
    else if (source && current) table.get(current)!.push(source[1]);
  }
  return table;
}

async function olderThan(a: string, b: string): Promise<boolean> {
  return (await run("dpkg", ["--compare-versions", a, "lt", b])).ok;
}

const osRelease = await Deno.readTextFile("/etc/os-release").catch(() => "");
const codename = osRelease.match(/^VERSION_CODENAME=(\S+)/m)?.[1];
const aptCache = (await run("apt-cache", ["--version"])).ok;

for (const pin of aptPins()) {
  const policy = aptCache && codename === "bookworm"
    ? (await run("apt-cache", ["policy", pin.name])).out
    : "";
  const table = versionTable(policy);
  const archived = [...table].filter(([, sources]) => sources.some((s) => /^(https?|file):/.test(s)));
  let skip = "";
  if (!aptCache) skip = "apt-cache not found";
  else if (codename !== "bookworm") skip = `apt here serves ${codename}, the image bookworm`;
  else if (archived.length === 0) skip = `apt lists have no ${pin.name}: run apt-get update`;
  else if (
    !archived.some(([v]) => v === pin.version) &&
    (await Promise.all(archived.map(([v]) => olderThan(v, pin.version)))).every(Boolean)
  ) skip = `apt lists are older than ${pin.name} ${pin.version}: run apt-get update`;

  Deno.test({
    name: `Containerfile: ${pin.name}=${pin.version} is in Debian's archive${
      skip ? ` (skipped: ${skip})` : ""
    }`,
    ignore: skip !== "",
    fn: () => {
      const have = archived.map(([v]) => v).join(", ");
      assert.ok(
        archived.some(([v]) => v === pin.version),
        `${pin.name}=${pin.version} is gone from the archive (apt has ${have}): update worker/Containerfile`,
      );
    },
  });
}
