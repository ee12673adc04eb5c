/** The signed-in user behind a request: verifies the Supabase access token in Authorization. */
import { createRemoteJWKSet, jwtVerify } from "jose";
import { authSettings } from "./env.ts";
import { HttpError } from "./http.ts";

let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

export async function requireUser(req: Request): Promise<string> {
  const token = req.headers.get("Authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
  if (!token) {
    throw new HttpError(
      401,
      "sign in: send the user's access token as Authorization: Bearer <token>",
      "unauthorized",
    );
  }
  const cfg = authSettings();
  let payload: { sub?: string; role?: unknown };
  try {
    if (cfg.jwtSecret) {
      ({ payload } = await jwtVerify(token, new TextEncoder().encode(cfg.jwtSecret)));
    } else {
      jwks ??= createRemoteJWKSet(new URL(`${cfg.supabaseUrl}/auth/v1/.well-known/jwks.json`));
      ({ payload } = await jwtVerify(token, jwks));
    }
  } catch {
    throw new HttpError(401, "the access token is invalid or expired: sign in again", "unauthorized");
  }
  if (payload.role !== "authenticated" || !payload.sub) {
    throw new HttpError(403, "this endpoint is for signed-in users", "forbidden");
  }
  return payload.sub;
}
