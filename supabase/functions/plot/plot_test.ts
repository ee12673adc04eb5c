/** Plot overviews through the plot queue, user edits across versions, and plot-aware scripts. */
import assert from "node:assert/strict";
import { offlineContent } from "../_shared/providers/content.ts";
import { errorResponse } from "../_shared/http.ts";
import { offlineScript } from "../_shared/providers/offline.ts";
import type { ScriptProvider } from "../_shared/providers/types.ts";
import {
  asUser,
  createTestBook,
  createTestUser,
  deleteTestUser,
  SAMPLE_CHAPTER,
  withSql,
} from "../_shared/testing.ts";
import { generateScript } from "../generate-script/generate.ts";
import { runPlot } from "./plot.ts";

Deno.test("plot overviews, characters with archetypes, versions that keep user edits, plot-aware scripts", async () => {
  await withSql(async (sql) => {
    const owner = await createTestUser(sql, "plot-owner");
    const other = await createTestUser(sql, "plot-other");
    try {
      const { bookId, chapterIds } = await createTestBook(sql, owner, [{
        title: "Arrival",
        content: SAMPLE_CHAPTER,
      }]);
      await assert.rejects(
        asUser(sql, other, (tx) => tx`select public.generate_plot_overview(${bookId})`),
        /not found among yours/,
      );
      await asUser(sql, owner, (tx) => tx`select public.generate_plot_overview(${bookId})`);
      await runPlot(sql, offlineContent);

      const [plot] =
        await sql`select * from public.plot_overviews where book_id = ${bookId} and status = 'active'`;
      assert.equal(plot.version, 1);
      assert.match(plot.logline, /Mara/);
      assert.ok(plot.themes.length > 0 && plot.story_type && plot.tone && plot.setting && plot.audience);
      assert.deepEqual(
        [plot.generation_method, plot.model_used, Number(plot.generation_cost) > 0],
        ["offline", "offline-rules-v1", true],
        "how the plot was made and what it cost",
      );
      const characters = await sql`
        select c.name, c.role, a.name as archetype, c.want, c.need, c.lie, c.ghost, c.user_id, c.generation_method
        from public.characters c
        left join public.character_archetypes a on c.archetypes = jsonb_build_array(a.id)
        where c.plot_overview_id = ${plot.id} order by c.name`;
      assert.deepEqual(characters.map((c) => c.name), ["Mara", "Tomas"]);
      assert.ok(
        characters.every((c) =>
          c.archetype && c.want && c.need && c.lie && c.ghost && c.user_id === owner &&
          c.generation_method === "offline"
        ),
      );

      // The owner edits a character; regenerating archives version 1 and keeps the edit.
      await asUser(
        sql,
        owner,
        (tx) =>
          tx`update public.characters set personality = 'Stubborn and kind' where plot_overview_id = ${plot.id} and name = 'Tomas'`,
      );
      await asUser(sql, owner, (tx) => tx`select public.generate_plot_overview(${bookId})`);
      await runPlot(sql, offlineContent);
      const versions =
        await sql`select version, status from public.plot_overviews where book_id = ${bookId} order by version`;
      assert.deepEqual(versions.map((v) => [v.version, v.status]), [[1, "archived"], [2, "active"]]);
      const [tomas] = await sql`
        select c.personality, c.user_edited from public.characters c join public.plot_overviews p on p.id = c.plot_overview_id
        where p.book_id = ${bookId} and p.status = 'active' and c.name = 'Tomas'`;
      assert.deepEqual([tomas.personality, tomas.user_edited], ["Stubborn and kind", true]);

      // A script with the plot: scenes and a chapter_scripts row marked as plot and character enhanced.
      await assert.rejects(
        generateScript(sql, offlineScript, other, { chapter_id: chapterIds[0], style: "narration" }),
        /not found among your books/,
      );
      await assert.rejects(
        generateScript(sql, offlineScript, owner, { chapter_id: chapterIds[0], style: "poem" }),
        /style/,
      );
      const made = await generateScript(sql, offlineScript, owner, {
        chapter_id: chapterIds[0],
        style: "educational",
      });
      assert.equal(made.plot_enhanced, true);
      assert.equal(made.character_enhanced, true);
      const [script] = await sql`select * from public.scripts where id = ${made.script_id}`;
      assert.equal(script.script_style, "educational");
      assert.equal(script.user_id, owner);
      const scenes =
        await sql`select * from public.scene_descriptions where script_id = ${made.script_id} order by scene_number`;
      assert.equal(scenes.length, made.scenes);
      assert.ok(scenes.every((s) => s.location && s.time_of_day && s.visual_description));
      const [link] = await sql`select * from public.chapter_scripts where script_id = ${made.script_id}`;
      assert.equal(
        link.plot_overview_id,
        (await sql`select id from public.plot_overviews where book_id = ${bookId} and status = 'active'`)[0]
          .id,
      );
      assert.ok(link.acts.length > 0);
      assert.deepEqual([link.status, link.version, link.scenes.length], ["active", 1, made.scenes]);
      assert.ok(link.character_details.some((c: { name: string }) => c.name === "Mara"));
      assert.equal(script.story_type, plot.story_type, "the script carries the plot's story type");
      assert.ok(JSON.parse(script.character_details).some((c: { name: string }) => c.name === "Mara"));

      // A second script in the same style becomes the active one; the first is archived and linked to it.
      const again = await generateScript(sql, offlineScript, owner, {
        chapter_id: chapterIds[0],
        style: "educational",
      });
      const versions2 = await sql`
        select id, version, status, linked_script_id from public.scripts
        where chapter_id = ${chapterIds[0]} and script_style = 'educational' order by version`;
      assert.deepEqual(versions2.map((v) => [v.version, v.status, v.linked_script_id]), [
        [1, "archived", again.script_id],
        [2, "active", null],
      ]);

      // Nobody else reads any of it.
      const seen = await asUser(sql, other, async (tx) => {
        const [counts] = await tx`
          select (select count(*) from public.plot_overviews where book_id = ${bookId})::integer as plots,
                 (select count(*) from public.characters where book_id = ${bookId})::integer as characters,
                 (select count(*) from public.scripts where chapter_id = ${
          chapterIds[0]
        })::integer as scripts,
                 (select count(*) from public.chapter_scripts where chapter_id = ${
          chapterIds[0]
        })::integer as links`;
        return counts;
      });
      assert.deepEqual({ ...seen }, { plots: 0, characters: 0, scripts: 0, links: 0 });
      const [{ usage }] = await sql`
        select count(*)::integer as usage from public.usage_logs where user_id = ${owner} and operation in ('plot', 'script')`;
      assert.equal(usage, 4, "two plot runs and two scripts are costed");
    } finally {
      await deleteTestUser(sql, owner);
      await deleteTestUser(sql, other);
    }
  });
});

