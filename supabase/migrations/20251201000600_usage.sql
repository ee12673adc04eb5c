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
  constraint model_prices_unit_known check (unit in ('call', 'image', 'second', 'character')),
  constraint model_prices_model_capability_key unique (model, capability)
);
comment on table private.model_prices is 'Price per model: tokens for text, or per image, second or character.';
create trigger model_prices_set_updated_at before update on private.model_prices
  for each row execute function private.set_updated_at();
alter table private.model_prices enable row level security;
-- What a capability falls back to where its hosted model's key is not set.
create unique index model_prices_one_offline_model_per_capability on private.model_prices (capability)
  where provider = 'offline';

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
  ('gpt-4o', 'openai', 'text', 0.0025, 0.01, 0, 'call', null),
  ('openai/gpt-4o', 'openrouter', 'text', 0.0025, 0.01, 0, 'call', 'the same model, billed by OpenRouter'),
  ('text-embedding-3-small', 'openai', 'embedding', 0.00002, 0, 0, 'call', null),
  ('eleven_flash_v2_5', 'elevenlabs', 'audio', 0, 0, 0.00015, 'character', 'half a credit a character'),
  ('eleven_multilingual_v2', 'elevenlabs', 'audio', 0, 0, 0.0003, 'character', null),
  ('modelslab-flux', 'modelslab', 'image', 0, 0, 0.0047, 'image', null),
  ('modelslab-image-to-video', 'modelslab', 'video', 0, 0, 0.10, 'call', 'a clip of 81 frames (about 5 s), looped to the scene'),
  ('modelslab-lipsync', 'modelslab', 'lipsync', 0, 0, 0.01, 'second', null);

-- The model ladder: the model each quality calls per capability. A deployment without the key of
-- that model's provider calls the capability's offline model instead, which is never dearer.
create table private.quality_models (
  quality_tier public.quality_tier not null,
  capability text not null,
  model text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (quality_tier, capability),
  constraint quality_models_model_fkey foreign key (model, capability)
    references private.model_prices (model, capability) on update cascade,
  constraint quality_models_capability_known check (capability in ('text', 'image', 'audio', 'video', 'lipsync',
    'merge'))
);
comment on table private.quality_models is 'The model ladder: per quality tier and capability, the model a generation calls.';
create index quality_models_model_capability_idx on private.quality_models (model, capability);
create trigger quality_models_set_updated_at before update on private.quality_models
  for each row execute function private.set_updated_at();
alter table private.quality_models enable row level security;
insert into private.quality_models (quality_tier, capability, model)
select q.quality_tier::public.quality_tier, c.capability, c.models[q.position]
from pg_catalog.unnest(array['free', 'basic', 'standard', 'premium', 'professional']) with ordinality q (quality_tier, position)
cross join (values
  ('text', array['gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o', 'gpt-4o']),
  ('image', array['modelslab-flux', 'modelslab-flux', 'modelslab-flux', 'modelslab-flux', 'modelslab-flux']),
  ('audio', array['espeak-ng', 'eleven_flash_v2_5', 'eleven_multilingual_v2', 'eleven_multilingual_v2',
                  'eleven_multilingual_v2']),
  ('video', array['offline-ffmpeg-motion', 'offline-ffmpeg-motion', 'modelslab-image-to-video',
                  'modelslab-image-to-video', 'modelslab-image-to-video']),
  ('lipsync', array['offline-lipsync-passthrough', 'offline-lipsync-passthrough', 'offline-lipsync-passthrough',
                    'modelslab-lipsync', 'modelslab-lipsync']),
  ('merge', array['ffmpeg-concat', 'ffmpeg-concat', 'ffmpeg-concat', 'ffmpeg-concat', 'ffmpeg-concat'])
) c (capability, models);

-- The capability a pipeline step calls.
create or replace function private.capability_of_step(p_step public.pipeline_step)
returns text
language sql
immutable
set search_path = ''
as $$ select case p_step when 'script' then 'text' when 'images' then 'image' else p_step::text end $$;

-- The model a quality calls for a capability (the ladder).
create or replace function private.ladder_model(p_quality public.quality_tier, p_capability text)
returns text
language sql
stable
security definer
set search_path = ''
as $$ select q.model from private.quality_models q where q.quality_tier = p_quality and q.capability = p_capability $$;

