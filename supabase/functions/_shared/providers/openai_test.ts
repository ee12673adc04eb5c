/** The OpenAI client (the official SDK) against recorded answers: what it sends, and how its failures are classified. */
import assert from "node:assert/strict";
import { PermanentError, RetryableError } from "../errors.ts";
import { runWithSignal } from "../work_signal.ts";
import { OpenAIClient, textClient } from "./openai.ts";

const recorded = (name: string) => Deno.readTextFileSync(new URL(`./recorded/${name}.json`, import.meta.url));

interface SentRequest {
  url: string;
  body: Record<string, unknown>;
  headers: Headers;
}

/** A fetch that gives every request the same answer (or failure) and keeps what was sent. */
function answering(answer: (init: RequestInit) => Promise<Response>) {
  const requests: SentRequest[] = [];
  const fetchFn = ((url: string | URL, init: RequestInit = {}) => {
    requests.push({
      url: String(url),
      body: JSON.parse(String(init.body)),
      headers: new Headers(init.headers),
    });
    return answer(init);
  }) as typeof fetch;
  return { fetchFn, requests };
}

const json = (text: string, status = 200) => () =>
  Promise.resolve(new Response(text, { status, headers: { "Content-Type": "application/json" } }));

/** The recorded script answer with its only choice changed. */
function scriptAnswer(change: (choice: Record<string, unknown>) => void): string {
  const body = JSON.parse(recorded("openai_chat_script"));
  change(body.choices[0]);
  return JSON.stringify(body);
}

const SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["a"],
  properties: { a: { type: "string" } },
};

Deno.test("chat: one bounded request with the model, a strict JSON schema and max_tokens; the answer parsed", async () => {
  const { fetchFn, requests } = answering(json(recorded("openai_chat_script")));
  const client = new OpenAIClient("sk-test", undefined, fetchFn);
  const result = await client.chatJson<{ scenes: unknown[] }>("gpt-4o-mini", "sys", "user", "x", SCHEMA, 900);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].url, "https://api.openai.com/v1/chat/completions");
  assert.equal(requests[0].headers.get("Authorization"), "Bearer sk-test");
  assert.deepEqual(requests[0].body, {
    model: "gpt-4o-mini",
    messages: [{ role: "system", content: "sys" }, { role: "user", content: "user" }],
    response_format: { type: "json_schema", json_schema: { name: "x", strict: true, schema: SCHEMA } },
    max_tokens: 900,
  });
  assert.equal(result.value.scenes.length, 2);
  assert.deepEqual([result.model, result.inputTokens, result.outputTokens], [
    "gpt-4o-mini-2024-07-18",
    1184,
    263,
  ]);
});

Deno.test("OpenRouter: its base URL and key, OpenAI models by their OpenRouter ids, errors name it", async () => {
  const { fetchFn, requests } = answering(json(recorded("openai_error_429"), 429));
  const text = textClient({ openrouterApiKey: "or-key" }, fetchFn)!;
  assert.equal(text.provider, "openrouter");
  assert.equal(text.modelId("gpt-4o"), "openai/gpt-4o");
  await assert.rejects(
    text.client.chatJson(text.modelId(), "s", "u", "x", SCHEMA),
    (e: Error) => e instanceof RetryableError && e.message.startsWith("openrouter answered HTTP 429: "),
  );
  assert.equal(requests[0].url, "https://openrouter.ai/api/v1/chat/completions");
  assert.equal(requests[0].headers.get("Authorization"), "Bearer or-key");
  assert.equal(requests[0].body.model, "openai/gpt-4o-mini");
});

Deno.test("the SDK reads none of its own environment variables: no organization or project header is sent", async () => {
  Deno.env.set("OPENAI_ORG_ID", "org-from-env");
  Deno.env.set("OPENAI_PROJECT_ID", "proj-from-env");
  try {
    const { fetchFn, requests } = answering(json(recorded("openai_chat_script")));
    await new OpenAIClient("sk-test", undefined, fetchFn).chatJson("gpt-4o-mini", "s", "u", "x", SCHEMA);
    assert.equal(requests[0].headers.get("OpenAI-Organization"), null);
    assert.equal(requests[0].headers.get("OpenAI-Project"), null);
  } finally {
    Deno.env.delete("OPENAI_ORG_ID");
    Deno.env.delete("OPENAI_PROJECT_ID");
  }
});

