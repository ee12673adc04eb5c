/**
 * Offline script generator: turns a chapter into a script and scene breakdown by rules.
 * Quoted dialogue becomes character lines, paragraphs become scenes, and locations and
 * times of day come from the chapter's own words.
 */

import { paragraphsOf, sentences, wordCount } from "./text_utils.ts";

export type ScriptStyle = "cinematic" | "narration" | "educational";
export type TimeOfDay = "dawn" | "morning" | "noon" | "afternoon" | "evening" | "night" | "unspecified";

export interface DialogueLine {
  speaker: string;
  line: string;
}

export interface GeneratedScene {
  scene_number: number;
  location: string;
  time_of_day: TimeOfDay;
  characters: string[];
  key_actions: string[];
  visual_description: string;
  audio_requirements: string;
  narration: string;
  dialogue: DialogueLine[];
  estimated_duration_seconds: number;
}

export interface PlotContext {
  id: string;
  logline: string;
  themes?: string[];
}

export interface CharacterContext {
  name: string;
  role?: string;
  arc?: string | null;
}

export interface ScriptInput {
  chapterTitle: string;
  chapterNumber: number;
  content: string;
  style: ScriptStyle;
  plot?: PlotContext | null;
  characters?: CharacterContext[];
  /** Text of the whole book (or a large part), so a chapter that names someone once still knows them. */
  bookText?: string;
  /** What the video's quality allows (private.tier_ceilings): the script is written within it. */
  limits?: ScriptBudget;
  /** The text model to call (the quality's); the offline rules have one. */
  model?: string;
}

export interface ScriptBudget {
  scenes: number;
  speech_characters: number;
  video_seconds: number;
}

export interface GeneratedScript {
  title: string;
  script: string;
  characters: string[];
  scenes: GeneratedScene[];
  plot_usage: {
    plot_overview_id: string;
    plot_enhanced: boolean;
    character_enhanced: boolean;
    acts: { act: number; name: string; scenes: number[] }[];
    beats: { scene: number; beat: string }[];
    character_arcs: Record<string, string>;
  } | null;
}

const SPEECH_VERBS =
  "said|asked|whispered|shouted|replied|cried|called|answered|muttered|added|told|says|asks";
const PRONOUNS = new Set(["he", "she", "they", "i", "we"]);
const NOT_NAMES = new Set([
  "The",
  "A",
  "An",
  "And",
  "But",
  "Then",
  "When",
  "That",
  "This",
  "There",
  "Their",
  "They",
  "He",
  "She",
  "It",
  "I",
  "We",
  "You",
  "His",
  "Her",
  "Its",
  "On",
  "In",
  "At",
  "Out",
  "Far",
  "Through",
  "Not",
  "What",
  "Can",
  "My",
  "Your",
  "If",
  "As",
  "So",
  "Once",
  "After",
  "Before",
  "While",
  "Chapter",
  "Part",
  "Mr",
  "Mrs",
  "Ms",
  "Dr",
  "One",
  "Two",
]);
const PLACE_WORDS = [
  "lighthouse",
  "lamp room",
  "harbour",
  "harbor",
  "tower",
  "stairs",
  "kitchen",
  "house",
  "room",
  "garden",
  "forest",
  "village",
  "town",
  "city",
  "street",
  "road",
  "path",
  "beach",
  "shore",
  "sea",
  "river",
  "castle",
  "school",
  "classroom",
  "library",
  "office",
  "market",
  "ship",
  "boat",
  "station",
  "church",
  "hall",
  "cave",
  "mountain",
  "field",
  "farm",
  "palace",
  "camp",
  "bridge",
  "island",
  "laboratory",
  "lab",
];
const TIME_WORDS: [RegExp, TimeOfDay][] = [
  [/\b(dawn|sunrise|daybreak)\b/i, "dawn"],
  [/\bmidnight\b|\bnight\b|\bdark(ness)?\b/i, "night"],
  [/\b(evening|sunset|dusk|twilight)\b/i, "evening"],
  [/\bafternoon\b/i, "afternoon"],
  [/\b(noon|midday)\b/i, "noon"],
  [/\bmorning\b/i, "morning"],
];
const SCENE_BREAK =
  /^(at (dawn|midnight|noon|night|sunset|sunrise)|that (evening|night|morning|afternoon)|the next (day|morning)|later|meanwhile|hours later|on the (morning|evening|night)|by (morning|nightfall))/i;