-- What calls to a model cost for a quantity {input_tokens, output_tokens, calls, images, characters,
-- seconds}: its tokens, and the figure its price's unit counts (calls: one unless said).
create or replace function private.price_of(p_model text, p_quantity jsonb)
returns numeric
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((p_quantity ->> 'input_tokens')::numeric, 0) / 1000 * m.usd_per_1k_input_tokens
    + coalesce((p_quantity ->> 'output_tokens')::numeric, 0) / 1000 * m.usd_per_1k_output_tokens
    + m.usd_per_unit * case m.unit when 'call' then coalesce((p_quantity ->> 'calls')::numeric, 1)
        when 'image' then coalesce((p_quantity ->> 'images')::numeric, 1)
        when 'character' then coalesce((p_quantity ->> 'characters')::numeric, 0)
        else coalesce((p_quantity ->> 'seconds')::numeric, 0) end
  from private.model_prices m where m.model = p_model
$$;

-- What one generation of a quality would cost at its ladder's models: a script call at its bound,
-- images for its scenes and 4 portraits, its characters as speech (or its seconds, for a per-second
-- voice), and its seconds of video, lipsync and merge. With the ceilings' units: the worst case.
create or replace function private.generation_cost_usd(
  p_quality public.quality_tier, p_scenes integer, p_characters integer, p_seconds numeric,
  p_script_call jsonb default private.script_call_bound(48000))
returns numeric
language sql
stable
security definer
set search_path = ''
as $$
  select pg_catalog.round(
      coalesce(private.price_of(private.ladder_model(p_quality, 'text'), p_script_call), 0)
    + coalesce(private.price_of(private.ladder_model(p_quality, 'image'),
        pg_catalog.jsonb_build_object('images', p_scenes + 4)), 0)
    + coalesce(private.price_of(private.ladder_model(p_quality, 'audio'),
        pg_catalog.jsonb_build_object('characters', p_characters, 'seconds', p_seconds)), 0)
    + coalesce((select pg_catalog.sum(private.price_of(private.ladder_model(p_quality, c.capability),
        pg_catalog.jsonb_build_object('seconds', p_seconds, 'calls', c.calls)))
      from (values ('video', p_scenes), ('lipsync', p_scenes), ('merge', 1)) c (capability, calls)), 0),
    4)
$$;

-- The most one generation of a quality can cost: its ceilings' units at its ladder's models, and never
-- more than its max_generation_usd (every call is reserved against it).
create or replace function private.worst_case_generation_usd(p_quality public.quality_tier)
returns numeric
language sql
stable
security definer
set search_path = ''
as $$
  select pg_catalog.round(least(pg_catalog.ceil(private.generation_cost_usd(c.quality_tier, c.max_scenes,
    c.max_speech_characters, c.max_video_seconds) * 100) / 100, c.max_generation_usd), 2)
  from private.tier_ceilings c where c.quality_tier = p_quality
$$;
revoke all on function private.capability_of_step(public.pipeline_step), private.ladder_model(public.quality_tier, text),
  private.price_of(text, jsonb),
  private.generation_cost_usd(public.quality_tier, integer, integer, numeric, jsonb),
  private.worst_case_generation_usd(public.quality_tier) from public, anon, authenticated;

-- Reference for clients, beside subscription_tiers(): per quality, the frame size, the models it
-- calls, what one generation may use and cost, what a billing period may spend, and the worst case.
create or replace function public.generation_ceilings()
returns table (
  quality_tier public.quality_tier,
  frame_width integer,
  frame_height integer,
  models jsonb,
  max_scenes integer,
  max_speech_characters integer,
  max_video_seconds integer,
  max_generation_usd numeric,
  max_period_usd numeric,
  worst_case_usd numeric
)
language sql
stable
security definer
set search_path = ''
as $$
  select c.quality_tier, c.frame_width, c.frame_height,
    (select pg_catalog.jsonb_object_agg(q.capability, q.model) from private.quality_models q
     where q.quality_tier = c.quality_tier),
    c.max_scenes, c.max_speech_characters, c.max_video_seconds, c.max_generation_usd, c.max_period_usd,
    private.worst_case_generation_usd(c.quality_tier)
  from private.tier_ceilings c order by c.quality_tier