Deno.test("HTTP errors: 408, 409, 425, 429 and 5xx retryable, other statuses permanent, each tried once", async () => {
  const cases: [number, string, typeof RetryableError | typeof PermanentError, string][] = [
    [
      429,
      recorded("openai_error_429"),
      RetryableError,
      "openai answered HTTP 429: Rate limit reached for gpt-4o-mini in organization org-xxx on tokens per min " +
      "(TPM): Limit 200000, Used 199000, Requested 1500. Please try again in 150ms. (rate_limit_exceeded)",
    ],
    [
      503,
      "<html>Service Unavailable</html>",
      RetryableError,
      "openai answered HTTP 503: <html>Service Unavailable</html>",
    ],
    [408, "{}", RetryableError, "openai answered HTTP 408: {}"],
    [409, "{}", RetryableError, "openai answered HTTP 409: {}"],
    [425, "{}", RetryableError, "openai answered HTTP 425: {}"],
    [
      401,
      JSON.stringify({ error: { message: "Incorrect API key provided.", code: "invalid_api_key" } }),
      PermanentError,
      "openai answered HTTP 401: Incorrect API key provided. (invalid_api_key)",
    ],
    [
      400,
      JSON.stringify({ error: { message: "Invalid schema for response_format 'x'.", code: null } }),
      PermanentError,
      "openai answered HTTP 400: Invalid schema for response_format 'x'.",
    ],
  ];
  for (const [status, body, kind, message] of cases) {
    const { fetchFn, requests } = answering(json(body, status));
    const client = new OpenAIClient("sk-test", undefined, fetchFn);
    await assert.rejects(client.chatJson("gpt-4o-mini", "s", "u", "x", SCHEMA), (e: Error) => {
      assert.ok(e instanceof kind, `${status}: ${e.name} ${e.message}`);
      assert.equal(e.message, message);
      return true;
    });
    assert.equal(requests.length, 1, `HTTP ${status} is not retried by the SDK (the queues retry)`);
  }
});

Deno.test("no answer: unreachable and timed out are retryable, each tried once", async () => {
  const refused = answering(() => Promise.reject(new TypeError("tcp connect error: Connection refused")));
  await assert.rejects(
    new OpenAIClient("sk-test", undefined, refused.fetchFn).embeddings("text-embedding-3-small", ["a"], 3),
    (e: Error) =>
      e instanceof RetryableError &&
      e.message === "openai unreachable: tcp connect error: Connection refused",
  );
  assert.equal(refused.requests.length, 1);
  const slow = answering(() => Promise.reject(new TypeError("error sending request: operation timed out")));
  await assert.rejects(
    new OpenAIClient("sk-test", undefined, slow.fetchFn).chatJson("gpt-4o-mini", "s", "u", "x", SCHEMA),
    (e: Error) => e instanceof RetryableError && e.message === "openai did not answer within 60 s",
  );
  assert.equal(slow.requests.length, 1);
});

Deno.test("a call in work that is given up stops at once, as a retryable error", async () => {
  const { fetchFn } = answering((init) =>
    new Promise((_, reject) => init.signal?.addEventListener("abort", () => reject(init.signal?.reason)))
  );
  const work = new AbortController();
  const call = runWithSignal(
    work.signal,
    () => new OpenAIClient("sk-test", undefined, fetchFn).chatJson("gpt-4o-mini", "s", "u", "x", SCHEMA),
  );
  setTimeout(() => work.abort(new Error("time limit")), 10);
  await assert.rejects(
    call,
    (e: Error) =>
      e instanceof RetryableError && /^openai call stopped: the work it was part of/.test(e.message),
  );
});

Deno.test("answers that cannot be used: a refusal and a cut-off are permanent, a garbled answer retryable", async () => {
  const chat = (body: string) =>
    new OpenAIClient("sk-test", undefined, answering(json(body)).fetchFn).chatJson(
      "gpt-4o-mini",
      "s",
      "u",
      "x",
      SCHEMA,
    );
  await assert.rejects(
    chat(recorded("openai_chat_refusal")),
    (e: Error) =>
      e instanceof PermanentError &&
      e.message === "openai refused: I'm sorry, I cannot help with that request.",
  );
  await assert.rejects(
    chat(scriptAnswer((choice) => (choice.finish_reason = "length"))),
    (e: Error) => e instanceof PermanentError && e.message === "openai answer was cut off (max tokens)",
  );
  await assert.rejects(
    chat(scriptAnswer((choice) => ((choice.message as { content: string }).content = '{"scenes": ['))),
    (e: Error) => e instanceof RetryableError && e.message === "openai answer is not the requested JSON",
  );
  await assert.rejects(
    chat('{"object": "chat.completion", "choices": []}'),
    (e: Error) => e instanceof RetryableError && /^openai answered without a choice: /.test(e.message),
  );
  await assert.rejects(
    chat('{"choices": [{"message": '),
    (e: Error) => e instanceof RetryableError && /^openai answered with invalid JSON: /.test(e.message),
  );
});

Deno.test("embeddings: the request the recordings answer, vectors by index, a wrong size refused", async () => {
  const { fetchFn, requests } = answering(json(recorded("openai_embeddings")));
  const client = new OpenAIClient("sk-test", "http://127.0.0.1:9/v1", fetchFn);
  const { vectors, inputTokens } = await client.embeddings(
    "text-embedding-3-small",
    ["first", "second"],
    1536,
  );
  assert.equal(requests[0].url, "http://127.0.0.1:9/v1/embeddings");
  assert.deepEqual(requests[0].body, {
    model: "text-embedding-3-small",
    input: ["first", "second"],
    dimensions: 1536,
    encoding_format: "float",
  });
  const recordedData = JSON.parse(recorded("openai_embeddings")).data as {
    index: number;
    embedding: number[];
  }[];
  assert.deepEqual(vectors[1], recordedData.find((d) => d.index === 1)!.embedding);
  assert.equal(inputTokens, 17);
  await assert.rejects(
    client.embeddings("text-embedding-3-small", ["first", "second"], 256),
    (e: Error) =>
      e instanceof PermanentError && e.message === "openai returned 2 embeddings of the wrong size",
  );
});
