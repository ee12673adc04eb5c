-- Scheduled jobs: daily cost and model rollups, the billing-period safety net, the stuck-generation
-- reaper and archive cleanup. Each is a plain function (tests call them directly); pg_cron runs them.

-- One day's costs per user, from that day's usage_logs only (a range scan of usage_logs_created_at_idx).
-- Re-running a day replaces its rows; users with no usage that day lose a stale row.
create or replace function private.rollup_daily_costs(p_day date)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  written integer;
begin
  -- One pass over the day: per user and resource type, and per user (distinct videos need that level).
  with day_usage as (
    select l.user_id, l.resource_type, grouping(l.resource_type) = 1 as user_total,
      pg_catalog.sum(l.cost_usd) as cost, pg_catalog.count(*) as requests,
      pg_catalog.count(distinct l.video_generation_id) as videos
    from public.usage_logs l
    where l.created_at >= p_day::timestamptz and l.created_at < (p_day + 1)::timestamptz
    group by grouping sets ((l.user_id, l.resource_type), (l.user_id))
  ), per_user as (
    select d.user_id,
      pg_catalog.max(d.cost) filter (where d.user_total) as total,
      pg_catalog.max(d.requests) filter (where d.user_total)::integer as requests,
      pg_catalog.max(d.videos) filter (where d.user_total)::integer as videos,
      pg_catalog.jsonb_object_agg(d.resource_type, d.cost) filter (where not d.user_total) as by_resource
    from day_usage d group by d.user_id
  ), upserted as (
    insert into public.cost_aggregations (user_id, period_date, total_cost_usd, request_count, video_count, cost_by_resource)
    select p.user_id, p_day, p.total, p.requests, p.videos, p.by_resource
    from per_user p
    on conflict (user_id, period_date) do update
      set total_cost_usd = excluded.total_cost_usd, request_count = excluded.request_count,
          video_count = excluded.video_count, cost_by_resource = excluded.cost_by_resource
    returning user_id
  )
  select pg_catalog.count(*) into written from upserted;
  delete from public.cost_aggregations a
  where a.period_date = p_day
    and not exists (select 1 from public.usage_logs l where l.user_id = a.user_id
                    and l.created_at >= p_day::timestamptz and l.created_at < (p_day + 1)::timestamptz);
  return written;
end;
$$;

-- One day's requests, successes, failures, latency and cost per model.
create or replace function private.rollup_model_metrics(p_day date)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  written integer;
begin
  with upserted as (
    insert into public.model_metrics (model, provider, metric_date, request_count, success_count, failure_count,
      avg_latency_ms, avg_cost_usd, total_cost_usd)
    select l.model, pg_catalog.min(l.provider), p_day, pg_catalog.count(*), pg_catalog.count(*) filter (where l.success),
      pg_catalog.count(*) filter (where not l.success), pg_catalog.round(pg_catalog.avg(l.duration_ms), 2),
      pg_catalog.round(pg_catalog.avg(l.cost_usd), 6), pg_catalog.sum(l.cost_usd)
    from public.usage_logs l
    where l.created_at >= p_day::timestamptz and l.created_at < (p_day + 1)::timestamptz
    group by l.model
    on conflict (model, metric_date) do update
      set provider = excluded.provider, request_count = excluded.request_count, success_count = excluded.success_count,
          failure_count = excluded.failure_count, avg_latency_ms = excluded.avg_latency_ms,
          avg_cost_usd = excluded.avg_cost_usd, total_cost_usd = excluded.total_cost_usd
    returning 1
  )
  select pg_catalog.count(*) into written from upserted;
  return written;
end;
$$;

-- What cron runs: yesterday (final) and today (so far). Nothing older is rescanned.
create or replace function private.run_daily_rollups()
returns void
language sql
security definer
set search_path = ''
as $$
  select private.rollup_daily_costs(current_date - 1), private.rollup_daily_costs(current_date),
         private.rollup_model_metrics(current_date - 1), private.rollup_model_metrics(current_date);
$$;

-- Safety net for billing periods that ended without a renewal from Stripe (and for free tiers, which
-- Stripe never renews): the period moves forward to contain now, the video count returns to zero.
create or replace function private.reset_billing_periods()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  renewed integer;
begin
  with ended as (
    select s.id, s.user_id, s.tier, s.status, s.current_period_start, s.current_period_end,
      pg_catalog.ceil(extract(epoch from pg_catalog.now() - s.current_period_end) / extract(epoch from interval '30 days'))::integer
        as periods
    from public.user_subscriptions s
    where s.current_period_end <= pg_catalog.now() and s.status in ('active', 'trialing')
    for update
  ), moved as (
    update public.user_subscriptions s
    set video_count_used = 0,
        current_period_start = s.current_period_start + (e.periods || ' months')::interval,
        current_period_end = s.current_period_end + (e.periods || ' months')::interval
    from ended e where s.id = e.id
    returning s.id, s.user_id, s.tier, s.status
  ), logged as (
    insert into public.subscription_history (user_id, subscription_id, previous_tier, new_tier, previous_status, new_status,
      change_reason, metadata)
    select m.user_id, m.id, m.tier, m.tier, m.status, m.status, 'renewal', '{"source": "billing_period_reset"}'
    from moved m
    returning 1
  )
  select pg_catalog.count(*) into renewed from logged;
  return renewed;