$$;
comment on function public.generation_ceilings() is 'Reference: per quality, frame size, models, what one video may use and cost, the period budget.';
revoke all on function public.generation_ceilings() from public;
grant execute on function public.generation_ceilings() to anon, authenticated, service_role;

-- What a video of a chapter is expected to use and cost at a quality, before its script exists: a
-- script speaks about a third of its chapter (of the 200,000 characters it reads), in scenes of about
-- 700 characters at 15 characters a second, and is written within the quality's ceilings.
create or replace function private.estimate_generation(
  p_chapter_id uuid, p_quality public.quality_tier, p_style public.script_style default 'cinematic')
returns table (scenes integer, speech_characters integer, video_seconds integer, expected_usd numeric,
  within_ceilings boolean)
language sql
stable
security definer
set search_path = ''
as $$
  with spoken as (
    select pg_catalog.round(least(pg_catalog.length(c.content), 200000)
      * case p_style when 'cinematic' then 0.3 else 0.45 end)::integer as characters
    from public.chapters c where c.id = p_chapter_id
  ), fitted as (
    select least(greatest(pg_catalog.ceil(s.characters / 700.0)::integer, 1), t.max_scenes) as scenes,
      least(s.characters, t.max_speech_characters) as characters,
      least(pg_catalog.ceil(s.characters / 15.0)::integer, t.max_video_seconds) as seconds,
      s.characters <= t.max_speech_characters and s.characters / 15.0 <= t.max_video_seconds as within
    from spoken s cross join private.tier_ceilings t where t.quality_tier = p_quality
  )
  select f.scenes, f.characters, f.seconds,
    pg_catalog.round(private.generation_cost_usd(p_quality, f.scenes, f.characters, f.seconds,
      private.script_call_bound((select pg_catalog.length(c.content) from public.chapters c where c.id = p_chapter_id))), 4),
    f.within
  from fitted f
$$;
revoke all on function private.estimate_generation(uuid, public.quality_tier, public.script_style)
  from public, anon, authenticated;

