/**
 * Auth's admin API (GoTrue's /auth/v1/admin) with the service role: deleting a user, which takes
 * every row of theirs with it (everything cascades from auth.users).
 */
import { localProjectKey } from "./auth.ts";
import { config, ConfigError, isLocal } from "./env.ts";
import { errorForStatus } from "./errors.ts";

export interface AuthAdmin {
  /** Deletes the user for good; one that is not there (deleted already) is no error. */
  deleteUser(userId: string): Promise<void>;
}

export class GoTrueAdmin implements AuthAdmin {
  constructor(private baseUrl: string, private serviceKey: string) {}

  async deleteUser(userId: string): Promise<void> {
    const url = `${this.baseUrl.replace(/\/$/, "")}/auth/v1/admin/users/${encodeURIComponent(userId)}`;
    const res = await fetch(url, {
      method: "DELETE",
      // As supabase-js sends it: the key to the gateway, and as the bearer Auth checks for an admin role.
      headers: {
        apikey: this.serviceKey,
        Authorization: `Bearer ${this.serviceKey}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ should_soft_delete: false }),
    });
    const body = await res.text();
    // 404 is Auth's "User not found": gone already (the caller checks in the database that it is).
    if (res.ok || res.status === 404) return;
    throw errorForStatus("Auth's admin API", res.status, body);
  }
}

let admin: AuthAdmin | undefined;

/**
 * Auth's admin API at SUPABASE_URL with SUPABASE_SERVICE_ROLE_KEY (hosted Edge Functions have both);
 * on the local stack (a loopback SUPABASE_URL) its well-known service role key.
 */
export async function configuredAuthAdmin(): Promise<AuthAdmin> {
  if (admin) return admin;
  const cfg = config();
  const key = cfg.serviceRoleKey ?? (isLocal() ? await localProjectKey("service_role") : undefined);
  if (!key) {
    throw new ConfigError(
      "missing environment variable SUPABASE_SERVICE_ROLE_KEY: deleting accounts needs Auth's admin API",
    );
  }
  admin = new GoTrueAdmin(cfg.supabaseUrl, key);
  return admin;
}
