/** Voice casting shared by every speech provider: one stable voice per speaker, its own for the narrator. */

function hashOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export const NARRATOR = "Narrator";

export function castVoice(speakerKey: string, narratorVoice: string, voices: readonly string[]): string {
  return speakerKey === NARRATOR ? narratorVoice : voices[hashOf(speakerKey) % voices.length];
}