-- Client RPC: what a video of one of your chapters would use and cost at a quality, what a video of
-- that quality may cost at most, and where your billing period's budget stands.
create or replace function public.estimate_video_generation(
  chapter_id uuid,
  quality_tier public.quality_tier default 'free',
  script_style public.script_style default 'cinematic'
)
returns table (
  scenes integer,
  speech_characters integer,
  video_seconds integer,
  expected_usd numeric,
  max_generation_usd numeric,
  worst_case_usd numeric,
  period_spent_usd numeric,
  period_budget_usd numeric,
  within_ceilings boolean,
  note text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  budget record;
  estimate record;
begin
  if caller is null then
    raise exception 'sign in to estimate videos' using errcode = '42501';
  end if;
  if not exists (select 1 from public.chapters c join public.books b on b.id = c.book_id
                 where c.id = estimate_video_generation.chapter_id and b.user_id = caller) then
    raise exception 'chapter % not found among your books', estimate_video_generation.chapter_id using errcode = 'P0002';
  end if;
  select * into estimate from private.estimate_generation(estimate_video_generation.chapter_id,
    estimate_video_generation.quality_tier, estimate_video_generation.script_style);
  select * into budget from private.period_budget(caller);
  scenes := estimate.scenes;
  speech_characters := estimate.speech_characters;
  video_seconds := estimate.video_seconds;
  expected_usd := estimate.expected_usd;
  select c.max_generation_usd into max_generation_usd from private.tier_ceilings c
  where c.quality_tier = estimate_video_generation.quality_tier;
  worst_case_usd := private.worst_case_generation_usd(estimate_video_generation.quality_tier);
  period_spent_usd := pg_catalog.round(private.user_spend_usd(caller, budget.period_start), 4);
  period_budget_usd := budget.budget_usd;
  within_ceilings := estimate.within_ceilings;
  note := case
    when period_spent_usd + expected_usd > period_budget_usd then pg_catalog.format(
      'this video (about $%s) would pass your billing period''s budget ($%s of $%s used) until %s',
      pg_catalog.round(expected_usd, 2), pg_catalog.round(period_spent_usd, 2), period_budget_usd,
      pg_catalog.to_char(budget.period_end, 'YYYY-MM-DD'))
    when not estimate.within_ceilings then pg_catalog.format(
      'the chapter is long for %s quality: its script will be shortened to %s scenes and %s characters of speech',
      estimate_video_generation.quality_tier, estimate.scenes, estimate.speech_characters)
    end;
  return next;
end;
$$;
comment on function public.estimate_video_generation(uuid, public.quality_tier, public.script_style)
  is 'Client RPC: expected use and cost of a video of one of your chapters, its ceiling and your period budget.';
revoke all on function public.estimate_video_generation(uuid, public.quality_tier, public.script_style) from public, anon;
grant execute on function public.estimate_video_generation(uuid, public.quality_tier, public.script_style)
  to authenticated, service_role;

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

-- Superadmins read everyone's, as they read model metrics: the operator's view of costs.
create policy "owners read their usage; superadmins read all" on public.usage_logs
  for select to authenticated using (user_id = (select auth.uid()) or (select private.is_superadmin()));
create policy "owners read their cost rollups; superadmins read all" on public.cost_aggregations
  for select to authenticated using (user_id = (select auth.uid()) or (select private.is_superadmin()));
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

-- Reservations ------------------------------------------------------------------------------------

-- Every paid call reserves its cost before it is made (its model's price for the most it may use) and
-- is settled when its usage is logged. A call whose worker stopped before it answered keeps its
-- reservation, abandoned, which counts as spent: a deletion, a cancel or a crash makes no call free.
create table private.cost_reservations (
  -- '<generation>:<step>:<unit>:<attempt>' for a pipeline unit, '<work>:<id>' for other paid work.
  key text primary key,
  user_id uuid not null references public.profiles (id) on delete cascade,
  video_generation_id uuid references public.video_generations (id) on delete set null,
  step public.pipeline_step,
  unit_key text,
  model text not null,
  -- The most the call may use: {input_tokens, output_tokens, images, characters, seconds}.
  quantity jsonb not null,
  reserved_usd numeric(12, 6) not null,
  -- open: under way; settled: its usage is logged; released: it failed, unbilled; abandoned: its
  -- worker stopped without an answer.
  status text not null default 'open',
  settled_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint cost_reservations_status_known check (status in ('open', 'settled', 'released', 'abandoned')),
  constraint cost_reservations_reserved_non_negative check (reserved_usd >= 0)
);
comment on table private.cost_reservations is 'A paid call''s cost, reserved before the call and settled by its usage after it.';
create index cost_reservations_user_created_idx on private.cost_reservations (user_id, created_at);
create index cost_reservations_generation_unit_idx on private.cost_reservations (video_generation_id, step, unit_key);
-- Operator alerts read the calls that ended, or were left, in a recent window.
create index cost_reservations_updated_at_idx on private.cost_reservations (updated_at);
create trigger cost_reservations_set_updated_at before update on private.cost_reservations
  for each row execute function private.set_updated_at();
alter table private.cost_reservations enable row level security;

-- What a user has spent since a time: the usage logged, and the calls under way or whose answer never came.
create or replace function private.user_spend_usd(p_user_id uuid, p_since timestamptz)
returns numeric
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select pg_catalog.sum(l.cost_usd) from public.usage_logs l
                   where l.user_id = p_user_id and l.created_at >= p_since), 0)
    + coalesce((select pg_catalog.sum(r.reserved_usd) from private.cost_reservations r
                where r.user_id = p_user_id and r.created_at >= p_since and r.status in ('open', 'abandoned')), 0)
$$;

-- What a generation has spent, counted the same way.
create or replace function private.generation_spend_usd(p_generation_id uuid)
returns numeric
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select pg_catalog.sum(l.cost_usd) from public.usage_logs l
                   where l.video_generation_id = p_generation_id), 0)
    + coalesce((select pg_catalog.sum(r.reserved_usd) from private.cost_reservations r
                where r.video_generation_id = p_generation_id and r.status in ('open', 'abandoned')), 0)
$$;