Deno.test("paid work outside a video is reserved first: settled by its usage, refused past the period's budget", async () => {
  await withSql(async (sql) => {
    const owner = await createTestUser(sql, "reserve-owner");
    try {
      const { chapterIds } = await createTestBook(sql, owner, [{
        title: "Arrival",
        content: SAMPLE_CHAPTER,
      }]);
      let calls = 0;
      const counted: ScriptProvider = {
        generateScript: (input) => {
          calls++;
          return offlineScript.generateScript(input);
        },
      };
      await generateScript(sql, counted, owner, { chapter_id: chapterIds[0] });
      const reservations = await sql`
        select r.model, r.status, (select count(*)::int from public.usage_logs l
          where l.idempotency_key like r.key || ':%') as logged
        from private.cost_reservations r where r.user_id = ${owner}`;
      assert.deepEqual(reservations.map((r) => ({ ...r })), [{
        model: "gpt-4o-mini",
        status: "settled",
        logged: 1,
      }]);

      // The rest of the free period's $2 is spent: the next script is refused before its call.
      await sql`select private.record_usage(${owner}, null, 'eleven_multilingual_v2', 'plot', 'reserve-owner', 0, 0, 6666)`;
      await assert.rejects(
        generateScript(sql, counted, owner, { chapter_id: chapterIds[0] }),
        (e: { code?: string; message?: string }) =>
          e.code === "LT010" &&
          /would pass the free tier's budget of \$2\.00 with a gpt-4o-mini call/.test(e.message ?? ""),
      );
      assert.equal(calls, 1, "the refused script was never asked for");
      const answer = errorResponse(
        await generateScript(sql, counted, owner, { chapter_id: chapterIds[0] }).catch((e) => e),
      );
      assert.equal(answer.status, 402);
      assert.equal((await answer.json()).code, "budget_reached");
    } finally {
      await deleteTestUser(sql, owner);
    }
  });
});
