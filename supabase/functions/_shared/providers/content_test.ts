import assert from "node:assert/strict";
import { hashedEmbedding, offlineEmbedder, openaiEmbedder } from "./embeddings.ts";
import { hostedContent } from "./content.ts";
import { OpenAIClient } from "./openai.ts";
import { chapterContentByRules } from "./text/learning_rules.ts";
import { generatePlotByRules } from "./text/plot_rules.ts";
import { SAMPLE_CHAPTER } from "../testing.ts";

const recorded = (name: string) => Deno.readTextFileSync(new URL(`./recorded/${name}.json`, import.meta.url));

/** A fetch that answers with a recorded body and remembers the request. */
function replay(name: string, status = 200) {
  const requests: { url: string; body: Record<string, unknown>; auth: string | null }[] = [];
  const fetchFn = ((url: string, init: RequestInit) => {
    requests.push({
      url,
      body: JSON.parse(String(init.body)),
      auth: new Headers(init.headers).get("Authorization"),
    });
    return Promise.resolve(
      new Response(recorded(name), { status, headers: { "Content-Type": "application/json" } }),
    );
  }) as typeof fetch;
  return { fetchFn, requests };
}

const LESSON =
  `A lighthouse guides ships along dangerous coasts. The beam of a lighthouse comes from a lamp inside a
lens. The Fresnel lens bends light from the lamp into a narrow beam. Before the Fresnel lens, mirrors reflected the
light and much of it was lost. Keepers trimmed the wick and cleaned the lens every morning. A keeper also recorded the
weather in a logbook. Ships identify each lighthouse by the pattern of its beam. Modern lighthouses use electric lamps
and automatic timers, so few keepers remain. Fog signals warn ships when the beam cannot be seen.`;

Deno.test("learning content by rules: summary, objectives, key concepts and five answerable questions", () => {
  const { summary, ai_content } = chapterContentByRules("learning", "Lights at Sea", LESSON);
  assert.ok(
    summary.length > 40 && LESSON.replace(/\s+/g, " ").includes(summary.split(". ")[0].replace(/\s+/g, " ")),
  );
  assert.equal(ai_content.kind, "learning");
  if (ai_content.kind !== "learning") return;
  assert.equal(ai_content.quiz.length, 5);
  for (const q of ai_content.quiz) {
    assert.equal(q.options.length, 4);
    assert.equal(new Set(q.options).size, 4, "options are distinct");
    assert.ok(q.answer_index >= 0 && q.answer_index < 4);
    assert.ok(q.explanation.length > 0);
  }
  assert.ok(
    ai_content.key_concepts.some((c) => c.term === "lens" || c.term === "beam" || c.term === "lighthouse"),
  );
  assert.ok(ai_content.learning_objectives.length >= 2);
});

Deno.test("learning content of a chapter without sentence ends stays small", () => {
  // A 10,000-word run-on: quoted whole, a book of them made 525 MB of JSON and failed its ingest.
  const words = "the harbour keeper watched the grey ships come in while the gulls argued".split(" ");
  const runOn = Array.from({ length: 10_000 }, (_, i) => words[(i * 7) % words.length]).join(" ") + ".";
  const { summary, ai_content } = chapterContentByRules("learning", "Run-on", runOn);
  assert.ok(summary.length <= 400, `summary of ${summary.length} characters`);
  assert.ok(JSON.stringify(ai_content).length < 20_000, `${JSON.stringify(ai_content).length} characters`);
  if (ai_content.kind !== "learning") throw new Error("not learning content");
  for (const q of ai_content.quiz) {
    assert.equal(new Set(q.options).size, q.options.length, "options distinct");
  }
});

Deno.test("entertainment content by rules: characters present, mood and hooks", () => {
  const { ai_content } = chapterContentByRules("entertainment", "Arrival", SAMPLE_CHAPTER);
  assert.equal(ai_content.kind, "entertainment");
  if (ai_content.kind !== "entertainment") return;
  assert.deepEqual([...ai_content.characters_present].sort(), ["Mara", "Tomas"]);
  assert.ok(ai_content.hooks.length >= 1);
  assert.equal(typeof ai_content.mood, "string");
});

Deno.test("plot by rules: the named characters with roles and archetypes, and a logline", () => {
  const { overview, characters } = generatePlotByRules({
    title: "The Lighthouse",
    genre: null,
    bookType: "entertainment",
    chapters: [{ title: "Arrival", content: SAMPLE_CHAPTER }],
  });
  assert.deepEqual(characters.map((c) => c.name).sort(), ["Mara", "Tomas"]);
  assert.equal(characters[0].role, "protagonist");
  assert.equal(characters[0].archetype, "Hero");
  assert.match(overview.logline, /Mara/);
  assert.ok(overview.themes.length >= 1);
});

Deno.test("hashed embeddings: 1536 dimensions, unit length, deterministic, closer for related text", () => {
  const a = hashedEmbedding("The keeper lit the lamp in the lighthouse during the storm.");
  const b = hashedEmbedding("During a storm, the lighthouse keeper lights its lamps.");
  const c = hashedEmbedding("The market sold bread and cheese in summer.");
  assert.equal(a.length, 1536);
  assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-4);
  assert.deepEqual(a, hashedEmbedding("The keeper lit the lamp in the lighthouse during the storm."));
  const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i], 0);
  assert.ok(dot(a, b) > dot(a, c) + 0.3, `related ${dot(a, b)} vs unrelated ${dot(a, c)}`);
});

Deno.test("OpenAI embeddings: request shape, order by index, usage (recorded response)", async () => {
  const { fetchFn, requests } = replay("openai_embeddings");
  const embedder = openaiEmbedder(new OpenAIClient("sk-test", undefined, fetchFn));
  const { vectors, usage } = await embedder.embed(["first", "second"]);
  assert.equal(requests[0].url, "https://api.openai.com/v1/embeddings");
  assert.equal(requests[0].auth, "Bearer sk-test");
  assert.deepEqual(requests[0].body, {
    model: "text-embedding-3-small",
    input: ["first", "second"],
    dimensions: 1536,
    encoding_format: "float",
  });
  const body = JSON.parse(recorded("openai_embeddings"));
  assert.deepEqual(vectors[0], body.data.find((d: { index: number }) => d.index === 0).embedding);
  assert.deepEqual(usage, { model: "text-embedding-3-small", operation: "embedding", input_tokens: 17 });
  assert.ok((await offlineEmbedder.embed(["x"])).vectors[0].length === 1536);
});

Deno.test("OpenAI chapter content: strict JSON schema request and parsed answer (recorded response)", async () => {
  const { fetchFn, requests } = replay("openai_chat_learning");
  const client = new OpenAIClient("sk-test", undefined, fetchFn);
  const content = hostedContent(client, offlineEmbedder);
  const { result, usage } = await content.chapterContent("learning", "Lights at Sea", LESSON, []);
  const format = requests[0].body.response_format as {
    type: string;
    json_schema: { strict: boolean; schema: { required: string[] } };
  };
  assert.equal(format.type, "json_schema");
  assert.equal(format.json_schema.strict, true);
  assert.deepEqual(format.json_schema.schema.required, [
    "summary",
    "learning_objectives",
    "key_concepts",
    "quiz",
  ]);
  assert.match(result.summary, /Fresnel lens/);
  assert.equal(result.ai_content.kind, "learning");
  assert.deepEqual(usage, {
    model: "gpt-4o-mini",
    operation: "chapter_content",
    input_tokens: 412,
    output_tokens: 198,
  });
});
