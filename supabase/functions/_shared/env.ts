/** Configuration, read once from the environment with a clear error for anything missing. */

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface Config {
  /** Direct Postgres connection; hosted Edge Functions receive SUPABASE_DB_URL. */
  databaseUrl: string;
  /** Base URL of the Supabase API (used to build public Storage URLs). */
  supabaseUrl: string;
  /** Folder where the local Storage adapter keeps objects. */
  localStorageDir: string;
  /** `local` (a folder, recorded in storage.objects) or `supabase` (Storage API with the service key). */
  storageBackend: "local" | "supabase";
  serviceRoleKey?: string;
  /** Verifies users' access tokens (HS256); without it, the project's JWKS is used. */
  jwtSecret?: string;
  openaiApiKey?: string;
  openrouterApiKey?: string;
  elevenlabsApiKey?: string;
  modelslabApiKey?: string;
  /** Where each hosted provider's API is (defaults: the vendors' own); a gateway or a test server. */
  providerBaseUrls: { openai?: string; openrouter?: string; elevenlabs?: string; modelslab?: string };
  stripeSecretKey?: string;
  stripeWebhookSecret?: string;
  /** Where Stripe's API is (default: Stripe's own); a gateway or a test server. */
  stripeApiBase?: string;
  /** The web app's base URL, for Stripe's success, cancel and return links. */
  appUrl: string;
  /** How long one invocation of a queue worker keeps reading (hosted functions have a wall clock). */
  workerBudgetSeconds: number;
  /** How long a worker waits for a message before reading again (long-polling). */
  workerPollSeconds: number;
  /**
   * CPU an Edge invocation of a queue worker may use before it stops taking messages: hosted Edge
   * Functions stop a request at 2 s of CPU, and the units in work still need theirs.
   */
  workerCpuBudgetMs: number;
  /** Messages an Edge invocation of a queue worker takes at most (Edge Runtime has no CPU clock). */
  workerMaxMessages: number;
}

function nonNegative(env: Env, name: string, fallback: number, unit: string): number {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) {
    throw new ConfigError(`${name} must be a number of ${unit}, not "${value}"`);
  }
  return parsed;
}

function seconds(env: Env, name: string, fallback: number): number {
  return nonNegative(env, name, fallback, "seconds");
}

type Env = Pick<typeof Deno.env, "get">;

function optional(env: Env, name: string): string | undefined {
  const value = env.get(name)?.trim();
  return value ? value : undefined;
}

function required(env: Env, name: string, hint: string): string {
  const value = optional(env, name);
  if (!value) throw new ConfigError(`missing environment variable ${name}: ${hint}`);
  return value;
}

function storageBackend(env: Env): "local" | "supabase" {
  const chosen = optional(env, "STORAGE_BACKEND") ??
    (optional(env, "SUPABASE_SERVICE_ROLE_KEY") ? "supabase" : "local");
  if (chosen !== "local" && chosen !== "supabase") {
    throw new ConfigError(`STORAGE_BACKEND must be "local" or "supabase", not "${chosen}"`);
  }
  if (chosen === "supabase" && !optional(env, "SUPABASE_SERVICE_ROLE_KEY")) {
    throw new ConfigError(
      "missing environment variable SUPABASE_SERVICE_ROLE_KEY: needed for STORAGE_BACKEND=supabase",
    );
  }
  return chosen;
}

/** The JWT secret every local Supabase stack uses (`supabase start` prints it too). */
export const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";

/** Only an explicit loopback SUPABASE_URL means the local stack (an unset one does not). */
export function isLocal(env: Env = Deno.env): boolean {
  return /^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(optional(env, "SUPABASE_URL") ?? "");
}

/** What verifying access tokens needs, without the rest of the configuration. */
export function authSettings(env: Env = Deno.env): { supabaseUrl: string; jwtSecret?: string } {
  return {
    supabaseUrl: optional(env, "SUPABASE_URL") ?? "http://127.0.0.1:54321",
    jwtSecret: optional(env, "SUPABASE_JWT_SECRET") ?? (isLocal(env) ? LOCAL_JWT_SECRET : undefined),
  };
}

export function loadConfig(env: Env = Deno.env): Config {
  return {
    databaseUrl: required(
      env,
      "SUPABASE_DB_URL",
      "set it to the Postgres URL (npm run stack -- status prints DB_URL)",
    ),
    supabaseUrl: optional(env, "SUPABASE_URL") ?? "http://127.0.0.1:54321",
    localStorageDir: optional(env, "LOCAL_STORAGE_DIR") ?? ".stack/storage",
    storageBackend: storageBackend(env),
    serviceRoleKey: optional(env, "SUPABASE_SERVICE_ROLE_KEY"),
    jwtSecret: authSettings(env).jwtSecret,
    openaiApiKey: optional(env, "OPENAI_API_KEY"),
    openrouterApiKey: optional(env, "OPENROUTER_API_KEY"),
    elevenlabsApiKey: optional(env, "ELEVENLABS_API_KEY"),
    modelslabApiKey: optional(env, "MODELSLAB_API_KEY"),
    providerBaseUrls: {
      openai: optional(env, "OPENAI_BASE_URL"),
      openrouter: optional(env, "OPENROUTER_BASE_URL"),
      elevenlabs: optional(env, "ELEVENLABS_BASE_URL"),
      modelslab: optional(env, "MODELSLAB_BASE_URL"),
    },
    stripeSecretKey: optional(env, "STRIPE_SECRET_KEY"),
    stripeWebhookSecret: optional(env, "STRIPE_WEBHOOK_SECRET"),
    stripeApiBase: optional(env, "STRIPE_API_BASE"),
    appUrl: optional(env, "APP_URL") ?? "http://localhost:3000",
    workerBudgetSeconds: seconds(env, "WORKER_BUDGET_SECONDS", 50),
    workerPollSeconds: seconds(env, "WORKER_POLL_SECONDS", 5),
    workerCpuBudgetMs: nonNegative(env, "WORKER_CPU_BUDGET_MS", 1000, "milliseconds"),
    workerMaxMessages: nonNegative(env, "WORKER_MAX_MESSAGES", 3, "messages"),
  };
}

let cached: Config | undefined;

/** The process-wide configuration, read on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
