/**
 * OpenAI through its official SDK (`openai`): chat completions with JSON-schema structured output, and
 * embeddings. OpenRouter speaks the same protocol at its own base URL. Every call is bounded (60 s,
 * `max_tokens` on chat) and tried once: the queues retry, by the classes the SDK's errors map to here.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { MODELS } from "./models.ts";
import type { Config } from "../env.ts";
import { errorForStatus, PermanentError, RetryableError } from "../errors.ts";
import type { Fetch } from "./provider_http.ts";
import { workSignal } from "../work_signal.ts";

export type { Fetch };

const TIMEOUT_MS = 60_000;

/** Pieces of strict JSON schemas for structured output: every property required, nothing extra. */
export const str = { type: "string" };
export const strings = { type: "array", items: str };
export const object = (properties: Record<string, unknown>) => ({
  type: "object",
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
});

export interface ChatJsonResult<T> {
  value: T;
  model: string;
  inputTokens: number;
  outputTokens: number;
}

/** What the provider said about a failed call: its error message, with its code when it gave one. */
function errorDetail(error: APIError): string {
  const body = error.error as { message?: unknown; code?: unknown } | undefined;
  const message = typeof body?.message === "string" ? body.message : error.message.replace(/^\d{3} /, "");
  const code = typeof body?.code === "string" || typeof body?.code === "number" ? body.code : null;
  return code === null ? message : `${message} (${code})`;
}

/**
 * The SDK's errors as ours, naming the provider: an answered HTTP status by errors.ts' classes; no
 * answer (unreachable, timed out, stopped with its unit) and a garbled body are worth another try.
 */
export function providerError(provider: string, error: unknown): Error {
  if (error instanceof APIUserAbortError) {
    return new RetryableError(`${provider} call stopped: the work it was part of was given up`);
  }
  if (error instanceof APIConnectionTimeoutError) {
    return new RetryableError(`${provider} did not answer within ${TIMEOUT_MS / 1000} s`);
  }
  if (error instanceof APIConnectionError) {
    const cause = (error as { cause?: unknown }).cause;
    return new RetryableError(
      `${provider} unreachable: ${cause instanceof Error ? cause.message : error.message}`,
    );
  }
  if (error instanceof APIError && error.status) {
    return errorForStatus(provider, error.status, errorDetail(error));
  }
  if (error instanceof SyntaxError) {
    return new RetryableError(`${provider} answered with invalid JSON: ${error.message}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** The start of an unexpected answer, for an error message. */
const sample = (answer: unknown) =>
  (typeof answer === "string" ? answer : JSON.stringify(answer) ?? String(answer)).slice(0, 200);

export class OpenAIClient {
  private sdk: OpenAI;

  constructor(
    apiKey: string,
    baseUrl = "https://api.openai.com/v1",
    fetchFn: Fetch = fetch,
    private provider = "openai",
  ) {
    this.sdk = new OpenAI({
      apiKey,
      baseURL: baseUrl,
      fetch: fetchFn,
      timeout: TIMEOUT_MS,
      maxRetries: 0,
      // Everything comes from our configuration, not from the SDK's own environment variables.
      organization: null,
      project: null,
      adminAPIKey: null,
      webhookSecret: null,
      logLevel: "warn",
    });
  }

  /** One SDK call under the signal of the work in progress, its errors classified. */
  private async call<T>(request: (options: { signal?: AbortSignal }) => Promise<T>): Promise<T> {
    try {
      return await request({ signal: workSignal() });
    } catch (error) {
      throw providerError(this.provider, error);
    }
  }

  /** A chat completion whose answer must match `schema` (strict structured output). */
  async chatJson<T>(
    model: string,
    system: string,
    user: string,
    schemaName: string,
    schema: Record<string, unknown>,
    /** The most the answer may use: a paid call is bounded before it is made. */
    maxTokens = 16_000,
  ): Promise<ChatJsonResult<T>> {
    const completion = await this.call((options) =>
      this.sdk.chat.completions.create({
        model,
        messages: [{ role: "system", content: system }, { role: "user", content: user }],
        response_format: { type: "json_schema", json_schema: { name: schemaName, strict: true, schema } },
        max_tokens: maxTokens,
      }, options)
    );
    const choice = Array.isArray(completion?.choices) ? completion.choices[0] : undefined;
    if (!choice) {
      throw new RetryableError(`${this.provider} answered without a choice: ${sample(completion)}`);
    }
    if (choice.message?.refusal) {
      throw new PermanentError(`${this.provider} refused: ${choice.message.refusal}`);
    }
    if (choice.finish_reason === "length") {
      throw new PermanentError(`${this.provider} answer was cut off (max tokens)`);
    }
    let value: T;
    try {
      value = JSON.parse(choice.message?.content ?? "");
    } catch {
      throw new RetryableError(`${this.provider} answer is not the requested JSON`);
    }
    return {
      value,
      model: completion.model ?? model,
      inputTokens: completion.usage?.prompt_tokens ?? 0,
      outputTokens: completion.usage?.completion_tokens ?? 0,
    };
  }

  async embeddings(
    model: string,
    inputs: string[],
    dimensions: number,
  ): Promise<{ vectors: number[][]; inputTokens: number }> {
    const response = await this.call((options) =>
      this.sdk.embeddings.create({ model, input: inputs, dimensions, encoding_format: "float" }, options)
    );
    if (!Array.isArray(response?.data)) {
      throw new RetryableError(`${this.provider} answered without embeddings`);
    }
    const data = response.data.slice().sort((a, b) => a.index - b.index);
    if (data.length !== inputs.length || data.some((d) => d.embedding.length !== dimensions)) {
      throw new PermanentError(`${this.provider} returned ${data.length} embeddings of the wrong size`);
    }
    return { vectors: data.map((d) => d.embedding), inputTokens: response.usage?.prompt_tokens ?? 0 };
  }
}

export interface TextClient {
  client: OpenAIClient;
  /** The model called when none is asked for. */
  model: string;
  provider: "openai" | "openrouter";
  /** This provider's id of an OpenAI model (OpenRouter prefixes it with "openai/"). */
  modelId(requested?: string): string;
}

/** The hosted text model the keys allow: OpenAI first, then OpenRouter (same models); none offline. */
export function textClient(
  cfg: Pick<Config, "openaiApiKey" | "openrouterApiKey"> & Partial<Pick<Config, "providerBaseUrls">>,
  fetchFn: Fetch = fetch,
): TextClient | null {
  if (cfg.openaiApiKey) {
    return {
      client: new OpenAIClient(cfg.openaiApiKey, cfg.providerBaseUrls?.openai, fetchFn),
      model: MODELS.openaiText,
      provider: "openai",
      modelId: (requested) => requested?.replace(/^openai\//, "") ?? MODELS.openaiText,
    };
  }
  if (cfg.openrouterApiKey) {
    return {
      client: new OpenAIClient(
        cfg.openrouterApiKey,
        cfg.providerBaseUrls?.openrouter ?? "https://openrouter.ai/api/v1",
        fetchFn,
        "openrouter",
      ),
      model: MODELS.openrouterText,
      provider: "openrouter",
      modelId: (requested) =>
        requested ? `openai/${requested.replace(/^openai\//, "")}` : MODELS.openrouterText,
    };
  }
  return null;
}
