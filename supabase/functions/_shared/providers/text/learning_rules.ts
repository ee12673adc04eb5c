/**
 * Offline chapter content by rules over the text: an extractive summary; for learning books,
 * objectives, key concepts and a five-question quiz built from key sentences; for entertainment
 * books, the characters present, the mood and the hooks.
 */
import { findCharacterNames } from "./script_rules.ts";
import {
  clipSentence,
  contentTerms,
  paragraphsOf,
  sentences,
  stem,
  STOPWORDS,
  wordCount,
} from "./text_utils.ts";

export interface QuizQuestion {
  question: string;
  options: string[];
  answer_index: number;
  explanation: string;
}

export interface LearningContent {
  kind: "learning";
  learning_objectives: string[];
  key_concepts: { term: string; definition: string }[];
  quiz: QuizQuestion[];
}

export interface EntertainmentContent {
  kind: "entertainment";
  characters_present: string[];
  mood: string;
  hooks: string[];
}

export interface ChapterContent {
  summary: string;
  ai_content: LearningContent | EntertainmentContent;
}

/** Sentences ranked by how many of the chapter's frequent terms they carry. */
function rankSentences(
  all: string[],
  freq: Map<string, number>,
): { sentence: string; index: number; score: number }[] {
  return all.map((sentence, index) => {
    const terms = contentTerms(sentence);
    const score = terms.reduce((sum, t) => sum + (freq.get(t) ?? 0), 0) / Math.sqrt(terms.length + 1);
    return { sentence, index, score };
  }).filter((s) => wordCount(s.sentence) >= 5 && wordCount(s.sentence) <= 60).sort((a, b) =>
    b.score - a.score || a.index - b.index
  );
}

function termFrequencies(text: string): Map<string, number> {
  const freq = new Map<string, number>();
  for (const term of contentTerms(text)) freq.set(term, (freq.get(term) ?? 0) + 1);
  return freq;
}

/** The most frequent content words, in the surface form the text uses most. */
function keyTerms(text: string, limit: number, exclude: Set<string>): string[] {
  const surface = new Map<string, Map<string, number>>();
  for (const m of text.matchAll(/\b[A-Za-z][a-z]{3,}\b/g)) {
    const word = m[0].toLowerCase();
    if (STOPWORDS.has(word) || exclude.has(m[0])) continue;
    const key = stem(word);
    const forms = surface.get(key) ?? new Map<string, number>();
    forms.set(word, (forms.get(word) ?? 0) + 1);
    surface.set(key, forms);
  }
  return [...surface.values()]
    .map((forms) => {
      const total = [...forms.values()].reduce((a, b) => a + b, 0);
      const best = [...forms].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0];
      return { best, total };
    })
    .sort((a, b) => b.total - a.total || a.best.localeCompare(b.best))
    .slice(0, limit)
    .map((t) => t.best);
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function summarize(content: string, maxSentences = 3): string {
  const all = sentences(content).map((s) => clipSentence(s));
  if (all.length <= maxSentences) return all.join(" ");
  const picked = rankSentences(all, termFrequencies(content)).slice(0, maxSentences).sort((a, b) =>
    a.index - b.index
  );
  return picked.map((s) => s.sentence).join(" ");
}

