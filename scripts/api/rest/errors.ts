/** Errors shaped as PostgREST shapes them: `{code, message, details, hint}` with its HTTP status. */
import postgres from "postgres";
import { ApiError } from "../context.ts";

export function pgrstError(
  status: number,
  code: string,
  message: string,
  details: unknown = null,
  hint: string | null = null,
): ApiError {
  return new ApiError(status, { code, message, details, hint });
}

/** PGRST100: a query string parameter PostgREST cannot parse. */
export function parseError(what: string, value: string, details: string): ApiError {
  return pgrstError(400, "PGRST100", `"failed to parse ${what} (${value})"`, details);
}

/** Anything outside the local subset of PostgREST: 501 naming the feature, never a wrong answer. */
export function unsupported(feature: string): ApiError {
  return new ApiError(501, {
    code: "PGRST501",
    message: `${feature} is not supported by the local Data API`,
    details:
      "The local stand-in implements the subset of PostgREST that supabase-js clients use (see docs/local-api.md).",
    hint: null,
  });
}

/** What Postgres says about an unknown column, as PostgREST passes it on. */
export function unknownColumn(table: string, column: string): ApiError {
  return pgrstError(400, "42703", `column ${table}.${column} does not exist`);
}

/** PostgREST's HTTP status for a Postgres error (docs: references/errors, "HTTP Status Codes"). */
export function statusOfSqlState(code: string, authenticated: boolean): number {
  const exact: Record<string, number> = {
    "23503": 409,
    "23505": 409,
    "25006": 405,
    "53400": 500,
    "57P01": 503,
    "P0001": 400,
    "42883": 404,
    "42P01": 404,
    "42P17": 500,
    "42501": authenticated ? 403 : 401,
  };
  if (code in exact) return exact[code];
  const custom = code.match(/^PT(\d{3})$/);
  if (custom) return Number(custom[1]);
  const byClass: Record<string, number> = {
    "08": 503,
    "09": 500,
    "0L": 403,
    "0P": 403,
    "25": 500,
    "28": 403,
    "2D": 500,
    "38": 500,
    "39": 500,
    "3B": 500,
    "40": 500,
    "53": 503,
    "54": 500,
    "55": 500,
    "57": 500,
    "58": 500,
    "F0": 500,
    "HV": 500,
    "P0": 500,
    "XX": 500,
  };
  // Every other class, including our own SQLSTATEs raised by functions (e.g. 'LT008'), is the client's.
  return byClass[code.slice(0, 2)] ?? 400;
}

/** A Postgres error as PostgREST answers it; other errors are left to the caller. */
export function fromPostgresError(error: unknown, authenticated: boolean): ApiError | undefined {
  if (!(error instanceof postgres.PostgresError)) return undefined;
  const status = statusOfSqlState(error.code, authenticated);
  const body = {
    code: error.code,
    message: error.message,
    details: error.detail ?? null,
    hint: error.hint ?? null,
  };
  return new ApiError(status, body);
}