const AMBIENCE: [RegExp, string][] = [
  [/\b(rain|storm|thunder)\b/i, "rain and storm"],
  [/\b(wind|gale)\b/i, "wind"],
  [/\b(sea|tide|waves?|harbour|harbor)\b/i, "sea"],
  [/\bfire\b/i, "crackling fire"],
  [/\b(crowd|market)\b/i, "crowd"],
];
const WORDS_PER_SECOND = 2.5;
const PLACE_NAME =
  /\b([A-Z][a-z]+) (Point|Bay|Street|Road|Hill|Lake|Island|Park|Castle|Bridge|Harbour|Harbor|Cove|Valley|Forest)\b/g;

/** Capitalised words that speak, or recur and never appear in lower case: the likely characters. */
/** Capitalised words that are titles, days, months or deities, not names ("Lady", "Monday", "God"). */
const NOT_PERSON_NAMES = new Set(
  ("Lady Lord Sir Madam Madame Mister Mr Mrs Miss Ms Dr Doctor Captain King Queen Prince Princess Duke " +
    "Duchess Earl Count Countess Baron Sister Brother Saint St Reverend Professor Colonel General Major " +
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July " +
    "August September October November December God Heaven Christ Christmas Easter Providence Majesty Highness")
    .split(" "),
);

