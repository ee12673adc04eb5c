-- The video pipeline's state machine. Clients call start/retry/cancel; workers call
-- begin_step, complete_step and fail_step, each one transaction with its queue message.

-- One row per unit of work of a stage (the chapter, a scene, a character portrait, the final merge).
create table private.pipeline_units (
  generation_id uuid not null references public.video_generations (id) on delete cascade,
  step public.pipeline_step not null,
  unit_key text not null,
  status public.job_status not null default 'pending',
  attempts integer not null default 0,
  result jsonb not null default '{}',
  last_error text,
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (generation_id, step, unit_key),
  constraint pipeline_units_attempts_non_negative check (attempts >= 0)
);
comment on table private.pipeline_units is 'Units of work per generation and stage; their completion drives the pipeline.';
create trigger pipeline_units_set_updated_at before update on private.pipeline_units
  for each row execute function private.set_updated_at();
alter table private.pipeline_units enable row level security;

-- Only one running generation per chapter and style.
create unique index video_generations_one_running_per_chapter_style on public.video_generations (chapter_id, script_style)
  where status in ('queued', 'processing');

create or replace function private.stage_weight(step public.pipeline_step)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select case step when 'script' then 10 when 'images' then 25 when 'audio' then 20
    when 'video' then 25 when 'lipsync' then 10 when 'merge' then 10 end::numeric
$$;

create or replace function private.next_step(step public.pipeline_step)
returns public.pipeline_step
language sql
immutable
set search_path = ''
as $$
  select case step when 'script' then 'images' when 'images' then 'audio' when 'audio' then 'video'
    when 'video' then 'lipsync' when 'lipsync' then 'merge' end::public.pipeline_step
$$;

-- Creates the units of a stage and sends one message per unit not yet completed.
create or replace function private.enqueue_stage(p_generation_id uuid, p_step public.pipeline_step)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations;
  units text[];
  pending text[];
begin
  select * into generation from public.video_generations g where g.id = p_generation_id;
  units := case p_step
    when 'script' then array['chapter']
    when 'merge' then array['final']
    when 'images' then
      array(select 'scene:' || s.scene_number from public.scene_descriptions s
            where s.script_id = generation.script_id order by s.scene_number)
      || array(select 'character:' || c.name from private.main_characters(p_generation_id) c)
    else array(select 'scene:' || s.scene_number from public.scene_descriptions s
               where s.script_id = generation.script_id order by s.scene_number)
  end;
  insert into private.pipeline_units (generation_id, step, unit_key)
  select p_generation_id, p_step, u from unnest(units) u
  on conflict do nothing;
  select array_agg(u.unit_key order by u.unit_key) into pending from private.pipeline_units u
  where u.generation_id = p_generation_id and u.step = p_step and u.status <> 'completed';

  update public.video_generations g
  set current_step = p_step,
      pipeline_metadata = pg_catalog.jsonb_set(
        g.pipeline_metadata, array['stages', p_step::text],
        coalesce(g.pipeline_metadata -> 'stages' -> p_step::text, '{}'::jsonb)
          || pg_catalog.jsonb_build_object('units', pg_catalog.cardinality(units),
               'queued_at', coalesce(g.pipeline_metadata -> 'stages' -> p_step::text -> 'queued_at', pg_catalog.to_jsonb(pg_catalog.clock_timestamp())))
      )
  where g.id = p_generation_id;

  perform pgmq.send_batch(p_step::text, array(
    select pg_catalog.jsonb_build_object('generation_id', p_generation_id, 'step', p_step, 'unit', u)
    from unnest(coalesce(pending, '{}')) u));
  return coalesce(pg_catalog.cardinality(pending), 0);
end;
$$;

-- Characters that get a portrait: the plot's main characters, else the script's most present speakers.
create or replace function private.main_characters(p_generation_id uuid)
returns table (name text, character_id uuid)
language sql
stable
security definer
set search_path = ''
as $$
  with generation as (
    select g.*, c.book_id from public.video_generations g join public.chapters c on c.id = g.chapter_id
    where g.id = p_generation_id
  ),
  in_script as (
    select ch.name, pg_catalog.count(*) as scenes
    from generation g join public.scene_descriptions s on s.script_id = g.script_id, unnest(s.characters) ch (name)
    group by ch.name
  )
  select i.name, pc.id
  from in_script i
  left join lateral (
    select c.id from public.characters c join public.plot_overviews p on p.id = c.plot_overview_id
    where p.book_id = (select book_id from generation) and p.status = 'active' and c.name = i.name limit 1
  ) pc on true
  order by (pc.id is null), i.scenes desc, i.name
  limit 4
$$;

