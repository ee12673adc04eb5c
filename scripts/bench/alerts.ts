/**
 * Operator alerts benchmark (figures, not a test): the every-minute health check over 30 days of
 * history for 1,000 users (BENCH_ALERT_ROWS usage rows and as many reserved calls, the last day's
 * share inside the check's windows, 2% of calls failed, a few abandoned, failed generations with
 * provider errors); reports the check's time on its first run (raising) and on the next (seeing
 * again), and the plans of its two largest reads.
 */
import { createSql } from "../../supabase/functions/_shared/db.ts";

const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const ROWS = Number(Deno.env.get("BENCH_ALERT_ROWS") ?? 1_000_000);
const sql = createSql(dbUrl, { max: 2 });
const seconds = (started: number) => ((performance.now() - started) / 1000).toFixed(2);
const ms = (started: number) => (performance.now() - started).toFixed(0);

const [{ began }] = await sql`select clock_timestamp() as began`;
const users = (await sql`
  insert into auth.users (email) select 'alerts-bench-' || n || '@bench.local' from generate_series(1, 1000) n
  returning id`).map((r) => r.id as string);
try {
  let started = performance.now();
  // Failed generations for the released calls to point at, each with the provider errors fail_step records.
  const [{ book }] = await sql`
    insert into public.books (user_id, title) values (${users[0]}, 'Alerts bench') returning id as book`;
  const [{ chapter }] = await sql`
    insert into public.chapters (book_id, chapter_number, title, content) values (${book}, 1, 'One', 'Text.')
    returning id as chapter`;
  const generations = (await sql`
    insert into public.video_generations (user_id, chapter_id, script_style, status, error_message, pipeline_metadata)
    select ${
    users[0]
  }, ${chapter}, (array['cinematic', 'narration', 'educational']::public.script_style[])[1 + n % 3],
      'failed', 'images stage failed',
      jsonb_build_object('stages', jsonb_build_object('images', jsonb_build_object('errors',
        (select jsonb_agg(jsonb_build_object('unit', 'scene:' || a, 'attempt', a, 'retryable', true,
           'at', now() - (a * interval '1 minute'), 'error', 'modelslab answered HTTP 503: busy'))
         from generate_series(1, 5) a))))
    from generate_series(1, 100) n
    returning id`).map((r) => r.id as string);
  await sql`
    insert into public.usage_logs (user_id, resource_type, provider, model_used, operation, units, cost_usd,
      tier_at_time, success, created_at)
    select (${users}::uuid[])[1 + (n % 1000)],
      (array['script', 'image', 'audio', 'video']::public.resource_type[])[1 + (n % 4)], 'modelslab',
      (array['gpt-4o-mini', 'modelslab-flux', 'eleven_multilingual_v2', 'modelslab-image-to-video'])[1 + (n % 4)],
      'bench', n % 7, (n % 1000) / 10000.0, 'standard', true,
      now() - (n::double precision / ${ROWS}) * interval '30 days'
    from generate_series(1, ${ROWS}) n`;
  await sql`
    insert into private.cost_reservations (key, user_id, video_generation_id, step, unit_key, model, quantity,
      reserved_usd, status, settled_at, created_at, updated_at)
    select 'alerts-bench:' || n, (${users}::uuid[])[1 + (n % 1000)],
      case when n % 50 = 0 then (${generations}::uuid[])[1 + (n / 50) % 100] end,
      (array['script', 'images', 'audio', 'video']::public.pipeline_step[])[1 + (n % 4)], 'scene:1',
      (array['gpt-4o-mini', 'modelslab-flux', 'eleven_multilingual_v2', 'modelslab-image-to-video'])[1 + (n % 4)],
      '{}', (n % 1000) / 10000.0,
      case when n % 50 = 0 then 'released' when n % 5000 = 1 then 'abandoned'
        when n % 997 = 0 then 'open' else 'settled' end,
      t, t, t
    from generate_series(1, ${ROWS}) n, lateral (select now() - (n::double precision / ${ROWS}) * interval '30 days' as t) x`;
  await sql`analyze public.usage_logs`;
  await sql`analyze private.cost_reservations`;
  console.log(
    `${ROWS.toLocaleString("en")} usage rows and ${
      ROWS.toLocaleString("en")
    } reserved calls over 30 days and 1,000 users (${
      Math.round(ROWS / 30).toLocaleString("en")
    } of each a day), ` +
      `loaded in ${seconds(started)} s`,
  );

  started = performance.now();
  const [first] = await sql`select * from private.check_operator_alerts()`;
  console.log(
    `check_operator_alerts, first run: ${
      ms(started)
    } ms (raised ${first.raised}, seen again ${first.still_open})`,
  );
  for (let run = 1; run <= 3; run++) {
    started = performance.now();
    const [again] = await sql`select * from private.check_operator_alerts()`;
    console.log(
      `  run ${run + 1}: ${ms(started)} ms (raised ${again.raised}, seen again ${again.still_open})`,
    );
  }
  const kinds = await sql`
    select kind, count(*)::integer as n from public.operator_alerts where status = 'open' group by kind order by kind`;
  console.log(`open alerts: ${kinds.map((k) => `${k.kind} ${k.n}`).join(", ")}`);

  for (
    const [what, query] of [
      [
        "the day's spend per user",
        sql`explain (analyze, buffers, costs off)
          select l.user_id, sum(l.cost_usd) from public.usage_logs l
          where l.created_at >= now() - interval '1 day' group by l.user_id`,
      ],
      [
        "the hour's call outcomes",
        sql`explain (analyze, buffers, costs off)
          select r.model, count(*) filter (where r.status = 'released'), count(*) from private.cost_reservations r
          where r.updated_at >= now() - interval '1 hour' and r.status in ('settled', 'released') group by r.model`,
      ],
    ] as const
  ) {
    console.log(`plan of ${what}:`);
    for (const row of await query) console.log(`  ${row["QUERY PLAN"]}`);
  }
} finally {
  const started = performance.now();
  await sql`delete from auth.users where id = any(${users})`;
  await sql`delete from public.operator_alerts where first_seen_at >= ${began}`;
  console.log(`cleaned up in ${seconds(started)} s`);
  await sql.end({ timeout: 5 });
}