export function findCharacterNames(content: string, known: string[] = []): string[] {
  const speaking = new Set<string>();
  for (const m of content.matchAll(new RegExp(`(?:${SPEECH_VERBS})\\s+([A-Z][a-z]+)`, "g"))) {
    speaking.add(m[1]);
  }
  for (const m of content.matchAll(new RegExp(`([A-Z][a-z]+)\\s+(?:${SPEECH_VERBS})\\b`, "g"))) {
    speaking.add(m[1]);
  }
  for (const m of content.matchAll(/(?:name was|I am|I'm|called)\s+([A-Z][a-z]+)/g)) speaking.add(m[1]);
  const counts = new Map<string, number>();
  for (const m of content.matchAll(/\b([A-Z][a-z]{2,})\b/g)) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  const places = new Set<string>();
  for (
    const m of content.matchAll(
      /\b(?:at|in|to|from|near|struck|reached|left)\s+([A-Z][a-z]+)(?:\s+([A-Z][a-z]+))?/g,
    )
  ) {
    if (NOT_PERSON_NAMES.has(m[1])) continue; // "at Lady Catherine": a person with a title
    places.add(m[1]);
    if (m[2]) places.add(m[2]);
  }
  for (const m of content.matchAll(PLACE_NAME)) places.add(m[1]).add(m[2]);
  const names = new Set(known.filter((k) => content.includes(k)));
  const person = (name: string) => !NOT_NAMES.has(name) && !NOT_PERSON_NAMES.has(name);
  for (const name of speaking) if (person(name)) names.add(name);
  for (const [name, n] of counts) {
    // A name recurs, is never written in lower case, and stands at least once inside a sentence
    // (a word that is only ever capitalised at a sentence's start is not a name).
    if (
      n >= 2 && person(name) && !places.has(name) &&
      !new RegExp(`\\b${name.toLowerCase()}\\b`).test(content) &&
      new RegExp(`[\\p{Ll},;]\\s+${name}\\b`, "u").test(content)
    ) {
      names.add(name);
    }
  }
  return [...names];
}

type Gender = "m" | "f";

/** Genders the text itself states: "I am Mara," she said; or "Mara ... . She ...". */
export function findGenders(content: string, names: string[]): Map<string, Gender> {
  const genders = new Map<string, Gender>();
  const pronoun = (p: string): Gender => (p.toLowerCase() === "she" ? "f" : "m");
  for (const m of content.matchAll(/I am ([A-Z][a-z]+)[,.!?]?["”]\s*,?\s*(he|she)\b/gi)) {
    if (names.includes(m[1])) genders.set(m[1], pronoun(m[2]));
  }
  for (const name of names) {
    if (genders.has(name)) continue;
    const m = new RegExp(`\\b${name}\\b[^.!?"“]*[.!?]\\s+(He|She)\\b`).exec(content);
    if (m) genders.set(name, pronoun(m[1]));
  }
  return genders;
}

export function detectLocation(text: string): string | null {
  const lower = text.toLowerCase();
  let best: { index: number; place: string } | null = null;
  for (const place of PLACE_WORDS) {
    const m = new RegExp(
      `\\b(?:in|at|on|to|into|inside|by|across|from|up|down|over|near|beside|towards?|through|along|outside|under|of) the (?:[a-z]+ )?${place}\\b`,
    ).exec(lower);
    if (m && (!best || m.index < best.index)) best = { index: m.index, place };
  }
  if (!best) {
    for (const place of PLACE_WORDS) {
      const m = new RegExp(`\\bthe (?:[a-z]+ )?${place}\\b`).exec(lower);
      if (m && (!best || m.index < best.index)) best = { index: m.index, place };
    }
  }
  return best ? best.place.replace(/\b\w/g, (c) => c.toUpperCase()) : null;
}

function detectTime(text: string): TimeOfDay | null {
  for (const [pattern, time] of TIME_WORDS) if (pattern.test(text)) return time;
  return null;
}

interface SpeakerContext {
  names: string[];
  genders: Map<string, Gender>;
  history: string[];
}

/** Who "he" or "she" most likely is: a character of that gender (or unknown) who did not just speak. */
function resolvePronoun(pronoun: string, ctx: SpeakerContext): string | undefined {
  const wanted: Gender | null = /^she$/i.test(pronoun) ? "f" : /^he$/i.test(pronoun) ? "m" : null;
  const last = ctx.history.at(-1);
  const candidates = ctx.names.filter((n) => !wanted || ctx.genders.get(n) !== (wanted === "f" ? "m" : "f"));
  const ranked = [...candidates].sort((a, b) =>
    Number(a === last) - Number(b === last) ||
    Number(ctx.genders.get(b) === wanted) - Number(ctx.genders.get(a) === wanted)
  );
  return ranked[0];
}

/** Quoted lines of a paragraph with their speakers; the context carries who spoke before. */
function extractDialogue(paragraph: string, ctx: SpeakerContext): DialogueLine[] {
  const lines: DialogueLine[] = [];
  const quote = /["“]([^"”]+)["”]/g;
  let m: RegExpExecArray | null;
  while ((m = quote.exec(paragraph))) {
    const after = paragraph.slice(m.index + m[0].length, m.index + m[0].length + 60);
    const before = paragraph.slice(Math.max(0, m.index - 60), m.index);
    const attribution = new RegExp(
      `^\\s*,?\\s*(?:(?:${SPEECH_VERBS})\\s+([A-Z][a-z]+)|([A-Z][a-z]+|he|she|they|I)\\s+(?:${SPEECH_VERBS}))`,
      "i",
    ).exec(after);
    const attributed = attribution?.[1] ?? attribution?.[2] ??
      /([A-Z][a-z]+)\s+(?:said|asked|replied)[^"“]*$/.exec(before)?.[1];
    const selfNamed = /\bI am ([A-Z][a-z]+)/.exec(m[1])?.[1];
    let speaker: string | undefined;
    if (selfNamed && ctx.names.includes(selfNamed)) speaker = selfNamed;
    else if (attributed && ctx.names.includes(attributed)) speaker = attributed;
    else if (attributed && PRONOUNS.has(attributed.toLowerCase())) speaker = resolvePronoun(attributed, ctx);
    else {
      const last = ctx.history.at(-1);
      speaker = lines.at(-1)?.speaker ?? [...ctx.history].reverse().find((n) => n !== last);
    }
    speaker ??= ctx.names.find((n) => paragraph.includes(n)) ?? "Narrator";
    lines.push({ speaker, line: m[1].trim().replace(/,$/, ".") });
    ctx.history.push(speaker);
  }
  return lines;
}

/** What one script may hold, so one generation's cost is bounded (the same limits are checks in SQL). */
export const SCRIPT_LIMITS = {
  scenes: 60,
  textChars: 2000,
  dialogueLines: 40,
  lineChars: 500,
  sceneSeconds: 600,
  /** A scene's speech, narration and dialogue together: 600 s at 12 characters a second, slower than
   * any voice we use, so no scene's audio passes the stages' 600 s limit. */
  sceneSpeechChars: 7200,
};

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), max / 2))}…`;
}

/** Scenes within SCRIPT_LIMITS: at most 60, texts and dialogue clipped, durations capped, a scene's
 * speech within sceneSpeechChars; and within
 * `budget` when given: its scenes, its characters of speech (every spoken text shortened in proportion)
 * and its seconds (every scene's duration likewise). */
export function boundScenes(scenes: GeneratedScene[], budget?: ScriptBudget): GeneratedScene[] {
  const L = SCRIPT_LIMITS;
  const bounded = scenes.slice(0, Math.min(L.scenes, budget?.scenes ?? L.scenes)).map((scene, i) => {
    const clipped = {
      ...scene,
      scene_number: i + 1,
      visual_description: clip(scene.visual_description, L.textChars),
      narration: clip(scene.narration ?? "", L.textChars),
      dialogue: scene.dialogue.slice(0, L.dialogueLines).map((d) => ({
        ...d,
        line: clip(d.line, L.lineChars),
      })),
      estimated_duration_seconds: Math.min(scene.estimated_duration_seconds, L.sceneSeconds),
    };
    return shortenSpeech(clipped, Math.min(1, L.sceneSpeechChars / Math.max(spokenChars([clipped]), 1)), 1);
  });
  if (!budget) return bounded;
  const seconds = bounded.reduce((n, s) => n + s.estimated_duration_seconds, 0);
  const textShare = Math.min(1, budget.speech_characters / Math.max(spokenChars(bounded), 1));
  const timeShare = Math.min(1, budget.video_seconds / Math.max(seconds, 1));
  return bounded.map((scene) => shortenSpeech(scene, textShare, timeShare));
}

function spokenChars(scenes: GeneratedScene[]): number {
  return scenes.reduce(
    (n, s) => n + s.narration.length + s.dialogue.reduce((m, d) => m + d.line.length, 0),
    0,
  );
}

/** Every spoken text of a scene cut to `textShare` of its length (a line left too short goes), and its
 * duration to `timeShare`. */
function shortenSpeech(scene: GeneratedScene, textShare: number, timeShare: number): GeneratedScene {
  if (textShare === 1 && timeShare === 1) return scene;
  const shorten = (text: string) => {
    const max = Math.floor(text.length * textShare);
    return max < 2 ? "" : clip(text, max);
  };
  return {
    ...scene,
    narration: shorten(scene.narration),
    dialogue: scene.dialogue.map((d) => ({ ...d, line: shorten(d.line) })).filter((d) => d.line),
    estimated_duration_seconds: Math.max(1, Math.floor(scene.estimated_duration_seconds * timeShare)),
  };
}

function groupIntoScenes(paragraphs: string[], maxScenes: number, maxWords = 90): string[][] {
  // A long chapter gets longer scenes rather than more than the limit allows.
  // (A group holds up to 1.5 times maxWords, so about total / (1.5 * maxWords) groups.)
  maxWords = Math.max(maxWords, Math.ceil(wordCount(paragraphs.join(" ")) / (maxScenes * 4 / 3)));
  const groups: string[][] = [];
  let current: string[] = [];
  let words = 0;
  for (const p of paragraphs) {
    const breakHere = current.length > 0 && (SCENE_BREAK.test(p) || words + wordCount(p) > maxWords * 1.5);
    if (breakHere) {
      groups.push(current);
      current = [];
      words = 0;
    }
    current.push(p);
    words += wordCount(p);
  }
  if (current.length) groups.push(current);
  return groups;
}

function stripQuotes(text: string): string {
  return text.replace(/["“][^"”]*["”]\s*,?\s*/g, " ").replace(/\s+/g, " ").trim();
}

export function generateScriptByRules(input: ScriptInput): GeneratedScript {
  const paragraphs = paragraphsOf(input.content);
  if (paragraphs.length === 0) throw new Error(`chapter "${input.chapterTitle}" has no text to script`);
  const bookText = input.bookText ?? input.content;
  const knownNames = [...(input.characters ?? []).map((c) => c.name), ...findCharacterNames(bookText)];
  const names = findCharacterNames(input.content, knownNames);
  const speakers: SpeakerContext = { names, genders: findGenders(bookText, names), history: [] };
  let location = "Unspecified";
  let time: TimeOfDay = "unspecified";

  const scenes: GeneratedScene[] = boundScenes(
    groupIntoScenes(paragraphs, Math.min(SCRIPT_LIMITS.scenes, input.limits?.scenes ?? SCRIPT_LIMITS.scenes))
      .map((group, i) => {
        const text = group.join(" ");
        location = detectLocation(text) ?? location;
        time = detectTime(group[0]) ?? detectTime(text) ?? time;
        const dialogue = group.flatMap((p) => extractDialogue(p, speakers));
        const narrativeSentences = sentences(stripQuotes(text)).filter((s) => wordCount(s) >= 3);
        const present = names.filter((n) => text.includes(n) || dialogue.some((d) => d.speaker === n));
        const narration = input.style === "cinematic"
          ? narrativeSentences.slice(0, 2).join(" ")
          : narrativeSentences.join(" ");
        const spoken = wordCount(narration) + dialogue.reduce((n, d) => n + wordCount(d.line), 0);
        const ambience = AMBIENCE.filter(([p]) => p.test(text)).map(([, a]) => a);
        return {
          scene_number: i + 1,
          location,
          time_of_day: time,
          characters: present,
          key_actions: narrativeSentences.slice(0, 3),
          visual_description: `${location}, ${time === "unspecified" ? "time unknown" : time}. ${
            narrativeSentences[0] ?? text.slice(0, 160)
          }`,
          audio_requirements: [
            narration ? "narrator voice" : null,
            dialogue.length ? `dialogue: ${[...new Set(dialogue.map((d) => d.speaker))].join(", ")}` : null,
            ambience.length ? `ambience: ${ambience.join(", ")}` : null,
          ].filter(Boolean).join("; "),
          narration,
          dialogue,
          estimated_duration_seconds: Math.max(2, Math.round((spoken / WORDS_PER_SECOND) * 10) / 10),
        };
      }),
    input.limits,
  );

  const title = `Chapter ${input.chapterNumber}: ${input.chapterTitle}`;
  const characters = [...new Set(scenes.flatMap((s) => s.characters))];
  return {
    title,
    script: formatScript(title, scenes, input.style),
    characters,
    scenes,
    plot_usage: input.plot ? plotUsage(input.plot, scenes, input.characters ?? []) : null,
  };
}

export function formatScript(title: string, scenes: GeneratedScene[], style: ScriptStyle): string {
  const out = [title.toUpperCase(), ""];
  for (const s of scenes) {
    if (style === "cinematic") {
      const place =
        /harbour|harbor|beach|shore|sea|path|road|street|field|garden|forest|mountain|island|bridge/i
            .test(s.location)
          ? "EXT."
          : "INT.";
      out.push(
        `SCENE ${s.scene_number}. ${place} ${s.location.toUpperCase()} - ${s.time_of_day.toUpperCase()}`,
        "",
      );
      if (s.narration) out.push(s.narration, "");
      for (const d of s.dialogue) out.push(`    ${d.speaker.toUpperCase()}`, `  ${d.line}`, "");
    } else if (style === "narration") {
      out.push(`[${s.scene_number}] ${s.location}, ${s.time_of_day}`, s.narration);
      for (const d of s.dialogue) out.push(`${d.speaker}: "${d.line}"`);
      out.push("");
    } else {
      out.push(`Segment ${s.scene_number}: ${s.location} (${s.time_of_day})`, `Narrator: ${s.narration}`);
      if (s.key_actions.length) out.push(`Key points:`, ...s.key_actions.map((k) => `  - ${k}`));
      for (const d of s.dialogue) out.push(`Example (${d.speaker}): "${d.line}"`);
      out.push(`Question: What changes in this segment, and why?`, "");
    }
  }
  return out.join("\n").trim() + "\n";
}

export function plotUsage(plot: PlotContext, scenes: GeneratedScene[], characters: CharacterContext[]) {
  const n = scenes.length;
  const cut1 = Math.max(1, Math.round(n / 4));
  const cut2 = Math.max(cut1 + 1, Math.round((3 * n) / 4));
  const numbers = scenes.map((s) => s.scene_number);
  const present = new Set(scenes.flatMap((s) => s.characters));
  return {
    plot_overview_id: plot.id,
    plot_enhanced: true,
    character_enhanced: characters.some((c) => present.has(c.name)),
    acts: [
      { act: 1, name: "setup", scenes: numbers.slice(0, cut1) },
      { act: 2, name: "confrontation", scenes: numbers.slice(cut1, cut2) },
      { act: 3, name: "resolution", scenes: numbers.slice(cut2) },
    ].filter((a) => a.scenes.length > 0),
    beats: scenes.map((s) => ({ scene: s.scene_number, beat: s.key_actions[0] ?? s.visual_description })),
    character_arcs: Object.fromEntries(
      characters.filter((c) => present.has(c.name)).map((
        c,
      ) => [c.name, c.arc ?? `${c.role ?? "character"} in ${plot.logline}`]),
    ),
  };
}
