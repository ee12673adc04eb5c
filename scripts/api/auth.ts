/**
 * Auth under /auth/v1, answering what supabase-js's auth-js sends as GoTrue answers it on the local
 * stack: email sign-up (autoconfirmed, returns a session), password sign-in, refresh with rotating
 * refresh tokens (see ./auth/sessions.ts), the user's own record (get, update metadata and password),
 * sign-out, and the admin API's user deletion (the service role). Users live in auth.users with
 * GoTrue's columns; passwords are bcrypt hashes made by pgcrypto.
 */
import { jwtVerify } from "jose";
import type { Json, Sql } from "../../supabase/functions/_shared/db.ts";
import { AuthError, authErrorResponse } from "./auth/errors.ts";
import { INSTANCE_ID, refreshSession, startSession, userJson, type UserRow } from "./auth/sessions.ts";
import {
  type ApiContext,
  ApiError,
  bearerToken,
  json,
  jwtSecret,
  payloadTooLarge,
  readBoundedText,
  requireApiKey,
  type Service,
} from "./context.ts";

const MIN_PASSWORD_LENGTH = 6;
/** bcrypt reads no further. */
const MAX_PASSWORD_LENGTH = 72;
/** GoTrue's bcrypt cost. */
const BCRYPT_COST = 10;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Handler = (req: Request, ctx: ApiContext) => Promise<Response | null>;

const ROUTES: Record<string, Handler> = {
  "POST /signup": signUp,
  "POST /token": token,
  "GET /user": getUser,
  "PUT /user": updateUser,
  "POST /logout": logout,
  "GET /settings": settings,
  "GET /health": health,
};

/** The admin API's routes with a user id in the path: `/admin/users/<id>`. */
const ADMIN_USER = /^\/admin\/users\/([^/]+)$/;
const ADMIN_USER_ROUTES: Record<
  string,
  (req: Request, ctx: ApiContext, userId: string) => Promise<Response>
> = {
  GET: adminGetUser,
  DELETE: adminDeleteUser,
};

export const auth: Service = async (req, ctx) => {
  const path = new URL(req.url).pathname.slice("/auth/v1".length);
  const adminUser = ADMIN_USER.exec(path);
  const adminRoute = adminUser ? ADMIN_USER_ROUTES[req.method] : undefined;
  const route: Handler | undefined = adminRoute
    ? (req, ctx) => adminRoute(req, ctx, decodeURIComponent(adminUser![1]))
    : ROUTES[`${req.method} ${path}`];
  if (!route) return null;
  requireApiKey(req);
  try {
    return await route(req, ctx);
  } catch (error) {
    if (error instanceof AuthError) return authErrorResponse(req, error);
    throw error;
  }
};

/**
 * A cap on request bodies. GoTrue has no fixed one of its own; its requests are a few fields, so
 * 1 MiB is ample and keeps one request from filling the memory.
 */
const JSON_BODY_LIMIT = 1024 * 1024;

async function readJson(req: Request): Promise<Record<string, unknown>> {
  const text = await readBoundedText(req, JSON_BODY_LIMIT, () => payloadTooLarge(JSON_BODY_LIMIT));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new AuthError(400, "bad_json", `Could not parse request body as JSON: ${(error as Error).message}`);
  }
  if (!isObject(body)) {
    throw new AuthError(400, "bad_json", "Could not parse request body as JSON: not an object");
  }
  return body;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function validEmail(value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new AuthError(400, "validation_failed", "An email address is required");
  }
  if (value.length > 255) throw new AuthError(400, "validation_failed", "An email address is too long");
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
    throw new AuthError(400, "validation_failed", "Unable to validate email address: invalid format");
  }
  return value.toLowerCase();
}

