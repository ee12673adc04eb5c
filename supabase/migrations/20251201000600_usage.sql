-- Usage and costs: one price per model, one row per provider call (written only through
-- private.record_usage), and the daily rollups per user and per model.
create type public.resource_type as enum ('script', 'image', 'audio', 'video', 'plot', 'embedding', 'lipsync', 'merge',
  'content');

create table private.model_prices (
  model text primary key,
  provider text not null,
  -- What the model does; text models are billed to the resource their operation produces.
  capability text not null,
  usd_per_1k_input_tokens numeric(12, 8) not null default 0,
  usd_per_1k_output_tokens numeric(12, 8) not null default 0,
  usd_per_unit numeric(12, 8) not null default 0,
  unit text not null default 'call',
  note text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint model_prices_capability_known check (capability in ('text', 'embedding', 'image', 'audio', 'video',
    'lipsync', 'merge')),
  constraint model_prices_non_negative check (usd_per_1k_input_tokens >= 0 and usd_per_1k_output_tokens >= 0 and usd_per_unit >= 0),
  constraint model_prices_unit_known check (unit in ('call', 'image', 'second', 'character'))
);
comment on table private.model_prices is 'Price per model: tokens for text, or per image, second or character.';
create trigger model_prices_set_updated_at before update on private.model_prices
  for each row execute function private.set_updated_at();
alter table private.model_prices enable row level security;

-- Offline models carry an estimate of local compute so costs flow through like hosted ones.
insert into private.model_prices (model, provider, capability, usd_per_1k_input_tokens, usd_per_1k_output_tokens, usd_per_unit, unit, note)
values
  ('offline-rules-v1', 'offline', 'text', 0.00001, 0.00001, 0, 'call', 'local compute estimate'),
  ('offline-hashed-bow-1536', 'offline', 'embedding', 0.000001, 0, 0, 'call', 'local compute estimate'),
  ('offline-card-renderer', 'offline', 'image', 0, 0, 0.0005, 'image', 'local compute estimate'),
  ('espeak-ng', 'offline', 'audio', 0, 0, 0.00002, 'second', 'local compute estimate'),
  ('offline-ffmpeg-motion', 'offline', 'video', 0, 0, 0.0001, 'second', 'local compute estimate'),
  ('offline-lipsync-passthrough', 'offline', 'lipsync', 0, 0, 0, 'call', 'no work done'),
  ('ffmpeg-concat', 'offline', 'merge', 0, 0, 0.00005, 'second', 'local compute estimate'),
  ('gpt-4o-mini', 'openai', 'text', 0.00015, 0.0006, 0, 'call', null),
  ('openai/gpt-4o-mini', 'openrouter', 'text', 0.00015, 0.0006, 0, 'call', 'the same model, billed by OpenRouter'),
  ('text-embedding-3-small', 'openai', 'embedding', 0.00002, 0, 0, 'call', null),
  ('eleven_multilingual_v2', 'elevenlabs', 'audio', 0, 0, 0.0003, 'character', null),
  ('modelslab-flux', 'modelslab', 'image', 0, 0, 0.0047, 'image', null),
  ('modelslab-image-to-video', 'modelslab', 'video', 0, 0, 0.02, 'second', null),
  ('modelslab-lipsync', 'modelslab', 'lipsync', 0, 0, 0.01, 'second', null);

-- The most one generation of a quality can cost at the price table's dearest model of each kind:
-- its ceilings' scenes and 4 portraits as images, its characters as speech, its seconds as video,
-- lipsync and merge, and a script call of 12,000 tokens in and 36,000 out.
create or replace function private.worst_case_generation_usd(p_quality public.quality_tier)
returns numeric
language sql
stable
security definer
set search_path = ''
as $$
  with dearest as (
    select m.capability, m.unit, pg_catalog.max(m.usd_per_unit) as per_unit,
      pg_catalog.max(m.usd_per_1k_input_tokens) as per_1k_in, pg_catalog.max(m.usd_per_1k_output_tokens) as per_1k_out
    from private.model_prices m group by m.capability, m.unit
  )
  select pg_catalog.round(
      coalesce((select pg_catalog.max(d.per_1k_in) * 12 + pg_catalog.max(d.per_1k_out) * 36 from dearest d
                where d.capability = 'text'), 0)
    + coalesce((select pg_catalog.max(d.per_unit) from dearest d where d.capability = 'image'), 0) * (c.max_scenes + 4)
    + coalesce((select pg_catalog.max(case d.unit when 'character' then d.per_unit * c.max_speech_characters
                                                 when 'second' then d.per_unit * c.max_video_seconds else 0 end)
                from dearest d where d.capability = 'audio'), 0)
    + coalesce((select pg_catalog.sum(d.per_unit) from dearest d
                where d.capability in ('video', 'lipsync', 'merge') and d.unit = 'second'), 0) * c.max_video_seconds,
    2)
  from private.tier_ceilings c where c.quality_tier = p_quality
