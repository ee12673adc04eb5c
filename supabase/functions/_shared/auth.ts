/** Who is behind a request: verifies the Supabase token in Authorization (a user's, or the service role's). */
import { createRemoteJWKSet, jwtVerify, SignJWT } from "jose";
import { authSettings, LOCAL_JWT_SECRET } from "./env.ts";
import { HttpError } from "./http.ts";

let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

function bearer(req: Request): string | undefined {
  return req.headers.get("Authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
}

/** Every token must expire; a user's must also be meant for signed-in users (`aud`). */
async function verify(token: string, audience?: string): Promise<{ sub?: string; role?: unknown }> {
  const cfg = authSettings();
  const options = { requiredClaims: ["exp"], audience };
  try {
    if (cfg.jwtSecret) {
      return (await jwtVerify(token, new TextEncoder().encode(cfg.jwtSecret), options)).payload;
    }
    jwks ??= createRemoteJWKSet(new URL(`${cfg.supabaseUrl}/auth/v1/.well-known/jwks.json`));
    return (await jwtVerify(token, jwks, options)).payload;
  } catch {
    throw new HttpError(401, "the access token is invalid or expired: sign in again", "unauthorized");
  }
}

/** Constant-time comparison of two strings. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Whether the request carries the service role (its key, or a valid service_role token). */
export async function hasServiceRole(req: Request): Promise<boolean> {
  try {
    await requireServiceRole(req);
    return true;
  } catch (error) {
    if (error instanceof HttpError) return false;
    throw error;
  }
}

/**
 * Queue workers answer the service role only: the project's service role key (what the hosted
 * pg_cron job sends from Vault), or a token signed for the role service_role (the local runner's).
 */
export async function requireServiceRole(req: Request): Promise<void> {
  const token = bearer(req);
  if (!token) throw new HttpError(401, "this worker is invoked with the service role key", "unauthorized");
  const key = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY");
  if (key && sameSecret(token, key)) return;
  const payload = await verify(token);
  if (payload.role !== "service_role") {
    throw new HttpError(403, "this worker is invoked with the service role key", "forbidden");
  }
}

/**
 * The local stack's project API keys, as the Supabase CLI signs them (long-lived, the role only):
 * the same bytes every time, so a client holding one matches the local API's own.
 */
export async function localProjectKey(role: "anon" | "service_role"): Promise<string> {
  return await new SignJWT({ iss: "supabase-demo", role, exp: 1983812996 })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(LOCAL_JWT_SECRET));
}

/** A service-role token signed with the local stack's secret, as `supabase start` prints one. */
export async function localServiceRoleToken(): Promise<string> {
  return await new SignJWT({ role: "service_role", iss: "supabase-demo" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime("10y")
    .sign(new TextEncoder().encode(LOCAL_JWT_SECRET));
}

export async function requireUser(req: Request): Promise<string> {
  const token = bearer(req);
  if (!token) {
    throw new HttpError(
      401,
      "sign in: send the user's access token as Authorization: Bearer <token>",
      "unauthorized",
    );
  }
  const payload = await verify(token, "authenticated");
  if (payload.role !== "authenticated" || !payload.sub) {
    throw new HttpError(403, "this endpoint is for signed-in users", "forbidden");
  }
  return payload.sub;
}