function learningContent(title: string, content: string): LearningContent {
  const all = sentences(content).map((s) => clipSentence(s));
  const concepts = keyTerms(content, 8, new Set());
  const ranked = rankSentences(all, termFrequencies(content));
  const definitionOf = (term: string) =>
    ranked.find((s) => new RegExp(`\\b${term}`, "i").test(s.sentence))?.sentence ??
      all.find((s) => new RegExp(`\\b${term}`, "i").test(s)) ?? "";
  const key_concepts = concepts.slice(0, 5).map((term) => ({ term, definition: definitionOf(term) }));

  const quiz: QuizQuestion[] = [];
  const used = new Set<number>();
  for (const term of concepts) {
    if (quiz.length === 5) break;
    const pattern = new RegExp(`\\b${term}\\b`, "i");
    const source = ranked.find((s) => !used.has(s.index) && pattern.test(s.sentence));
    if (!source) continue;
    used.add(source.index);
    const distractors = concepts.filter((c) =>
      c !== term && !new RegExp(`\\b${c}\\b`, "i").test(source.sentence)
    )
      .slice(0, 3);
    if (distractors.length < 3) continue;
    const options = [term, ...distractors].sort((a, b) =>
      hash(a + source.sentence) - hash(b + source.sentence)
    );
    quiz.push({
      question: `Which word completes this statement from "${title}": "${
        source.sentence.replace(pattern, "_____")
      }"`,
      options,
      answer_index: options.indexOf(term),
      explanation: `The chapter says: "${source.sentence}"`,
    });
  }
  // Short chapters: ask which concepts the chapter discusses, with words it never uses as distractors.
  const absent = [
    "photosynthesis",
    "parliament",
    "glacier",
    "algorithm",
    "harvest",
    "telescope",
    "currency",
    "volcano",
  ]
    .filter((w) => !new RegExp(`\\b${w}`, "i").test(content));
  for (const term of concepts) {
    if (quiz.length === 5) break;
    if (quiz.some((q) => q.options[q.answer_index] === term)) continue;
    const options = [term, ...absent.slice(quiz.length % 3, quiz.length % 3 + 3)].sort((a, b) =>
      hash(a + term) - hash(b + term)
    );
    quiz.push({
      question: `Which of these does "${title}" discuss?`,
      options,
      answer_index: options.indexOf(term),
      explanation: definitionOf(term)
        ? `The chapter says: "${definitionOf(term)}"`
        : `"${term}" is a key term of the chapter.`,
    });
  }
  const [first, second, third] = concepts;
  const learning_objectives = [
    first && `Explain what ${first} means in the context of "${title}".`,
    first && second && `Describe how ${first} relates to ${second}.`,
    third && `Recall the key points the chapter makes about ${third}.`,
  ].filter((o): o is string => !!o);
  return { kind: "learning", learning_objectives, key_concepts, quiz };
}

const MOODS: [string, RegExp][] = [
  ["tense", /\b(fear|afraid|danger|storm|scream|dark|threat|panic|urgent|trembl\w*|dread)\b/gi],
  ["melancholic", /\b(sad|sorrow|grief|tears?|lonely|loss|mourn\w*|weep\w*|regret)\b/gi],
  ["joyful", /\b(laugh\w*|smil\w*|joy|happy|delight\w*|bright|celebrat\w*|warm)\b/gi],
  ["mysterious", /\b(secret|strange|mystery|hidden|shadow\w*|whisper\w*|unknown|letter)\b/gi],
  ["romantic", /\b(love|kiss\w*|heart|tender|longing|embrace\w*)\b/gi],
  ["adventurous", /\b(journey|explore\w*|quest|voyage|adventure|sail\w*|climb\w*)\b/gi],
];

function entertainmentContent(content: string, knownNames: string[]): EntertainmentContent {
  const scores = MOODS.map(([mood, re]) => ({ mood, n: content.match(re)?.length ?? 0 }));
  const best = scores.sort((a, b) => b.n - a.n)[0];
  const all = sentences(content).map((s) => clipSentence(s));
  const questions = all.filter((s) => s.endsWith("?") || s.endsWith('?"') || s.endsWith("?”"));
  const last = paragraphsOf(content).at(-1) ?? "";
  const hooks = [...new Set([...sentences(last).slice(-1), ...questions.slice(-2)])].slice(0, 3);
  return {
    kind: "entertainment",
    characters_present: findCharacterNames(content, knownNames),
    mood: best.n > 0 ? best.mood : "calm",
    hooks,
  };
}

export function chapterContentByRules(
  bookType: "learning" | "entertainment",
  title: string,
  content: string,
  knownNames: string[] = [],
): ChapterContent {
  return {
    summary: summarize(content),
    ai_content: bookType === "learning"
      ? learningContent(title, content)
      : entertainmentContent(content, knownNames),
  };
}