$$;
revoke all on function private.worst_case_generation_usd(public.quality_tier) from public, anon, authenticated;

-- Reference for clients, beside subscription_tiers(): what one generation of each quality may use,
-- what a billing period may spend, and the most one generation can cost.
create or replace function public.generation_ceilings()
returns table (
  quality_tier public.quality_tier,
  max_scenes integer,
  max_speech_characters integer,
  max_video_seconds integer,
  max_period_usd numeric,
  worst_case_usd numeric
)
language sql
stable
security definer
set search_path = ''
as $$
  select c.quality_tier, c.max_scenes, c.max_speech_characters, c.max_video_seconds, c.max_period_usd,
    private.worst_case_generation_usd(c.quality_tier)
  from private.tier_ceilings c order by c.quality_tier
$$;
comment on function public.generation_ceilings() is 'Reference: per quality, the scenes, speech and seconds one video may use, the period budget and the worst case.';
revoke all on function public.generation_ceilings() from public;
grant execute on function public.generation_ceilings() to anon, authenticated, service_role;

create table public.usage_logs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  subscription_id uuid references public.user_subscriptions (id) on delete set null,
  video_generation_id uuid references public.video_generations (id) on delete set null,
  -- The job row this call paid for (an image, a line of audio, a scene video, a lipsync or merge job, a
  -- script): its cost_usd is the sum of the usage that points at it.
  job_id uuid,
  resource_type public.resource_type not null,
  provider text not null,
  model_used text not null,
  operation text not null,
  input_tokens integer not null default 0,
  output_tokens integer not null default 0,
  units numeric(12, 3) not null default 0,
  duration_seconds double precision not null default 0,
  cost_usd numeric(12, 6) not null default 0,
  tier_at_time public.subscription_tier not null,
  success boolean not null default true,
  error_message text,
  idempotency_key text,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint usage_logs_idempotency_key_key unique (idempotency_key),
  constraint usage_logs_counts_non_negative check (input_tokens >= 0 and output_tokens >= 0 and units >= 0
    and duration_seconds >= 0),
  constraint usage_logs_cost_non_negative check (cost_usd >= 0)
);
comment on table public.usage_logs is 'One row per provider call: model, tokens or units, duration, cost and the tier at the time.';
create index idx_usage_logs_user_date on public.usage_logs (user_id, created_at desc);
create index idx_usage_logs_resource on public.usage_logs (resource_type, created_at desc);
-- The daily rollups read one day of everyone's usage (measured by the rollup benchmark).
create index usage_logs_created_at_idx on public.usage_logs (created_at);
create index usage_logs_subscription_id_idx on public.usage_logs (subscription_id);
create index usage_logs_video_generation_id_idx on public.usage_logs (video_generation_id);
create index usage_logs_job_id_idx on public.usage_logs (job_id);

create table public.cost_aggregations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  -- The period, both days included (the daily rollup writes one day: start = end).
  period_start date not null,
  period_end date not null,
  total_cost numeric(14, 6) not null default 0,
  total_videos integer not null default 0,
  request_count integer not null default 0,
  -- Cost by resource type, e.g. {"image": 0.01, "audio": 0.002}.
  breakdown jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint cost_aggregations_user_period_key unique (user_id, period_start, period_end),
  constraint cost_aggregations_period_order check (period_end >= period_start),
  constraint cost_aggregations_non_negative check (total_cost >= 0 and request_count >= 0 and total_videos >= 0)
);
comment on table public.cost_aggregations is 'Cost rollup per user and period, with a breakdown by resource type.';