end;
$$;

-- How long a stage may sit without progress before the reaper looks at it.
create or replace function private.step_timeout(p_step public.pipeline_step)
returns interval
language sql
immutable
set search_path = ''
as $$
  select case p_step when 'script' then interval '10 minutes' when 'images' then interval '15 minutes'
    when 'audio' then interval '15 minutes' when 'video' then interval '30 minutes'
    when 'lipsync' then interval '30 minutes' else interval '15 minutes' end
$$;

-- Generations stuck in a step past its timeout: when their queue holds no message for them (it was
-- lost), the step's unfinished units are queued again, at most twice; otherwise, or after that,
-- the generation fails with a message saying so, and retry_video_generation can resume it.
create or replace function private.reap_stuck_generations()
returns table (generation_id uuid, action text)
language plpgsql
security definer
set search_path = ''
as $$
declare
  stuck record;
  waiting boolean;
  reaped integer;
begin
  for stuck in
    select g.id, g.current_step, g.updated_at, coalesce((g.pipeline_metadata ->> 'reaped')::integer, 0) as reaped
    from public.video_generations g
    where g.status in ('queued', 'processing') and g.current_step is not null
      and g.updated_at < pg_catalog.now() - private.step_timeout(g.current_step)
    for update skip locked
  loop
    execute pg_catalog.format('select exists (select 1 from pgmq.%I where message ->> ''generation_id'' = $1)',
      'q_' || stuck.current_step) into waiting using stuck.id::text;
    if not waiting and stuck.reaped < 2 then
      reaped := private.enqueue_stage(stuck.id, stuck.current_step);
      update public.video_generations g
      set pipeline_metadata = g.pipeline_metadata || pg_catalog.jsonb_build_object('reaped', stuck.reaped + 1)
      where g.id = stuck.id;
      generation_id := stuck.id; action := 'requeued ' || reaped || ' units';
    else
      update public.video_generations g
      set status = 'failed', completed_at = pg_catalog.now(),
          error_message = pg_catalog.format('stuck in the %s step since %s (no progress within %s); retry to resume',
            stuck.current_step, pg_catalog.to_char(stuck.updated_at, 'YYYY-MM-DD HH24:MI'), private.step_timeout(stuck.current_step))
      where g.id = stuck.id;
      generation_id := stuck.id; action := 'failed';
    end if;
    return next;
  end loop;
end;
$$;

-- Archived queue messages are kept 30 days for inspection, then deleted.
create or replace function private.purge_queue_archives(p_older_than interval default interval '30 days')
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  queue record;
  removed bigint;
  total bigint := 0;
begin
  for queue in select q.queue_name from pgmq.list_queues() q loop
    execute pg_catalog.format('delete from pgmq.%I where archived_at < pg_catalog.now() - $1', 'a_' || queue.queue_name)
      using p_older_than;
    get diagnostics removed = row_count;
    total := total + removed;
  end loop;
  return total;
end;
$$;

revoke all on function private.rollup_daily_costs(date), private.rollup_model_metrics(date), private.run_daily_rollups(),
  private.reset_billing_periods(), private.reap_stuck_generations(), private.purge_queue_archives(interval),
  private.step_timeout(public.pipeline_step)
  from public, anon, authenticated;
grant execute on function private.rollup_daily_costs(date), private.rollup_model_metrics(date), private.run_daily_rollups(),
  private.reset_billing_periods(), private.reap_stuck_generations(), private.purge_queue_archives(interval)
  to service_role;

-- The schedules (pg_cron is in the local stack and on hosted Supabase; skipped where it is absent).
do $$
begin
  if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    perform cron.schedule('daily-rollups', '10 * * * *', 'select private.run_daily_rollups()');
    perform cron.schedule('billing-period-reset', '5 * * * *', 'select private.reset_billing_periods()');
    perform cron.schedule('reap-stuck-generations', '* * * * *', 'select private.reap_stuck_generations()');
    perform cron.schedule('purge-queue-archives', '30 3 * * *', 'select private.purge_queue_archives()');
  end if;
end;
$$;