create or replace function private.refresh_progress(p_generation_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations;
  done_weight numeric := 0;
  current_fraction numeric := 0;
  s public.pipeline_step;
begin
  select * into generation from public.video_generations g where g.id = p_generation_id;
  if generation.last_completed_step is not null then
    foreach s in array enum_range(null::public.pipeline_step) loop
      exit when s > generation.last_completed_step;
      done_weight := done_weight + private.stage_weight(s);
    end loop;
  end if;
  if generation.current_step is not null
     and (generation.last_completed_step is null or generation.current_step > generation.last_completed_step) then
    select coalesce(pg_catalog.count(*) filter (where u.status = 'completed')::numeric / nullif(pg_catalog.count(*), 0), 0)
    into current_fraction
    from private.pipeline_units u where u.generation_id = p_generation_id and u.step = generation.current_step;
    done_weight := done_weight + private.stage_weight(generation.current_step) * current_fraction;
  end if;
  update public.video_generations g
  set progress_percentage = least(pg_catalog.round(done_weight, 2), 100),
      completed_scenes = (select pg_catalog.count(*) from public.scene_videos v
                          where v.video_generation_id = p_generation_id and v.status = 'completed'),
      total_cost_usd = (select coalesce(pg_catalog.sum(l.cost_usd), 0) from public.usage_logs l
                        where l.video_generation_id = p_generation_id)
  where g.id = p_generation_id;
end;
$$;

-- Client RPC: start a video of a chapter. Checks ownership and quota under a row lock.
create or replace function public.start_video_generation(
  chapter_id uuid,
  script_style public.script_style default 'cinematic',
  quality_tier public.quality_tier default 'basic'
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  chapter_owner uuid;
  subscription public.user_subscriptions;
  allowed_quality public.quality_tier;
  new_id uuid;
begin
  if caller is null then
    raise exception 'sign in to generate videos' using errcode = '42501';
  end if;
  select b.user_id into chapter_owner from public.chapters c join public.books b on b.id = c.book_id
  where c.id = start_video_generation.chapter_id;
  if not found or chapter_owner <> caller then
    raise exception 'chapter % not found among your books', start_video_generation.chapter_id using errcode = 'P0002';
  end if;

  select * into subscription from public.user_subscriptions s where s.user_id = caller for update;
  if not found or subscription.status not in ('active', 'trialing') then
    raise exception 'your subscription is %: update your payment method to generate videos',
      coalesce(subscription.status::text, 'missing') using errcode = 'LT002';
  end if;
  if subscription.video_count_used >= subscription.video_count_limit then
    raise exception 'video quota used up: % of % videos this period (tier %)',
      subscription.video_count_used, subscription.video_count_limit, subscription.tier using errcode = 'LT001';
  end if;
  select t.quality_tier into allowed_quality from public.subscription_tiers() t where t.tier = subscription.tier;
  if start_video_generation.quality_tier > allowed_quality then
    raise exception 'quality % is not included in the % tier (up to %)',
      start_video_generation.quality_tier, subscription.tier, allowed_quality using errcode = 'LT005';
  end if;
  if exists (select 1 from public.video_generations g where g.chapter_id = start_video_generation.chapter_id
             and g.script_style = start_video_generation.script_style and g.status in ('queued', 'processing')) then
    raise exception 'a % video of this chapter is already being generated', start_video_generation.script_style
      using errcode = 'LT003';
  end if;

  update public.user_subscriptions s set video_count_used = s.video_count_used + 1 where s.id = subscription.id;
  update public.user_progress p set videos_generated = p.videos_generated + 1, last_activity_at = pg_catalog.now()
  where p.user_id = caller;
  insert into public.video_generations (user_id, chapter_id, script_style, quality_tier, pipeline_metadata)
  values (caller, start_video_generation.chapter_id, start_video_generation.script_style,
          start_video_generation.quality_tier, '{"stages": {}}')
  returning id into new_id;
  perform private.enqueue_stage(new_id, 'script');
  return new_id;
end;
$$;
comment on function public.start_video_generation(uuid, public.script_style, public.quality_tier)
  is 'Client RPC: start generating a video of one of your chapters; returns the generation id.';

create or replace function private.owned_generation_for_update(p_generation_id uuid)
returns public.video_generations
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations;
begin
  select * into generation from public.video_generations g
  where g.id = p_generation_id and g.user_id = (select auth.uid())
  for update;
  if not found then
    raise exception 'video generation % not found among yours', p_generation_id using errcode = 'P0002';
  end if;
  return generation;
end;
$$;

-- Client RPC: resume a failed generation from where it stopped, redoing only what is missing.
create or replace function public.retry_video_generation(generation_id uuid)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations := private.owned_generation_for_update(generation_id);
  resume_at public.pipeline_step;
begin
  if generation.status <> 'failed' then
    raise exception 'only a failed generation can be retried; this one is %', generation.status using errcode = 'LT004';
  end if;
  resume_at := coalesce(generation.current_step, 'script');
  update private.pipeline_units u set status = 'pending', last_error = null
  where u.generation_id = generation.id and u.step = resume_at and u.status = 'failed';
  update public.video_generations g
  set status = 'queued', error_message = null,
      pipeline_metadata = g.pipeline_metadata || pg_catalog.jsonb_build_object('retries',
        coalesce((g.pipeline_metadata ->> 'retries')::integer, 0) + 1)
  where g.id = generation.id;
  perform private.enqueue_stage(generation.id, resume_at);
  return generation.id;
end;
$$;
comment on function public.retry_video_generation(uuid) is 'Client RPC: resume a failed generation from its last completed step.';

-- Client RPC: stop a generation; its queued work is dropped by the workers and the video is refunded.
create or replace function public.cancel_video_generation(generation_id uuid)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations := private.owned_generation_for_update(generation_id);
begin
  if generation.status not in ('queued', 'processing') then
    raise exception 'only a queued or running generation can be cancelled; this one is %', generation.status
      using errcode = 'LT004';
  end if;
  update public.video_generations g set status = 'cancelled', completed_at = pg_catalog.now() where g.id = generation.id;
  update public.user_subscriptions s set video_count_used = greatest(s.video_count_used - 1, 0)
  where s.user_id = generation.user_id;
  return generation.id;
end;
$$;
comment on function public.cancel_video_generation(uuid) is 'Client RPC: cancel a queued or running generation (the video is refunded).';

revoke all on function public.start_video_generation(uuid, public.script_style, public.quality_tier),
  public.retry_video_generation(uuid), public.cancel_video_generation(uuid) from public, anon;
grant execute on function public.start_video_generation(uuid, public.script_style, public.quality_tier),
  public.retry_video_generation(uuid), public.cancel_video_generation(uuid) to authenticated, service_role;
