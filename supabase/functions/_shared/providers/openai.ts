/**
 * A small client for OpenAI's REST API (and OpenRouter, which speaks the same protocol): chat
 * completions with JSON-schema structured output, and embeddings. Errors are classified by status.
 */
import { MODELS } from "./models.ts";
import type { Config } from "../env.ts";
import { PermanentError, RetryableError } from "../errors.ts";
import { type Fetch, postJson } from "./provider_http.ts";

export type { Fetch };

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

export class OpenAIClient {
  constructor(
    private apiKey: string,
    private baseUrl = "https://api.openai.com/v1",
    private fetchFn: Fetch = fetch,
    private provider = "openai",
  ) {}

  private post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const auth = { "Authorization": `Bearer ${this.apiKey}` };
    return postJson(this.provider, this.fetchFn, `${this.baseUrl}${path}`, auth, body, 60_000);
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
    const body = await this.post("/chat/completions", {
      model,
      messages: [{ role: "system", content: system }, { role: "user", content: user }],
      response_format: { type: "json_schema", json_schema: { name: schemaName, strict: true, schema } },
      max_tokens: maxTokens,
    });
    const choice = (body.choices as {
      message: { content: string | null; refusal?: string | null };
      finish_reason: string;
    }[])[0];
    if (choice?.message?.refusal) {
      throw new PermanentError(`${this.provider} refused: ${choice.message.refusal}`);
    }
    if (choice?.finish_reason === "length") {
      throw new PermanentError(`${this.provider} answer was cut off (max tokens)`);
    }
    let value: T;
    try {
      value = JSON.parse(choice?.message?.content ?? "");
    } catch {
      throw new RetryableError(`${this.provider} answer is not the requested JSON`);
    }
    const usage = body.usage as { prompt_tokens: number; completion_tokens: number } | undefined;
    return {
      value,
      model: String(body.model ?? model),
      inputTokens: usage?.prompt_tokens ?? 0,
      outputTokens: usage?.completion_tokens ?? 0,
    };
  }

  async embeddings(
    model: string,
    inputs: string[],
    dimensions: number,
  ): Promise<{ vectors: number[][]; inputTokens: number }> {
    const body = await this.post("/embeddings", {
      model,
      input: inputs,
      dimensions,
      encoding_format: "float",
    });
    const data = (body.data as { index: number; embedding: number[] }[]).slice().sort((a, b) =>
      a.index - b.index
    );
    if (data.length !== inputs.length || data.some((d) => d.embedding.length !== dimensions)) {
      throw new PermanentError(`${this.provider} returned ${data.length} embeddings of the wrong size`);
    }
    return {
      vectors: data.map((d) => d.embedding),
      inputTokens: (body.usage as { prompt_tokens: number }).prompt_tokens,
    };
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