create table public.model_metrics (
  id uuid primary key default gen_random_uuid(),
  model_name text not null,
  provider text not null,
  date date not null,
  request_count integer not null default 0,
  success_count integer not null default 0,
  failure_count integer not null default 0,
  avg_latency_ms double precision,
  avg_cost_usd numeric(12, 6),
  total_cost_usd numeric(14, 6) not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint model_metrics_model_date_key unique (model_name, date),
  constraint model_metrics_counts check (request_count >= 0 and success_count >= 0 and failure_count >= 0
    and success_count + failure_count = request_count),
  constraint model_metrics_costs_non_negative check (total_cost_usd >= 0 and avg_cost_usd >= 0 and avg_latency_ms >= 0)
);
comment on table public.model_metrics is 'Daily request, success, latency and cost figures per model (superadmins only).';

create trigger usage_logs_set_updated_at before update on public.usage_logs
  for each row execute function private.set_updated_at();
create trigger cost_aggregations_set_updated_at before update on public.cost_aggregations
  for each row execute function private.set_updated_at();
create trigger model_metrics_set_updated_at before update on public.model_metrics
  for each row execute function private.set_updated_at();

alter table public.usage_logs enable row level security;
alter table public.cost_aggregations enable row level security;
alter table public.model_metrics enable row level security;

-- Written only by the backend (service role, security definer functions).
revoke insert, update, delete on public.usage_logs, public.cost_aggregations, public.model_metrics from anon, authenticated;

create policy "owners read their usage" on public.usage_logs
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their cost rollups" on public.cost_aggregations
  for select to authenticated using (user_id = (select auth.uid()));
create policy "superadmins read model metrics" on public.model_metrics
  for select to authenticated using ((select private.is_superadmin()));

-- What a call produced: text calls by their operation, every other model by what it does.
create or replace function private.resource_type_of(p_capability text, p_operation text)
returns public.resource_type
language sql
immutable
set search_path = ''
as $$
  select case
    when p_capability is not null and p_capability <> 'text' then p_capability
    when p_operation in ('script', 'plot', 'image', 'video', 'lipsync', 'merge', 'embedding') then p_operation
    when p_operation = 'speech' then 'audio'
    else 'content' end::public.resource_type
$$;

-- Logs one provider call with its cost; a repeated idempotency key changes nothing. A model without a
-- price is logged at no cost and flagged (health lists it): a missing price never fails the work.
create or replace function private.record_usage(
  p_user_id uuid,
  p_video_generation_id uuid,
  p_model text,
  p_operation text,
  p_idempotency_key text,
  p_input_tokens integer default 0,
  p_output_tokens integer default 0,
  p_units numeric default 0,
  p_duration_ms integer default 0,
  p_success boolean default true,
  p_error_message text default null,
  p_job_id uuid default null
)
returns numeric
language plpgsql
security definer
set search_path = ''
as $$
declare
  price private.model_prices;
  cost numeric(12, 6) := 0;
  subscription public.user_subscriptions;
begin
  select * into price from private.model_prices m where m.model = p_model;
  if found and p_success then
    cost := p_input_tokens / 1000.0 * price.usd_per_1k_input_tokens
      + p_output_tokens / 1000.0 * price.usd_per_1k_output_tokens
      + coalesce(p_units, 0) * price.usd_per_unit;
  elsif not found then
    raise warning 'no price for model "%": logged at no cost; add it to private.model_prices', p_model;
  end if;
  select * into subscription from public.user_subscriptions s where s.user_id = p_user_id;
  insert into public.usage_logs (user_id, subscription_id, video_generation_id, job_id, resource_type, provider,
    model_used, operation, input_tokens, output_tokens, units, duration_seconds, cost_usd, tier_at_time, success,
    error_message, idempotency_key, metadata)
  values (p_user_id, subscription.id, p_video_generation_id, p_job_id, private.resource_type_of(price.capability, p_operation),
    coalesce(price.provider, 'unknown'), p_model, p_operation, coalesce(p_input_tokens, 0), coalesce(p_output_tokens, 0),
    coalesce(p_units, 0), coalesce(p_duration_ms, 0) / 1000.0, cost, coalesce(subscription.tier, 'free'), p_success,
    p_error_message, p_idempotency_key,
    case when price.model is null then '{"missing_price": true}'::jsonb else '{}'::jsonb end)
  on conflict (idempotency_key) do nothing;
  return cost;
