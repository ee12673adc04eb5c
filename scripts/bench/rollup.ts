/**
 * Rollup benchmark (figures, not a test): the daily cost and model rollups over 1,000,000 usage_logs
 * rows spread over 30 days and 1,000 users; reports the time per day and the plan of the day's scan.
 */
import { createSql } from "../../supabase/functions/_shared/db.ts";

const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const ROWS = Number(Deno.env.get("BENCH_USAGE_ROWS") ?? 1_000_000);
const sql = createSql(dbUrl, { max: 2 });
const seconds = (started: number) => ((performance.now() - started) / 1000).toFixed(2);

const users = (await sql`
  insert into auth.users (email) select 'rollup-bench-' || n || '@bench.local' from generate_series(1, 1000) n
  returning id`).map((r) => r.id as string);
try {
  let started = performance.now();
  await sql`
    insert into public.usage_logs (user_id, resource_type, provider, model_used, operation, input_tokens, units,
      duration_seconds, cost_usd, tier_at_time, success, created_at)
    select (${users}::uuid[])[1 + (n % 1000)],
      (array['script', 'embedding', 'image', 'audio', 'video']::public.resource_type[])[1 + (n % 5)],
      'offline', (array['gpt-4o-mini', 'text-embedding-3-small', 'modelslab-flux', 'espeak-ng', 'offline-ffmpeg-motion'])[1 + (n % 5)],
      'bench', n % 2000, n % 7, (50 + n % 900) / 1000.0, (n % 1000) / 100000.0, 'free', n % 50 <> 0,
      timestamptz '2026-01-01' + (n::double precision / ${ROWS}) * interval '30 days'
    from generate_series(1, ${ROWS}) n`;
  await sql`analyze public.usage_logs`;
  console.log(
    `usage_logs: ${ROWS.toLocaleString("en")} rows over 30 days and 1,000 users, loaded in ${
      seconds(started)
    } s`,
  );

  started = performance.now();
  const [{ written }] = await sql`select private.rollup_daily_costs('2026-01-15') as written`;
  console.log(
    `rollup_daily_costs, one day (~${Math.round(ROWS / 30).toLocaleString("en")} rows): ${written} users in ${
      seconds(started)
    } s`,
  );
  started = performance.now();
  await sql`select private.rollup_daily_costs('2026-01-15')`;
  console.log(`  the same day again (replaces its rows): ${seconds(started)} s`);
  started = performance.now();
  await sql`select private.rollup_model_metrics('2026-01-15')`;
  console.log(`rollup_model_metrics, one day: ${seconds(started)} s`);
  started = performance.now();
  await sql`select private.rollup_daily_costs(d::date) from generate_series(date '2026-01-01', date '2026-01-30', interval '1 day') d`;
  console.log(`rollup_daily_costs, all 30 days one after another: ${seconds(started)} s`);

  const plan = await sql`
    explain (analyze, buffers, costs off)
    select l.user_id, l.resource_type, sum(l.cost_usd), count(*), count(distinct l.video_generation_id)
    from public.usage_logs l
    where l.created_at >= timestamptz '2026-01-15' and l.created_at < timestamptz '2026-01-16'
    group by l.user_id, l.resource_type`;
  console.log("plan of one day's scan:");
  for (const row of plan) console.log(`  ${row["QUERY PLAN"]}`);
} finally {
  const started = performance.now();
  await sql`delete from public.cost_aggregations where period_start between '2026-01-01' and '2026-01-30'`;
  await sql`delete from public.model_metrics where date = '2026-01-15'`;
  await sql`delete from auth.users where id = any(${users})`;
  console.log(`cleaned up in ${seconds(started)} s`);
  await sql.end({ timeout: 5 });
}
