/**
 * Text providers for the content side (chapter summaries and learning content, plots, embeddings):
 * rules and hashed embeddings offline; OpenAI (or OpenRouter for text) with JSON-schema output when
 * a key is set.
 */
import { MODELS } from "./models.ts";
import { config } from "../env.ts";
import type { UsageCall } from "../pipeline/worker.ts";
import { type EmbeddingProvider, offlineEmbedder, openaiEmbedder } from "./embeddings.ts";
import { type Fetch, object, type OpenAIClient, str, strings, textClient } from "./openai.ts";
import { type ChapterContent, chapterContentByRules } from "./text/learning_rules.ts";
import {
  generatePlotByRules,
  type PlotCharacter,
  type PlotInput,
  type PlotOverview,
} from "./text/plot_rules.ts";
import { wordCount } from "./text/text_utils.ts";

export interface ContentProviders {
  /** The text model chapter content and plots are written with. */
  model: string;
  embedder: EmbeddingProvider;
  chapterContent(
    bookType: "learning" | "entertainment",
    title: string,
    content: string,
    knownNames: string[],
  ): Promise<{ result: ChapterContent; usage: UsageCall }>;
  plot(input: PlotInput): Promise<{ overview: PlotOverview; characters: PlotCharacter[]; usage: UsageCall }>;
}

const tokens = (text: string) => Math.ceil(wordCount(text) * 1.3);

/** The most one call may use, reserved before it is made: the prompt's excerpt and the answer's limit. */
export const CONTENT_CALL_BOUND = {
  chapter: { input_tokens: 8_500, output_tokens: 4_000 },
  plot: { input_tokens: 17_000, output_tokens: 8_000 },
};

export const offlineContent: ContentProviders = {
  model: MODELS.offlineText,
  embedder: offlineEmbedder,
  chapterContent(bookType, title, content, knownNames) {
    const result = chapterContentByRules(bookType, title, content, knownNames);
    return Promise.resolve({
      result,
      usage: {
        model: MODELS.offlineText,
        operation: "chapter_content",
        input_tokens: tokens(content),
        output_tokens: tokens(JSON.stringify(result)),
      },
    });
  },
  plot(input) {
    const { overview, characters } = generatePlotByRules(input);
    const inputText = input.chapters.map((c) => c.content).join(" ");
    return Promise.resolve({
      overview,
      characters,
      usage: {
        model: MODELS.offlineText,
        operation: "plot",
        input_tokens: tokens(inputText),
        output_tokens: tokens(JSON.stringify(characters)),
      },
    });
  },
};

const LEARNING_SCHEMA = object({
  summary: str,
  learning_objectives: strings,
  key_concepts: { type: "array", items: object({ term: str, definition: str }) },
  quiz: {
    type: "array",
    items: object({ question: str, options: strings, answer_index: { type: "integer" }, explanation: str }),
  },
});
const ENTERTAINMENT_SCHEMA = object({ summary: str, characters_present: strings, mood: str, hooks: strings });
const PLOT_SCHEMA = object({
  logline: str,
  themes: strings,
  story_type: str,
  genre: str,
  tone: str,
  audience: str,
  setting: str,
  characters: {
    type: "array",
    items: object({
      name: str,
      role: {
        type: "string",
        enum: [
          "protagonist",
          "antagonist",
          "deuteragonist",
          "mentor",
          "love_interest",
          "sidekick",
          "supporting",
          "minor",
        ],
      },
      archetype: str,
      character_arc: str,
      physical_description: str,
      personality: str,
      want: str,
      need: str,
      lie: str,
      ghost: str,
    }),
  },
});

/** Book text for a prompt, cut to about `maxWords` words. */
function excerpt(text: string, maxWords: number): string {
  const words = text.split(/\s+/);
  return words.length <= maxWords ? text : words.slice(0, maxWords).join(" ") + " [...]";
}

export function hostedContent(
  client: OpenAIClient,
  embedder: EmbeddingProvider,
  model: string = MODELS.openaiText,
): ContentProviders {
  return {
    model,
    embedder,
    async chapterContent(bookType, title, content) {
      const learning = bookType === "learning";
      const { value, inputTokens, outputTokens } = await client.chatJson<Record<string, unknown>>(
        model,
        learning
          ? "You write study material for a chapter: a 3-sentence summary, 3 learning objectives, 5 key concepts " +
            "with definitions, and exactly 5 multiple-choice questions with 4 options, the 0-based answer_index and an explanation."
          : "You describe a chapter of a novel: a 3-sentence summary, the characters present, the mood in one word, and up to 3 hooks.",
        `Chapter "${title}":\n\n${excerpt(content, 6000)}`,
        learning ? "learning_content" : "entertainment_content",
        learning ? LEARNING_SCHEMA : ENTERTAINMENT_SCHEMA,
        CONTENT_CALL_BOUND.chapter.output_tokens,
      );
      const { summary, ...rest } = value;
      return {
        result: {
          summary: String(summary),
          ai_content: { kind: bookType, ...rest } as unknown as ChapterContent["ai_content"],
        },
        usage: {
          model,
          operation: "chapter_content",
          input_tokens: inputTokens,
          output_tokens: outputTokens,
        },
      };
    },
    async plot(input) {
      const text = input.chapters.map((c) => `## ${c.title}\n${c.content}`).join("\n\n");
      const { value, inputTokens, outputTokens } = await client.chatJson<
        PlotOverview & { characters: PlotCharacter[] }
      >(
        model,
        "You are a story editor. Give the book's logline, themes, story type, genre, tone, audience and setting, and " +
          "its 5 to 10 main characters with role, arc, physical description, personality, want, need, lie and ghost. " +
          "Archetype is one of: Hero, Mentor, Herald, Shapeshifter, Shadow, Trickster, Ally, Innocent, " +
          "Everyman, Warrior, Caregiver, Explorer, Rebel, Lover, Creator, Jester, Sage, Magician, Ruler.",
        `Book "${input.title}":\n\n${excerpt(text, 12000)}`,
        "plot_overview",
        PLOT_SCHEMA,
        CONTENT_CALL_BOUND.plot.output_tokens,
      );
      const { characters, ...overview } = value;
      return {
        overview,
        characters,
        usage: { model, operation: "plot", input_tokens: inputTokens, output_tokens: outputTokens },
      };
    },
  };
}

let cached: ContentProviders | undefined;

export function contentProviders(fetchFn: Fetch = fetch): ContentProviders {
  if (cached) return cached;
  const text = textClient(config(), fetchFn);
  cached = !text ? offlineContent : hostedContent(
    text.client,
    text.provider === "openai" ? openaiEmbedder(text.client) : offlineEmbedder,
    text.model,
  );
  return cached;
}
