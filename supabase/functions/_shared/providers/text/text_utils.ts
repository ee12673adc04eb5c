/** Plain-text helpers every rule-based text provider shares. */

export function sentences(text: string): string[] {
  return text.replace(/\s+/g, " ").match(/[^.!?]+[.!?]+["”]?|[^.!?]+$/g)?.map((s) => s.trim()).filter(
    Boolean,
  ) ?? [];
}

/**
 * A sentence at most `max` characters long, cut at a word with an ellipsis: text without sentence
 * ends (a 10,000-word run-on) would otherwise be quoted whole in every summary, concept and question.
 */
export function clipSentence(sentence: string, max = 400): string {
  if (sentence.length <= max) return sentence;
  const cut = sentence.slice(0, max);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), max / 2)).trimEnd()}…`;
}

const WORD = /\S+/g;

/** Words (runs of non-space), counted without making an array of them (a book has a million). */
export function wordCount(text: string): number {
  let words = 0;
  WORD.lastIndex = 0;
  while (WORD.exec(text) !== null) words++;
  return words;
}

export function paragraphsOf(content: string): string[] {
  return content.replace(/\r\n/g, "\n").split(/\n\s*\n/).map((p) => p.replace(/\s+/g, " ").trim()).filter(
    Boolean,
  );
}

/** Reading time at 238 words per minute, rounded up. */
export function readingMinutes(words: number): number {
  return Math.ceil(words / 238);
}

export const STOPWORDS = new Set(
  ("a about above after again against all am an and any are as at be because been before being below between " +
    "both but by can could did do does doing down during each few for from further had has have having he her " +
    "here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not " +
    "now of off on once only or other our ours out over own same she should so some such than that the their " +
    "them then there these they this those through to too under until up very was we were what when where which " +
    "while who whom why will with would you your yours said says one two also into upon like even still back " +
    "went came got get made make much many well")
    .split(" "),
);

/** Lower-case word tokens without stopwords, reduced to a crude stem so inflections meet. */
export function contentTerms(text: string): string[] {
  const terms: string[] = [];
  for (const match of text.toLowerCase().matchAll(/[a-z][a-z'’-]*[a-z]|[a-z]/g)) {
    const word = match[0].replace(/['’].*$/, "");
    if (word.length < 3 || STOPWORDS.has(word)) continue;
    terms.push(stem(word));
  }
  return terms;
}

export function stem(word: string): string {
  for (const suffix of ["ingly", "edly", "ings", "ing", "ers", "ies", "ied", "ed", "es", "er", "ly", "s"]) {
    if (word.length - suffix.length >= 4 && word.endsWith(suffix)) {
      const base = word.slice(0, -suffix.length);
      return suffix === "ies" || suffix === "ied" ? base + "y" : base;
    }
  }
  return word;
}