function checkPasswordStrength(password: string): void {
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new AuthError(
      400,
      "validation_failed",
      `Password cannot be longer than ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
  if (password.length < MIN_PASSWORD_LENGTH) {
    const message = `Password should be at least ${MIN_PASSWORD_LENGTH} characters.`;
    throw new AuthError(422, "weak_password", message, ["length"]);
  }
}

async function signUp(req: Request, ctx: ApiContext): Promise<Response> {
  const body = await readJson(req);
  if (body.phone) throw new AuthError(400, "phone_provider_disabled", "Phone signups are disabled");
  const email = validEmail(body.email);
  if (typeof body.password !== "string" || body.password === "") {
    throw new AuthError(400, "validation_failed", "Signup requires a valid password");
  }
  const password = body.password;
  checkPasswordStrength(password);
  const id = crypto.randomUUID();
  // GoTrue keeps the email identity's claims in the user metadata, next to what the client sent.
  const userMetadata = {
    ...(isObject(body.data) ? body.data : {}),
    sub: id,
    email,
    email_verified: true,
    phone_verified: false,
  };
  const appMetadata = { provider: "email", providers: ["email"] };
  try {
    return json(
      await ctx.sql.begin(async (tx) => {
        const [taken] = await tx`select 1 from auth.users where lower(email) = ${email}`;
        if (taken) throw new AuthError(422, "user_already_exists", "User already registered");
        // The insert fires the project's trigger that creates the profile (named from the metadata).
        await tx`
          insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                                  raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
          values (${INSTANCE_ID}, ${id}, 'authenticated', 'authenticated', ${email},
                  extensions.crypt(${password}, extensions.gen_salt('bf', ${BCRYPT_COST})), now(),
                  ${tx.json(appMetadata)}, ${tx.json(userMetadata)}, now(), now())`;
        return await startSession(tx as unknown as Sql, ctx, req, id);
      }),
    );
  } catch (error) {
    // Two sign-ups of one address at once: the unique index decides.
    if ((error as { code?: string }).code === "23505") {
      throw new AuthError(422, "user_already_exists", "User already registered");
    }
    throw error;
  }
}

async function token(req: Request, ctx: ApiContext): Promise<Response | null> {
  const grantType = new URL(req.url).searchParams.get("grant_type");
  if (grantType === "password") return await passwordGrant(req, ctx);
  if (grantType === "refresh_token") return await refreshTokenGrant(req, ctx);
  return null;
}

async function passwordGrant(req: Request, ctx: ApiContext): Promise<Response> {
  const body = await readJson(req);
  if (body.phone) throw new AuthError(422, "phone_provider_disabled", "Phone logins are disabled");
  if (typeof body.email !== "string" || body.email === "") {
    throw new AuthError(400, "validation_failed", "missing email or phone");
  }
  const password = typeof body.password === "string" ? body.password : "";
  return json(
    await ctx.sql.begin(async (tx) => {
      const [user] = await tx<(UserRow & { password_matches: boolean })[]>`
        select *, coalesce(encrypted_password = extensions.crypt(${password}, encrypted_password), false)
                    as password_matches
        from auth.users where lower(email) = lower(${body.email as string}) and deleted_at is null`;
      if (!user?.password_matches) {
        throw new AuthError(400, "invalid_credentials", "Invalid login credentials");
      }
      if (user.banned_until && user.banned_until > new Date()) {
        throw new AuthError(400, "user_banned", "User is banned");
      }
      if (!user.email_confirmed_at) throw new AuthError(400, "email_not_confirmed", "Email not confirmed");
      return await startSession(tx as unknown as Sql, ctx, req, user.id);
    }),
  );
}

async function refreshTokenGrant(req: Request, ctx: ApiContext): Promise<Response> {
  const { refresh_token: presented } = await readJson(req);
  if (typeof presented !== "string" || presented === "") {
    throw new AuthError(400, "validation_failed", "refresh_token required");
  }
  return json(await refreshSession(ctx, presented));
}

/** The bearer token's claims, checked as GoTrue checks them: present, signed and not expired. */
async function bearerClaims(req: Request): Promise<Record<string, unknown>> {
  const token = bearerToken(req);
  if (!token) throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
  try {
    return (await jwtVerify(token, jwtSecret)).payload;
  } catch (error) {
    throw new AuthError(
      403,
      "bad_jwt",
      `invalid JWT: unable to parse or verify signature, ${(error as Error).message}`,
    );
  }
}

/** GoTrue's check of the bearer token: a valid access token of an existing user and session. */
async function authenticate(req: Request, sql: Sql): Promise<{ user: UserRow; sessionId?: string }> {
  const claims = await bearerClaims(req);
  if (typeof claims.sub !== "string" || claims.sub === "") {
    throw new AuthError(403, "bad_jwt", "invalid claim: missing sub claim");
  }
  if (!UUID.test(claims.sub)) throw new AuthError(400, "bad_jwt", "invalid claim: sub claim must be a UUID");
  const [user] = await sql<UserRow[]>`select * from auth.users where id = ${claims.sub}`;
  if (!user) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
  const sessionId = typeof claims.session_id === "string" ? claims.session_id : undefined;
  if (sessionId !== undefined) {
    const [session] = UUID.test(sessionId)
      ? await sql`select 1 from auth.sessions where id = ${sessionId}`
      : [];
    if (!session) {
      throw new AuthError(403, "session_not_found", "Session from session_id claim in JWT does not exist");
    }
  }
  return { user, sessionId };
}

async function getUser(req: Request, ctx: ApiContext): Promise<Response> {
  const { user } = await authenticate(req, ctx.sql);
  return json(userJson(user));
}

/** Updates the user's metadata (`data`, null removes a key) and password; email and phone stay. */
async function updateUser(req: Request, ctx: ApiContext): Promise<Response> {
  const { user, sessionId } = await authenticate(req, ctx.sql);
  const body = await readJson(req);
  if (body.app_metadata !== undefined) {
    throw new AuthError(403, "not_admin", "Updating app_metadata requires admin privileges");
  }
  if ((body.email && body.email !== user.email) || (body.phone && body.phone !== (user.phone ?? ""))) {
    throw new ApiError(501, { message: "changing the email or phone is not part of the local Auth" });
  }
  const password = typeof body.password === "string" && body.password !== "" ? body.password : undefined;
  if (password !== undefined) checkPasswordStrength(password);
  const updated = await ctx.sql.begin(async (tx) => {
    if (isObject(body.data)) {
      const metadata = { ...user.raw_user_meta_data };
      for (const [key, value] of Object.entries(body.data)) {
        if (value === null) delete metadata[key];
        else metadata[key] = value;
      }
      await tx`update auth.users set raw_user_meta_data = ${tx.json(metadata as Json)} where id = ${user.id}`;
    }
    if (password !== undefined) {
      const [{ same }] = await tx`
        select coalesce(encrypted_password = extensions.crypt(${password}, encrypted_password), false) as same
        from auth.users where id = ${user.id}`;
      if (same) {
        throw new AuthError(422, "same_password", "New password should be different from the old password.");
      }
      await tx`
        update auth.users
        set encrypted_password = extensions.crypt(${password}, extensions.gen_salt('bf', ${BCRYPT_COST}))
        where id = ${user.id}`;
      // A new password signs the user out everywhere else.
      const current = sessionId ?? null;
      await tx`delete from auth.sessions where user_id = ${user.id} and id is distinct from ${current}`;
    }
    const [row] = await tx<UserRow[]>`
      update auth.users set updated_at = now() where id = ${user.id} returning *`;
    return row;
  });
  return json(userJson(updated));
}

/** Ends the caller's session (local), their other sessions (others) or all of them (global). */
async function logout(req: Request, ctx: ApiContext): Promise<Response> {
  const { user, sessionId } = await authenticate(req, ctx.sql);
  const scope = new URL(req.url).searchParams.get("scope") ?? "global";
  if (!["global", "local", "others"].includes(scope)) {
    throw new AuthError(400, "validation_failed", `Unsupported logout scope "${scope}"`);
  }
  if (scope === "local" && sessionId) {
    await ctx.sql`delete from auth.sessions where id = ${sessionId}`;
  } else if (scope === "others" && sessionId) {
    await ctx.sql`delete from auth.sessions where user_id = ${user.id} and id <> ${sessionId}`;
  } else {
    // Global, or a token without a session: every session goes (with its refresh tokens).
    await ctx.sql`delete from auth.sessions where user_id = ${user.id}`;
  }
  return new Response(null, { status: 204 });
}

/** The local stack's settings: email sign-up with autoconfirm, nothing else. */
function settings(): Promise<Response> {
  return Promise.resolve(json({
    external: { anonymous_users: false, email: true, phone: false },
    disable_signup: false,
    mailer_autoconfirm: true,
    phone_autoconfirm: false,
    sms_provider: "",
    saml_enabled: false,
  }));
}

function health(): Promise<Response> {
  return Promise.resolve(json({
    version: "local",
    name: "GoTrue",
    description: "GoTrue is a user registration and authentication API",
  }));
}

/**
 * GoTrue's admin check: a valid token whose role is one of its admin roles (service_role,
 * supabase_admin), as the project's service role key is.
 */
async function requireAdmin(req: Request): Promise<void> {
  const claims = await bearerClaims(req);
  if (claims.role !== "service_role" && claims.role !== "supabase_admin") {
    throw new AuthError(403, "not_admin", "User not allowed");
  }
}

/** GoTrue's admin check, then the user the path names: 400 for a malformed id, 404 for an unknown one. */
async function adminTarget(req: Request, ctx: ApiContext, userId: string): Promise<UserRow> {
  await requireAdmin(req);
  if (!UUID.test(userId)) throw new AuthError(400, "validation_failed", "user_id must be an UUID");
  const [user] = await ctx.sql<UserRow[]>`select * from auth.users where id = ${userId}`;
  if (!user) throw new AuthError(404, "user_not_found", "User not found");
  return user;
}

/** `auth.admin.getUserById` (supabase-js also calls it before a deletion, to answer with the user). */
async function adminGetUser(req: Request, ctx: ApiContext, userId: string): Promise<Response> {
  return json(userJson(await adminTarget(req, ctx, userId)));
}

/**
 * Deletes a user for good, as GoTrue's admin API does (`auth.admin.deleteUser`): the row goes, and with
 * it (foreign keys) sessions, refresh tokens and the project's rows. Answers `{}`.
 */
async function adminDeleteUser(req: Request, ctx: ApiContext, userId: string): Promise<Response> {
  await adminTarget(req, ctx, userId);
  const text = await readBoundedText(req, JSON_BODY_LIMIT, () => payloadTooLarge(JSON_BODY_LIMIT));
  if (text.trim() !== "") {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new AuthError(400, "bad_json", `Could not read params: ${(error as Error).message}`);
    }
    if (isObject(body) && body.should_soft_delete === true) {
      throw new ApiError(501, { message: "soft deletion of users is not part of the local Auth" });
    }
  }
  const deleted = await ctx.sql`delete from auth.users where id = ${userId} returning id`;
  if (deleted.length === 0) throw new AuthError(404, "user_not_found", "User not found");
  return json({});
}
