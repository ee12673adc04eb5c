/**
 * Sessions as GoTrue keeps them: a row in auth.sessions per sign-in, a chain of rotating refresh
 * tokens in auth.refresh_tokens, and short-lived access tokens with Supabase's claims.
 *
 * Refresh token reuse follows GoTrue: a used token that is the parent of the session's active token
 * returns that active token (a client that lost the answer retries); another used token still works
 * for REFRESH_TOKEN_REUSE_SECONDS after it was used; after that it is refused with
 * `refresh_token_already_used` and every token of its session is revoked.
 */
import { SignJWT } from "jose";
import type { Sql } from "../../../supabase/functions/_shared/db.ts";
import { type ApiContext, jwtSecret } from "../context.ts";
import { AuthError } from "./errors.ts";

const ACCESS_TOKEN_SECONDS = 3600;
/** GoTrue's refresh_token_reuse_interval as `supabase start` configures it. */
const REFRESH_TOKEN_REUSE_SECONDS = 10;
export const INSTANCE_ID = "00000000-0000-0000-0000-000000000000";

/** auth.users as this module reads it. */
export interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  phone: string | null;
  email_confirmed_at: Date | null;
  phone_confirmed_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  is_anonymous: boolean;
  banned_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

interface SessionRow {
  id: string;
  created_at: Date;
}

/**
 * The user as GoTrue serializes it. The email identity is derived from the user row: there is no
 * auth.identities table, so the identity's id is the user's.
 */
export function userJson(user: UserRow) {
  const identityData = {
    email: user.email,
    email_verified: user.email_confirmed_at !== null,
    phone_verified: false,
    sub: user.id,
  };
  return {
    id: user.id,
    aud: user.aud ?? "",
    role: user.role ?? "",
    email: user.email ?? "",
    email_confirmed_at: user.email_confirmed_at ?? undefined,
    phone: user.phone ?? "",
    confirmed_at: user.email_confirmed_at ?? user.phone_confirmed_at ?? undefined,
    last_sign_in_at: user.last_sign_in_at ?? undefined,
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    identities: user.email
      ? [{
        identity_id: user.id,
        id: user.id,
        user_id: user.id,
        identity_data: identityData,
        provider: "email",
        last_sign_in_at: user.last_sign_in_at ?? undefined,
        created_at: user.created_at,
        updated_at: user.updated_at,
        email: user.email,
      }]
      : [],
    created_at: user.created_at,
    updated_at: user.updated_at,
    is_anonymous: user.is_anonymous,
  };
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** The session answer: an access token with Supabase's claims, the refresh token and the user. */
async function tokenResponse(ctx: ApiContext, user: UserRow, session: SessionRow, refreshToken: string) {
  const issuedAt = Math.floor(Date.now() / 1000);
  const expiresAt = issuedAt + ACCESS_TOKEN_SECONDS;
  const accessToken = await new SignJWT({
    iss: `${ctx.publicUrl}/auth/v1`,
    sub: user.id,
    aud: user.aud ?? "authenticated",
    exp: expiresAt,
    iat: issuedAt,
    email: user.email ?? "",
    phone: user.phone ?? "",
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    role: user.role ?? "authenticated",
    aal: "aal1",
    amr: [{ method: "password", timestamp: seconds(session.created_at) }],
    session_id: session.id,
    is_anonymous: user.is_anonymous,
  }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(jwtSecret);
  return {
    access_token: accessToken,
    token_type: "bearer",
    expires_in: ACCESS_TOKEN_SECONDS,
    expires_at: expiresAt,
    refresh_token: refreshToken,
    user: userJson(user),
  };
}

/** A refresh token as GoTrue makes them: 12 random lowercase letters and digits. */
function newRefreshToken(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let token = "";
  while (token.length < 12) {
    for (const byte of crypto.getRandomValues(new Uint8Array(16))) {
      // 252 is the largest multiple of 36 below 256: every character equally likely.
      if (byte < 252 && token.length < 12) token += alphabet[byte % alphabet.length];
    }
  }
  return token;
}

async function insertRefreshToken(tx: Sql, userId: string, sessionId: string, parent: string | null) {
  const token = newRefreshToken();
  await tx`
    insert into auth.refresh_tokens
      (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
    values (${INSTANCE_ID}, ${token}, ${userId}, false, now(), now(), ${parent}, ${sessionId})`;
  return token;
}

/** Signs the user in: last_sign_in_at, a new session and its first refresh token. */
export async function startSession(tx: Sql, ctx: ApiContext, req: Request, userId: string) {
  const [user] = await tx<UserRow[]>`
    update auth.users set last_sign_in_at = now() where id = ${userId} returning *`;
  const [session] = await tx<SessionRow[]>`
    insert into auth.sessions (id, user_id, created_at, updated_at, user_agent)
    values (gen_random_uuid(), ${userId}, now(), now(), ${req.headers.get("User-Agent")})
    returning id, created_at`;
  return await tokenResponse(ctx, user, session, await insertRefreshToken(tx, userId, session.id, null));
}

/** A refused reuse still revokes the session's tokens, so the transaction commits before the error. */
class RefreshTokenReused {}

/** Exchanges a refresh token for a new session answer (see the reuse rule above). */
export async function refreshSession(ctx: ApiContext, presented: string) {
  const result = await ctx.sql.begin(async (tx) => {
    // Locking the session serializes concurrent refreshes of one session.
    const [used] = await tx<
      {
        token: string;
        revoked: boolean;
        updated_at: Date;
        session_id: string;
        session_created_at: Date;
        user_id: string;
      }[]
    >`
      select rt.token, rt.revoked, rt.updated_at,
             s.id as session_id, s.created_at as session_created_at, s.user_id
      from auth.refresh_tokens rt join auth.sessions s on s.id = rt.session_id
      where rt.token = ${presented}
      for update of s`;
    if (!used) {
      throw new AuthError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    }
    const [user] = await tx<UserRow[]>`select * from auth.users where id = ${used.user_id}`;
    if (user.banned_until && user.banned_until > new Date()) {
      throw new AuthError(400, "user_banned", "Invalid Refresh Token: User Banned");
    }
    let issued: string | undefined;
    if (used.revoked) {
      const [active] = await tx<{ token: string; parent: string | null }[]>`
        select token, parent from auth.refresh_tokens
        where session_id = ${used.session_id} and revoked = false order by id desc limit 1`;
      if (active?.parent === presented) {
        issued = active.token;
      } else if (Date.now() > used.updated_at.getTime() + REFRESH_TOKEN_REUSE_SECONDS * 1000) {
        await tx`
          update auth.refresh_tokens set revoked = true, updated_at = now()
          where session_id = ${used.session_id} and revoked = false`;
        return new RefreshTokenReused();
      }
    }
    if (!issued) {
      await tx`
        update auth.refresh_tokens set revoked = true, updated_at = now()
        where token = ${presented} and revoked = false`;
      issued = await insertRefreshToken(tx as unknown as Sql, user.id, used.session_id, presented);
    }
    await tx`
      update auth.sessions set refreshed_at = now() at time zone 'utc', updated_at = now()
      where id = ${used.session_id}`;
    return await tokenResponse(
      ctx,
      user,
      { id: used.session_id, created_at: used.session_created_at },
      issued,
    );
  });
  if (result instanceof RefreshTokenReused) {
    throw new AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
  }
  return result;
}
