/** GoTrue's errors: what auth-js turns into `AuthApiError` (status, `code`, message). */
import { json } from "../context.ts";

const API_VERSION_HEADER = "X-Supabase-Api-Version";
const API_VERSION_2024 = "2024-01-01";

/** An error as GoTrue reports it: HTTP status, error code (auth-js's `AuthApiError.code`) and message. */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly weakPasswordReasons?: string[],
  ) {
    super(message);
  }
}

/**
 * GoTrue's error body depends on the API version the client asks for: auth-js sends 2024-01-01 and
 * reads `{code, message}`; older clients get `{code: <status>, error_code, msg}`.
 */
export function authErrorResponse(req: Request, error: AuthError): Response {
  const headers: Record<string, string> = { "x-sb-error-code": error.code };
  const weakPassword = error.weakPasswordReasons
    ? { weak_password: { reasons: error.weakPasswordReasons } }
    : {};
  const version = req.headers.get(API_VERSION_HEADER) ?? "";
  if (/^\d{4}-\d{2}-\d{2}$/.test(version) && version >= API_VERSION_2024) {
    headers[API_VERSION_HEADER] = API_VERSION_2024;
    return json({ code: error.code, message: error.message, ...weakPassword }, error.status, headers);
  }
  return json(
    { code: error.status, error_code: error.code, msg: error.message, ...weakPassword },
    error.status,
    headers,
  );
}