-- A subscription's budget for its billing period, and when that period started and ends (a user
-- without one is on the free tier's, this month). A subscription that is not in good standing (past
-- due, unpaid, incomplete) has nothing to spend until it is.
create or replace function private.period_budget(p_user_id uuid)
returns table (tier public.subscription_tier, budget_usd numeric, period_start timestamptz, period_end timestamptz)
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(s.tier, 'free'),
    case when s.status is null or s.status in ('active', 'trialing') or (s.status = 'canceled' and s.tier = 'free')
      then c.max_period_usd else 0 end,
    coalesce(s.current_period_start, pg_catalog.date_trunc('month', pg_catalog.now())),
    coalesce(s.current_period_end, pg_catalog.date_trunc('month', pg_catalog.now()) + interval '1 month')
  from (select 1) one
  left join public.user_subscriptions s on s.user_id = p_user_id
  join public.subscription_tiers() t on t.tier = coalesce(s.tier, 'free')
  join private.tier_ceilings c on c.quality_tier = t.quality_tier
$$;

-- Reserves a paid call before it is made, keyed so that asking again changes nothing, unless the
-- key's call failed (released): a retry under the same key is a new call, reserved and checked again.
-- Refused past the user's period budget (LT010) or past its generation's ceiling (LT011), with the
-- figures, and for an account being deleted (LT012). A new attempt of a unit marks the earlier one
-- still open as abandoned (its worker stopped mid-call).
create or replace function private.reserve_cost(
  p_key text,
  p_user_id uuid,
  p_model text,
  p_quantity jsonb,
  p_video_generation_id uuid default null,
  p_step public.pipeline_step default null,
  p_unit_key text default null
)
returns numeric
language plpgsql
security definer
set search_path = ''
as $$
declare
  cost numeric := pg_catalog.round(coalesce(private.price_of(p_model, p_quantity), 0), 6);
  budget record;
  spent numeric;
  generation public.video_generations;
  ceiling numeric;
  existing private.cost_reservations;
begin
  -- One user's reservations one at a time: two calls cannot both take the last of a budget. (A lock
  -- of its own, not the subscription row's, which cancels and the billing webhook take too.)
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('cost_reservations:' || p_user_id, 0));
  select * into existing from private.cost_reservations r where r.key = p_key;
  if found and existing.status <> 'released' then
    return existing.reserved_usd; -- the same attempt asking again
  end if;
  -- An account being deleted starts nothing it would pay for (account deletion migration).
  if exists (select 1 from private.account_deletion_work w where w.user_id = p_user_id) then
    raise exception 'this account is being deleted: no more paid work is started for it' using errcode = 'LT012';
  end if;
  select * into budget from private.period_budget(p_user_id);
  spent := private.user_spend_usd(p_user_id, budget.period_start);
  if spent + cost > budget.budget_usd then
    raise exception 'this billing period''s model costs ($% so far) would pass the % tier''s budget of $% with a % call ($%): more can be made from %',
      pg_catalog.round(spent, 2), budget.tier, budget.budget_usd, p_model, pg_catalog.round(cost, 4),
      pg_catalog.to_char(budget.period_end, 'YYYY-MM-DD') using errcode = 'LT010';
  end if;
  if p_video_generation_id is not null then
    select * into generation from public.video_generations g where g.id = p_video_generation_id;
    select c.max_generation_usd into ceiling from private.tier_ceilings c where c.quality_tier = generation.quality_tier;
    spent := private.generation_spend_usd(p_video_generation_id);
    if spent + cost > ceiling then
      raise exception 'this video has cost $% so far and its next call (% for $%) would pass the $% a %-quality video may cost: choose a shorter chapter or a higher quality',
        pg_catalog.round(spent, 2), p_model, pg_catalog.round(cost, 4), ceiling, generation.quality_tier
        using errcode = 'LT011';
    end if;
    update private.cost_reservations r set status = 'abandoned'
    where r.video_generation_id = p_video_generation_id and r.step = p_step and r.unit_key = p_unit_key
      and r.status = 'open';
  end if;
  insert into private.cost_reservations (key, user_id, video_generation_id, step, unit_key, model, quantity, reserved_usd)
  values (p_key, p_user_id, p_video_generation_id, p_step, p_unit_key, p_model, p_quantity, cost)
  on conflict (key) do update
    set model = excluded.model, quantity = excluded.quantity, reserved_usd = excluded.reserved_usd, status = 'open',
        settled_at = null, created_at = pg_catalog.now()
    where private.cost_reservations.status = 'released';
  return cost;