end;
$$;
revoke all on function private.record_usage(uuid, uuid, text, text, text, integer, integer, numeric, integer, boolean, text, uuid),
  private.resource_type_of(text, text)
  from public, anon, authenticated;
grant execute on function private.record_usage(uuid, uuid, text, text, text, integer, integer, numeric, integer, boolean, text, uuid)
  to service_role;

-- Models used without a price (shown by the health function): their calls were logged at no cost.
create or replace function private.models_missing_prices(p_since interval default interval '7 days')
returns table (model_used text, calls bigint, last_used_at timestamptz)
language sql
stable
security definer
set search_path = ''
as $$
  select l.model_used, pg_catalog.count(*), pg_catalog.max(l.created_at)
  from public.usage_logs l
  where l.created_at > pg_catalog.now() - p_since and l.metadata ? 'missing_price'
    and not exists (select 1 from private.model_prices m where m.model = l.model_used)
  group by l.model_used order by 1
$$;
revoke all on function private.models_missing_prices(interval) from public, anon, authenticated;
grant execute on function private.models_missing_prices(interval) to service_role;

-- Each queue's depth (shown by the health function), from the queue tables: pgmq.metrics_all has no
-- visible length before pgmq 1.5.0, and older hosted projects run 1.4.4.
create or replace function private.queue_depths()
returns table (queue_name text, queue_length bigint, queue_visible_length bigint, oldest_msg_age_sec integer)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  queue record;
begin
  for queue in select l.queue_name::text as name from pgmq.list_queues() l order by 1 loop
    return query execute pg_catalog.format(
      'select %L::text, pg_catalog.count(*), pg_catalog.count(*) filter (where vt <= pg_catalog.clock_timestamp()),
         extract(epoch from pg_catalog.clock_timestamp() - pg_catalog.min(enqueued_at))::integer
       from pgmq.%I', queue.name, 'q_' || queue.name);
  end loop;
end;
$$;
revoke all on function private.queue_depths() from public, anon, authenticated;
grant execute on function private.queue_depths() to service_role;

-- Rollups -----------------------------------------------------------------------------------------

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
  -- A video counts on the day it was finished: the day its merge was paid for.
  with day_usage as (
    select l.user_id, l.resource_type, grouping(l.resource_type) = 1 as user_total,
      pg_catalog.sum(l.cost_usd) as cost, pg_catalog.count(*) as requests,
      pg_catalog.count(distinct l.video_generation_id) filter (where l.resource_type = 'merge') as videos
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
    insert into public.cost_aggregations (user_id, period_start, period_end, total_cost, request_count, total_videos,
      breakdown)
    select p.user_id, p_day, p_day, p.total, p.requests, p.videos, p.by_resource
    from per_user p
    on conflict (user_id, period_start, period_end) do update
      set total_cost = excluded.total_cost, request_count = excluded.request_count,
          total_videos = excluded.total_videos, breakdown = excluded.breakdown
    returning user_id
  )
  select pg_catalog.count(*) into written from upserted;
  delete from public.cost_aggregations a
  where a.period_start = p_day and a.period_end = p_day
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
    insert into public.model_metrics (model_name, provider, date, request_count, success_count, failure_count,
      avg_latency_ms, avg_cost_usd, total_cost_usd)
    select l.model_used, pg_catalog.min(l.provider), p_day, pg_catalog.count(*), pg_catalog.count(*) filter (where l.success),
      pg_catalog.count(*) filter (where not l.success), pg_catalog.round(pg_catalog.avg(l.duration_seconds)::numeric * 1000, 2),
      pg_catalog.round(pg_catalog.avg(l.cost_usd), 6), pg_catalog.sum(l.cost_usd)
    from public.usage_logs l
    where l.created_at >= p_day::timestamptz and l.created_at < (p_day + 1)::timestamptz
    group by l.model_used
    on conflict (model_name, date) do update
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

revoke all on function private.rollup_daily_costs(date), private.rollup_model_metrics(date), private.run_daily_rollups()
  from public, anon, authenticated;
grant execute on function private.rollup_daily_costs(date), private.rollup_model_metrics(date), private.run_daily_rollups()
  to service_role;
