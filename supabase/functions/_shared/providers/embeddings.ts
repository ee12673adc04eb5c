/**
 * Chapter and query embeddings, 1536 dimensions. Offline: feature-hashed counts of word stems and
 * stem pairs, L2-normalised, deterministic. Hosted: OpenAI text-embedding-3-small.
 */
import { MODELS } from "./models.ts";
import type { UsageCall } from "../pipeline/worker.ts";
import type { OpenAIClient } from "./openai.ts";
import { contentTerms, paragraphsOf, wordCount } from "./text/text_utils.ts";

export const EMBEDDING_DIMENSIONS = 1536;

export interface EmbeddingProvider {
  model: string;
  provider: string;
  embed(texts: string[]): Promise<{ vectors: number[][]; usage: UsageCall }>;
}

function fnv1a(text: string, seed = 2166136261): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function hashedEmbedding(text: string, dimensions = EMBEDDING_DIMENSIONS): number[] {
  const vector = new Float64Array(dimensions);
  const terms = contentTerms(text);
  const add = (feature: string, weight: number) => {
    const h = fnv1a(feature);
    vector[h % dimensions] += (fnv1a(feature, 0x9747b28c) & 1 ? 1 : -1) * weight;
  };
  terms.forEach((term, i) => {
    add(term, 1);
    if (i > 0) add(`${terms[i - 1]} ${term}`, 0.5);
  });
  // Dampen frequent terms so one repeated word cannot dominate the direction.
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    vector[i] = Math.sign(vector[i]) * Math.log1p(Math.abs(vector[i]));
    norm += vector[i] * vector[i];
  }
  norm = Math.sqrt(norm) || 1;
  return Array.from(vector, (v) => Math.round((v / norm) * 1e6) / 1e6);
}

export const offlineEmbedder: EmbeddingProvider = {
  model: MODELS.offlineEmbedding,
  provider: "offline",
  embed(texts) {
    const vectors = texts.map((t) => hashedEmbedding(t));
    const tokens = texts.reduce((sum, t) => sum + Math.ceil(wordCount(t) * 1.3), 0);
    return Promise.resolve({
      vectors,
      usage: { model: this.model, operation: "embedding", input_tokens: tokens },
    });
  },
};

export function openaiEmbedder(
  client: OpenAIClient,
  model: string = MODELS.openaiEmbedding,
): EmbeddingProvider {
  return {
    model,
    provider: "openai",
    async embed(texts) {
      const { vectors, inputTokens } = await client.embeddings(model, texts, EMBEDDING_DIMENSIONS);
      return { vectors, usage: { model, operation: "embedding", input_tokens: inputTokens } };
    },
  };
}

/** Paragraph-aligned passages of at most about `maxWords` words, each embedded on its own. */
export function splitIntoPassages(content: string, maxWords = 400): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let words = 0;
  for (const paragraph of paragraphsOf(content)) {
    const n = wordCount(paragraph);
    if (words > 0 && words + n > maxWords) {
      chunks.push(current.join("\n\n"));
      current = [];
      words = 0;
    }
    current.push(paragraph);
    words += n;
  }
  if (current.length > 0) chunks.push(current.join("\n\n"));
  return chunks;
}

/** pgvector's text form. */
export function vectorLiteral(vector: number[]): string {
  return `[${vector.join(",")}]`;
}