end;
$$;

-- The model a user's tier calls for a capability (its quality's rung of the ladder), for paid work
-- outside a video: a script written on request, a plot.
create or replace function private.user_model(p_user_id uuid, p_capability text)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select private.ladder_model(t.quality_tier, p_capability)
  from (select 1) one
  left join public.user_subscriptions s on s.user_id = p_user_id
  join public.subscription_tiers() t on t.tier = coalesce(s.tier, 'free')
$$;

-- The call answered and its usage is logged: the reservation no longer counts (an abandoned one too,
-- when its worker answered after all).
create or replace function private.settle_cost(p_key text)
returns void
language sql
security definer
set search_path = ''
as $$
  update private.cost_reservations r set status = 'settled', settled_at = pg_catalog.clock_timestamp()
  where r.key = p_key and r.status <> 'settled'
$$;

-- The call failed: released when the provider refused it (p_unbilled), otherwise abandoned and still
-- counted (a timeout, an answer our checks refused: the provider may have billed it).
create or replace function private.fail_cost(p_key text, p_unbilled boolean)
returns void
language sql
security definer
set search_path = ''
as $$
  update private.cost_reservations r
  set status = case when p_unbilled then 'released' else 'abandoned' end,
      settled_at = case when p_unbilled then pg_catalog.clock_timestamp() end
  where r.key = p_key and r.status = 'open'
$$;

-- Calls open longer than any call may take (an hour; a unit's time limit is at most 600 s) had a
-- worker that stopped: abandoned, still counted. Run by the reaper's cron job.
create or replace function private.abandon_stale_reservations(p_older_than interval default interval '1 hour')
returns integer
language sql
security definer
set search_path = ''
as $$
  with abandoned as (
    update private.cost_reservations r set status = 'abandoned'
    where r.status = 'open' and r.created_at < pg_catalog.now() - p_older_than
    returning 1
  )
  select pg_catalog.count(*)::integer from abandoned
$$;

-- Reservations whose call answered (its cost is in usage_logs) or was refused, older than any
-- billing period: nothing counts them any more. Abandoned ones stay, the only record of those calls.
create or replace function private.purge_cost_reservations(p_older_than interval default interval '40 days')
returns integer
language sql
security definer
set search_path = ''
as $$
  with purged as (
    delete from private.cost_reservations r
    where r.status in ('settled', 'released') and r.settled_at < pg_catalog.now() - p_older_than
    returning 1
  )
  select pg_catalog.count(*)::integer from purged
$$;

revoke all on function private.purge_cost_reservations(interval) from public, anon, authenticated;
revoke all on function private.user_spend_usd(uuid, timestamptz), private.generation_spend_usd(uuid),
  private.period_budget(uuid), private.user_model(uuid, text),
  private.reserve_cost(text, uuid, text, jsonb, uuid, public.pipeline_step, text), private.settle_cost(text),
  private.fail_cost(text, boolean), private.abandon_stale_reservations(interval)
  from public, anon, authenticated;
grant execute on function private.reserve_cost(text, uuid, text, jsonb, uuid, public.pipeline_step, text),
  private.settle_cost(text), private.fail_cost(text, boolean),
  private.user_model(uuid, text) to service_role;

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

-- One day's requests, successes, failures, latency and cost per model, the calls of deleted accounts
-- (kept anonymised in private.deleted_account_usage, account deletion migration) included.
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
    from (
      select u.model_used, u.provider, u.success, u.duration_seconds, u.cost_usd from public.usage_logs u
      where u.created_at >= p_day::timestamptz and u.created_at < (p_day + 1)::timestamptz
      union all
      select d.model_used, d.provider, d.success, d.duration_seconds, d.cost_usd from private.deleted_account_usage d
      where d.called_at >= p_day::timestamptz and d.called_at < (p_day + 1)::timestamptz
    ) l
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
