/** One HTTP call to a hosted provider: network failures and timeouts are retried, error statuses classified. */
import { errorForStatus, RetryableError } from "../errors.ts";
import { workSignal } from "../work_signal.ts";

export type Fetch = typeof fetch;

export async function callProvider(
  provider: string,
  fetchFn: Fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Response> {
  let response: Response;
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    const work = workSignal();
    response = await fetchFn(url, { ...init, signal: work ? AbortSignal.any([timeout, work]) : timeout });
  } catch (error) {
    throw new RetryableError(`${provider} unreachable: ${(error as Error).message}`);
  }
  if (!response.ok) throw errorForStatus(provider, response.status, await response.text());
  return response;
}

/** A JSON POST whose answer must be JSON. */
export async function postJson<T>(
  provider: string,
  fetchFn: Fetch,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  timeoutMs: number,
): Promise<T> {
  const response = await callProvider(provider, fetchFn, url, {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  }, timeoutMs);
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new RetryableError(`${provider} answered with invalid JSON: ${text.slice(0, 200)}`);
  }
}
