/**
 * A script of one chapter in a style, with its scene breakdown; uses the book's active plot and
 * characters when there are any (recorded in chapter_scripts). Ownership is checked under RLS.
 */
import { asUser, type Json, type Sql } from "../_shared/db.ts";
import { HttpError, uuidField } from "../_shared/http.ts";
import type { ScriptProvider } from "../_shared/providers/types.ts";
import type { CharacterContext, PlotContext, ScriptStyle } from "../_shared/providers/text/script_rules.ts";
import { recordUsage, reservedCall } from "../_shared/usage.ts";

const STYLES: ScriptStyle[] = ["cinematic", "narration", "educational"];

/** A script is written from the first 200,000 characters of its chapter, as in the pipeline's script stage. */
const SCRIPT_INPUT_CHARS = 200_000;

export interface GenerateScriptRequest {
  chapter_id?: unknown;
  style?: unknown;
}

export async function generateScript(
  sql: Sql,
  provider: ScriptProvider,
  userId: string,
  request: GenerateScriptRequest,
) {
  const style = (request.style ?? "cinematic") as ScriptStyle;
  if (!STYLES.includes(style)) {
    throw new HttpError(400, `"style" must be one of ${STYLES.join(", ")}`, "bad_request");
  }
  const chapterId = uuidField(request.chapter_id, "chapter_id");
  const started = performance.now();
  const context = await asUser(sql, userId, async (tx) => {
    await tx`select private.take_rate_limit('script')`;
    const [chapter] = await tx<
      { id: string; book_id: string; chapter_number: number; title: string; content: string }[]
    >`
      select id, book_id, chapter_number, title, left(content, ${SCRIPT_INPUT_CHARS}) as content
      from public.chapters where id = ${chapterId}`;
    if (!chapter) return null;
    const [plot] = await tx<PlotContext[]>`
      select id, logline, themes from public.plot_overviews where book_id = ${chapter.book_id} and status = 'active'`;
    const characters = plot
      ? await tx<CharacterContext[]>`
          select name, role, character_arc as arc from public.characters where plot_overview_id = ${plot.id} order by name`
      : [];
    return { chapter, plot: plot ?? null, characters: [...characters] };
  });
  if (!context) {
    throw new HttpError(404, `chapter ${chapterId} not found among your books`, "not_found");
  }
  const { chapter, plot, characters } = context;
  if (chapter.content.trim() === "") {
    throw new HttpError(422, "the chapter has no text to script", "empty_chapter");
  }

  // The user's quality's text model, its call bounded and reserved before it is made.
  const key = `script:${crypto.randomUUID()}`;
  const [{ quality_model, bound }] = await sql<{ quality_model: string; bound: Record<string, number> }[]>`
    select private.user_model(${userId}, 'text') as quality_model,
      private.script_call_bound(${chapter.content.length}) as bound`;
  const reservation = { key, userId, model: quality_model, quantity: bound };
  const { script, model, usage } = await reservedCall(sql, reservation, () =>
    provider.generateScript({
      chapterTitle: chapter.title,
      chapterNumber: chapter.chapter_number,
      content: chapter.content,
      style,
      plot,
      characters,
      model: quality_model,
    }));
  const scriptId = await sql.begin(async (tx) => {
    const [{ id }] = await tx<{ id: string }[]>`
      select private.save_generated_script(${userId}, ${chapter.id}, ${style},
        ${sql.json({ ...script, model } as unknown as Json)}, ${
      sql.json({ source: "generate-script" })
    }) as id`;
    await recordUsage(tx as unknown as Sql, userId, key, usage, performance.now() - started);
    return id;
  });
  return {
    script_id: scriptId,
    style,
    scenes: script.scenes.length,
    plot_enhanced: script.plot_usage?.plot_enhanced ?? false,
    character_enhanced: script.plot_usage?.character_enhanced ?? false,
  };
}
