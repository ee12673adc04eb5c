/** Script stage: the chapter's script and scene breakdown in the requested style. */
import type { StageDeps } from "../_shared/pipeline/deps.ts";
import type { StepHandler } from "../_shared/pipeline/worker.ts";
import type { CharacterContext, PlotContext } from "../_shared/providers/text/script_rules.ts";

interface ScriptContext {
  chapter: { id: string; number: number; title: string; content: string };
  book_text: string;
  plot: PlotContext | null;
  characters: CharacterContext[];
}

export function scriptStage(deps: StageDeps<"script">): StepHandler {
  return async (context) => {
    const { chapter, book_text, plot, characters } = context as unknown as ScriptContext;
    const { script, model, usage } = await deps.providers.script.generateScript({
      chapterTitle: chapter.title,
      chapterNumber: chapter.number,
      content: chapter.content,
      style: context.script_style,
      plot,
      characters,
      bookText: book_text,
      limits: context.limits,
      model: context.model,
    });
    return {
      outputs: { ...script, model, provider: model.startsWith("offline") ? "offline" : "openai" },
      usage,
    };
  };
}
