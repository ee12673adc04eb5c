/**
 * Offline plot overview by rules over the book: the characters the text names (up to ten, most
 * present first) with roles and archetypes, a logline from the opening and the protagonist,
 * themes, story type and tone from word lists, and the setting the text mentions most.
 */
import { detectLocation, findCharacterNames, findGenders } from "./script_rules.ts";
import { sentences } from "./text_utils.ts";

export interface PlotCharacter {
  name: string;
  role: string;
  archetype: string;
  character_arc: string;
  physical_description: string;
  personality: string;
  want: string;
  need: string;
  lie: string;
  ghost: string;
}

export interface PlotOverview {
  logline: string;
  themes: string[];
  story_type: string;
  genre: string;
  tone: string;
  audience: string;
  setting: string;
}

export interface PlotInput {
  title: string;
  genre: string | null;
  bookType: "learning" | "entertainment";
  chapters: { title: string; content: string }[];
}

const THEMES: [string, RegExp][] = [
  ["duty", /\b(duty|promise|keep\w*|responsib\w*|oath)\b/gi],
  ["courage", /\b(brave\w*|courage|fear\w*|dar\w+)\b/gi],
  ["loss", /\b(lost|loss|grief|death|died|mourn\w*|gone)\b/gi],
  ["belonging", /\b(home|family|belong\w*|stranger|welcome)\b/gi],
  ["love", /\b(love\w*|heart|kiss\w*)\b/gi],
  ["power", /\b(power|control|rule\w*|king|queen|throne)\b/gi],
  ["freedom", /\b(free\w*|escape\w*|chain\w*|prison)\b/gi],
  ["survival", /\b(storm|surviv\w*|wreck\w*|hunger|cold|danger)\b/gi],
  ["truth", /\b(secret\w*|truth|lie\w*|letter|hidden)\b/gi],
  ["growing up", /\b(child\w*|young|learn\w*|first time|grow\w*)\b/gi],
];

const STORY_TYPES: [string, RegExp][] = [
  ["overcoming the monster", /\b(monster|beast|enemy|villain|defeat\w*|battle)\b/gi],
  ["rags to riches", /\b(poor|rich\w*|fortune|gold|wealth)\b/gi],
  ["the quest", /\b(quest|journey|search\w*|find|seek\w*)\b/gi],
  ["voyage and return", /\b(voyage|return\w*|arriv\w*|harbour|harbor|sail\w*|home)\b/gi],
  ["comedy", /\b(laugh\w*|joke\w*|misunderst\w*|wedding)\b/gi],
  ["tragedy", /\b(death|died|ruin\w*|doom\w*|fall)\b/gi],
  ["rebirth", /\b(redeem\w*|forgiv\w*|new life|changed|renew\w*)\b/gi],
];

const TONES: [string, RegExp][] = [
  ["suspenseful", /\b(storm|dark|fear|danger|sudden\w*|scream\w*)\b/gi],
  ["warm", /\b(smil\w*|laugh\w*|warm|kind\w*|gentle)\b/gi],
  ["melancholic", /\b(sad|tears?|lonely|loss|grey|gray)\b/gi],
  ["mysterious", /\b(secret|strange|whisper\w*|shadow\w*|letter)\b/gi],
];

function ranked(text: string, table: [string, RegExp][]): { label: string; n: number }[] {
  return table.map(([label, re]) => ({ label, n: text.match(re)?.length ?? 0 })).sort((a, b) => b.n - a.n);
}

const ROLE_ARCHETYPE: Record<string, string> = {
  protagonist: "Hero",
  deuteragonist: "Ally",
  antagonist: "Shadow",
  mentor: "Mentor",
  sidekick: "Ally",
  love_interest: "Lover",
  supporting: "Everyman",
  minor: "Herald",
};

const MENTOR_WORDS = /\b(old|keeper|teacher|master|captain|grandfather|grandmother|elder|taught|showed)\b/i;
const ANTAGONIST_WORDS = /\b(enemy|cruel|threat\w*|betray\w*|villain|rival|sneer\w*)\b/i;

function sentencesAbout(name: string, all: string[]): string[] {
  const re = new RegExp(`\\b${name}\\b`);
  return all.filter((s) => re.test(s));
}

export function generatePlotByRules(
  input: PlotInput,
): { overview: PlotOverview; characters: PlotCharacter[] } {
  const text = input.chapters.map((c) => c.content).join("\n\n");
  const all = sentences(text);
  const counts = (name: string) => text.match(new RegExp(`\\b${name}\\b`, "g"))?.length ?? 0;
  const names = findCharacterNames(text).sort((a, b) => counts(b) - counts(a) || a.localeCompare(b)).slice(
    0,
    10,
  );
  const genders = findGenders(text, names);

  const characters: PlotCharacter[] = names.map((name, i) => {
    const about = sentencesAbout(name, all);
    const context = about.join(" ");
    const role = i === 0
      ? "protagonist"
      : ANTAGONIST_WORDS.test(context)
      ? "antagonist"
      : MENTOR_WORDS.test(context)
      ? "mentor"
      : i === 1
      ? "deuteragonist"
      : counts(name) >= 3
      ? "supporting"
      : "minor";
    const pronoun = genders.get(name) === "f" ? "she" : genders.get(name) === "m" ? "he" : "they";
    const described = about.find((s) =>
      /\b(hair|eyes|tall|short|old|young|face|hands|coat|wore|dressed)\b/i.test(s)
    );
    const wants = about.find((s) => /\b(want\w*|wish\w*|hope\w*|longed|dream\w*|must)\b/i.test(s));
    const fears = about.find((s) => /\b(fear\w*|afraid|worr\w*|doubt\w*)\b/i.test(s));
    const past = about.find((s) => /\b(remember\w*|once|years ago|used to|lost|never forgot)\b/i.test(s));
    return {
      name,
      role,
      archetype: ROLE_ARCHETYPE[role],
      character_arc: role === "protagonist"
        ? `${name} begins unsure of ${
          pronoun === "they" ? "their" : pronoun === "she" ? "her" : "his"
        } place and ends tested and changed.`
        : `${name} shapes the protagonist's path as ${role.replace("_", " ")}.`,
      physical_description: described ??
        `Described through action rather than appearance (${counts(name)} mentions).`,
      personality: about[0] ?? `${name} appears briefly.`,
      want: wants ?? `${name} wants what the opening scenes set in motion.`,
      need: role === "protagonist"
        ? "To trust others and accept the responsibility offered."
        : "To see the protagonist succeed.",
      lie: fears ?? `${name} believes ${pronoun} must manage alone.`,
      ghost: past ?? "Not stated in the text.",
    };
  });

  const themes = ranked(text, THEMES).filter((t) => t.n > 0).slice(0, 3).map((t) => t.label);
  const storyType = ranked(text, STORY_TYPES)[0];
  const tone = ranked(text, TONES)[0];
  const setting = detectLocation(text) ?? "an unnamed place";
  const protagonist = names[0] ?? "The protagonist";
  const opening = all.find((s) => s.split(/\s+/).length >= 6) ?? input.title;
  return {
    overview: {
      logline: `${protagonist} is drawn into ${themes[0] ?? "a test"} at ${setting.toLowerCase()}: ${opening}`
        .slice(0, 400),
      themes: themes.length > 0 ? themes : ["identity"],
      story_type: storyType.n > 0 ? storyType.label : "the quest",
      genre: input.genre ?? (input.bookType === "learning" ? "non-fiction" : "fiction"),
      tone: tone.n > 0 ? tone.label : "measured",
      audience: input.bookType === "learning" ? "learners" : "general readers",
      setting,
    },
    characters,
  };
}
