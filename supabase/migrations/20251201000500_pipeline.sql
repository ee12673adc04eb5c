-- The media pipeline: a video generation and the jobs of its stages (script -> images -> audio ->
-- video -> lipsync -> merge), one pgmq queue per stage, and the state machine clients and workers use.
create type public.pipeline_step as enum ('script', 'images', 'audio', 'video', 'lipsync', 'merge');
-- While a generation runs, its status is the stage it is in; pending until the first worker takes it.
create type public.generation_status as enum ('pending', 'script', 'images', 'audio', 'video', 'lipsync', 'merge',
  'completed', 'failed', 'cancelled');
-- Image and audio jobs.
create type public.media_job_status as enum ('pending', 'in_progress', 'completed', 'failed');
create type public.scene_video_status as enum ('pending', 'generating', 'completed', 'failed');
-- Lipsync and merge jobs, and the pipeline's units of work.
create type public.processing_status as enum ('pending', 'processing', 'completed', 'failed');
create type public.image_type as enum ('scene', 'character', 'cover');
create type public.audio_type as enum ('narration', 'dialogue', 'music', 'sound_effect');
create type public.merge_type as enum ('auto', 'manual');
create type public.merge_asset_type as enum ('video', 'audio', 'image', 'subtitle');

create table public.video_generations (
  id uuid primary key default gen_random_uuid(),
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  -- Set by the script stage. A script a video uses cannot be deleted on its own; deleting the
  -- chapter or account still removes both in one statement.
  script_id uuid,
  user_id uuid not null references public.profiles (id) on delete cascade,
  script_style public.script_style not null,
  status public.generation_status not null default 'pending',
  progress_percentage integer not null default 0,
  last_completed_step public.pipeline_step,
  current_step public.pipeline_step,
  error_message text,
  video_url text,
  storage_path text,
  duration_seconds numeric(10, 2),
  quality_tier public.quality_tier not null default 'free',
  total_cost_usd numeric(12, 6) not null default 0,
  pipeline_metadata jsonb not null default '{}',
  total_scenes integer not null default 0,
  completed_scenes integer not null default 0,
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint fk_video_gen_script foreign key (script_id) references public.scripts (id) on delete restrict,
  constraint check_progress check (progress_percentage >= 0 and progress_percentage <= 100),
  constraint video_generations_scene_counts check (total_scenes >= 0 and completed_scenes between 0 and total_scenes),
  constraint video_generations_cost_non_negative check (total_cost_usd >= 0),
  constraint video_generations_duration_non_negative check (duration_seconds >= 0),
  constraint video_generations_completed_has_video check (status <> 'completed' or video_url is not null),
  constraint video_generations_failed_has_error check (status <> 'failed' or error_message is not null)
);
comment on table public.video_generations is 'A request to turn a chapter into a video, and the pipeline''s progress on it.';
create index video_generations_user_id_created_at_idx on public.video_generations (user_id, created_at desc);
create index video_generations_chapter_id_idx on public.video_generations (chapter_id);
create index video_generations_script_id_idx on public.video_generations (script_id);
create index idx_video_gens_status on public.video_generations (status) where status <> 'completed';
-- Only one running generation per chapter and style.
create unique index video_generations_one_running_per_chapter_style on public.video_generations (chapter_id, script_style)
  where status not in ('completed', 'failed', 'cancelled');

create table public.image_generations (
  id uuid primary key default gen_random_uuid(),
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  script_id uuid references public.scripts (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  video_generation_id uuid references public.video_generations (id) on delete cascade,
  scene_description_id uuid references public.scene_descriptions (id) on delete cascade,
  character_id uuid references public.characters (id) on delete set null,
  image_type public.image_type not null,
  character_name text,
  scene_number integer,
  -- The pipeline's unit this image is: `scene:<n>` or `character:<name>`.
  subject_key text generated always as (case image_type when 'scene' then 'scene:' || scene_number
    when 'character' then 'character:' || character_name else 'cover' end) stored,
  prompt text not null,
  status public.media_job_status not null default 'pending',
  image_url text,
  storage_path text,
  width integer,
  height integer,
  provider text,
  model_used text,
  cost_usd numeric(12, 6) not null default 0,
  metadata jsonb not null default '{}',
  error_message text,
  retry_count integer not null default 0,
  generation_time_ms integer,
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint image_generations_size_positive check (width > 0 and height > 0),
  constraint image_generations_counts_non_negative check (retry_count >= 0 and generation_time_ms >= 0),
  constraint image_generations_cost_non_negative check (cost_usd >= 0),
  constraint image_generations_scene_has_number check (image_type <> 'scene' or scene_number is not null),
  constraint image_generations_character_has_name check (image_type <> 'character' or character_name is not null)
);
comment on table public.image_generations is 'Scene images and character portraits of a chapter''s script.';
-- One image per subject per generation: a replayed stage upserts instead of duplicating.
create unique index image_generations_generation_subject_key on public.image_generations (video_generation_id, subject_key);
create index image_generations_user_id_idx on public.image_generations (user_id);
create index image_generations_script_id_idx on public.image_generations (script_id);
create index image_generations_scene_description_id_idx on public.image_generations (scene_description_id);
create index image_generations_character_id_idx on public.image_generations (character_id);
create index idx_image_gens_chapter on public.image_generations (chapter_id, image_type);
create index idx_image_gens_status on public.image_generations (status) where status in ('pending', 'in_progress');

create table public.image_generation_retries (
  id uuid primary key default gen_random_uuid(),
  image_generation_id uuid not null references public.image_generations (id) on delete cascade,
  attempt_number integer not null,
  provider text,
  model_used text,
  status public.media_job_status not null default 'failed',
  error_message text,
  retryable boolean not null default true,
  cost_usd numeric(12, 6) not null default 0,
  attempted_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint image_generation_retries_attempt_key unique (image_generation_id, attempt_number),
  constraint image_generation_retries_attempt_positive check (attempt_number > 0),
  constraint image_generation_retries_cost_non_negative check (cost_usd >= 0)
);
comment on table public.image_generation_retries is 'Each failed attempt at an image, with the provider''s error.';

create table public.audio_generations (
  id uuid primary key default gen_random_uuid(),
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  script_id uuid references public.scripts (id) on delete cascade,
  scene_description_id uuid references public.scene_descriptions (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  video_generation_id uuid references public.video_generations (id) on delete cascade,
  character_id uuid references public.characters (id) on delete set null,
  audio_type public.audio_type not null,
  scene_number integer,
  sequence_order integer not null default 0,
  speaker text,
  text_content text not null,
  voice_id text,
  voice_settings jsonb not null default '{}',
  status public.media_job_status not null default 'pending',
  audio_url text,
  storage_path text,
  duration_ms integer,
  provider text,
  model_used text,
  attempts integer not null default 0,
  cost_usd numeric(12, 6) not null default 0,
  metadata jsonb not null default '{}',
  error_message text,
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint audio_generations_counts_non_negative check (sequence_order >= 0 and attempts >= 0 and duration_ms >= 0),
  constraint audio_generations_cost_non_negative check (cost_usd >= 0)
);
comment on table public.audio_generations is 'Narration and dialogue lines per scene, with the voice used and their length.';
create unique index audio_generations_scene_order_key on public.audio_generations
  (video_generation_id, scene_description_id, sequence_order);
create index audio_generations_user_id_idx on public.audio_generations (user_id);
create index audio_generations_script_id_idx on public.audio_generations (script_id);
create index audio_generations_scene_description_id_idx on public.audio_generations (scene_description_id);
create index audio_generations_character_id_idx on public.audio_generations (character_id);
create index idx_audio_gens_chapter on public.audio_generations (chapter_id, audio_type);

create table public.scene_videos (
  id uuid primary key default gen_random_uuid(),
  video_generation_id uuid not null references public.video_generations (id) on delete cascade,
  scene_description_id uuid not null references public.scene_descriptions (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  scene_number integer not null,
  image_generation_id uuid references public.image_generations (id) on delete set null,
  scene_video_url text,
  lipsynced_video_url text,
  storage_path text,
  duration_ms integer,
  status public.scene_video_status not null default 'pending',
  provider text,
  model_used text,
  attempts integer not null default 0,
  generation_time_ms integer,
  cost_usd numeric(12, 6) not null default 0,
  error_message text,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint idx_scene_videos_generation unique (video_generation_id, scene_number),
  constraint scene_videos_scene_number_positive check (scene_number > 0),
  constraint scene_videos_counts_non_negative check (attempts >= 0 and generation_time_ms >= 0 and duration_ms >= 0),
  constraint scene_videos_cost_non_negative check (cost_usd >= 0)
);
comment on table public.scene_videos is 'One clip per scene of a generation, made from its image and audio.';
create index scene_videos_scene_description_id_idx on public.scene_videos (scene_description_id);
create index scene_videos_user_id_idx on public.scene_videos (user_id);
create index scene_videos_image_generation_id_idx on public.scene_videos (image_generation_id);

create table public.lipsync_jobs (
  id uuid primary key default gen_random_uuid(),
  scene_video_id uuid not null references public.scene_videos (id) on delete cascade,
  video_generation_id uuid not null references public.video_generations (id) on delete cascade,
  audio_generation_id uuid references public.audio_generations (id) on delete set null,
  user_id uuid not null references public.profiles (id) on delete cascade,
  status public.processing_status not null default 'pending',
  input_video_url text,
  input_audio_url text,
  output_video_url text,
  provider text,
  model_used text,
  attempts integer not null default 0,
  cost_usd numeric(12, 6) not null default 0,
  error_message text,
  metadata jsonb not null default '{}',
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint lipsync_jobs_scene_video_id_key unique (scene_video_id),
  constraint lipsync_jobs_attempts_non_negative check (attempts >= 0),
  constraint lipsync_jobs_cost_non_negative check (cost_usd >= 0)
);
comment on table public.lipsync_jobs is 'Lip synchronisation of one scene video with its dialogue audio.';
create index lipsync_jobs_video_generation_id_idx on public.lipsync_jobs (video_generation_id);
create index lipsync_jobs_audio_generation_id_idx on public.lipsync_jobs (audio_generation_id);
create index lipsync_jobs_user_id_idx on public.lipsync_jobs (user_id);

create table public.merge_jobs (
  id uuid primary key default gen_random_uuid(),
  video_generation_id uuid not null references public.video_generations (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  merge_type public.merge_type not null default 'auto',
  status public.processing_status not null default 'pending',
  input_videos jsonb not null default '[]',
  ffmpeg_params jsonb not null default '{}',
  output_video_url text,
  storage_path text,
  output_duration_ms integer,
  output_size_bytes bigint,
  provider text,
  attempts integer not null default 0,
  cost_usd numeric(12, 6) not null default 0,
  error_message text,
  metadata jsonb not null default '{}',
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint merge_jobs_video_generation_id_key unique (video_generation_id),
  constraint merge_jobs_input_videos_is_array check (jsonb_typeof(input_videos) = 'array'),
  constraint merge_jobs_counts_non_negative check (attempts >= 0 and output_duration_ms >= 0 and output_size_bytes >= 0),
  constraint merge_jobs_cost_non_negative check (cost_usd >= 0)
);
comment on table public.merge_jobs is 'The final concatenation of a generation''s scene clips into one MP4.';
create index merge_jobs_user_id_idx on public.merge_jobs (user_id);

create table public.merge_assets (
  id uuid primary key default gen_random_uuid(),
  merge_job_id uuid not null references public.merge_jobs (id) on delete cascade,
  scene_video_id uuid references public.scene_videos (id) on delete set null,
  asset_type public.merge_asset_type not null,
  asset_url text not null,
  sequence_order integer not null,
  transform_params jsonb not null default '{}',
  duration_seconds numeric(10, 2),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint merge_assets_order_key unique (merge_job_id, asset_type, sequence_order),
  constraint merge_assets_sequence_non_negative check (sequence_order >= 0),
  constraint merge_assets_duration_non_negative check (duration_seconds >= 0)
);
comment on table public.merge_assets is 'The ordered inputs of a merge job.';
create index merge_assets_scene_video_id_idx on public.merge_assets (scene_video_id);

create trigger video_generations_set_updated_at before update on public.video_generations
  for each row execute function private.set_updated_at();
create trigger image_generations_set_updated_at before update on public.image_generations
  for each row execute function private.set_updated_at();
create trigger image_generation_retries_set_updated_at before update on public.image_generation_retries
  for each row execute function private.set_updated_at();
create trigger audio_generations_set_updated_at before update on public.audio_generations
  for each row execute function private.set_updated_at();
create trigger scene_videos_set_updated_at before update on public.scene_videos
  for each row execute function private.set_updated_at();
create trigger lipsync_jobs_set_updated_at before update on public.lipsync_jobs
  for each row execute function private.set_updated_at();
create trigger merge_jobs_set_updated_at before update on public.merge_jobs
  for each row execute function private.set_updated_at();
create trigger merge_assets_set_updated_at before update on public.merge_assets
  for each row execute function private.set_updated_at();

-- A generation moves forward through its stages; progress never goes down. pending -> a stage;
-- a stage -> a later stage; merge -> completed; pending or a stage -> failed or cancelled; and a
-- failed generation back to pending (retry).
create or replace function private.guard_generation_status()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  running constant public.generation_status[] := array['script', 'images', 'audio', 'video', 'lipsync', 'merge'];
begin
  if new.status is distinct from old.status and not (
    (old.status = 'pending' and (new.status = any (running) or new.status in ('failed', 'cancelled'))) or
    (old.status = any (running) and new.status = any (running) and new.status > old.status) or
    (old.status = 'merge' and new.status = 'completed') or
    (old.status = any (running) and new.status in ('failed', 'cancelled')) or
    (old.status = 'failed' and new.status = 'pending')
  ) then
    raise exception 'video generation %: illegal status change from % to %', old.id, old.status, new.status
      using errcode = '23514';
  end if;
  new.progress_percentage := greatest(new.progress_percentage, old.progress_percentage);
  return new;
end;
$$;
revoke all on function private.guard_generation_status() from public, anon, authenticated;
create trigger video_generations_guard_status before update on public.video_generations
  for each row execute function private.guard_generation_status();

-- Row level security: owners read; only the pipeline's functions write.
alter table public.video_generations enable row level security;
alter table public.image_generations enable row level security;
alter table public.image_generation_retries enable row level security;
alter table public.audio_generations enable row level security;
alter table public.scene_videos enable row level security;
alter table public.lipsync_jobs enable row level security;
alter table public.merge_jobs enable row level security;
alter table public.merge_assets enable row level security;

revoke insert, update, delete on public.video_generations, public.image_generations,
  public.image_generation_retries, public.audio_generations, public.scene_videos, public.lipsync_jobs,
  public.merge_jobs, public.merge_assets from anon, authenticated;
grant delete on public.video_generations to authenticated;

create policy "owners read their video generations" on public.video_generations
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners delete their finished video generations" on public.video_generations
  for delete to authenticated
  using (user_id = (select auth.uid()) and status in ('completed', 'failed', 'cancelled'));
create policy "owners read their images" on public.image_generations
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their image retries" on public.image_generation_retries
  for select to authenticated
  using (image_generation_id in (
    select i.id from public.image_generations i where i.user_id = (select auth.uid())));
create policy "owners read their audio" on public.audio_generations
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their scene videos" on public.scene_videos
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their lipsync jobs" on public.lipsync_jobs
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their merge jobs" on public.merge_jobs
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their merge assets" on public.merge_assets
  for select to authenticated
  using (merge_job_id in (select m.id from public.merge_jobs m where m.user_id = (select auth.uid())));

-- Clients watch generations and their jobs through Realtime (RLS applies).
alter publication supabase_realtime add table
  public.video_generations,
  public.scene_videos,
  public.image_generations,
  public.audio_generations,
  public.lipsync_jobs,
  public.merge_jobs;

-- Queues and units --------------------------------------------------------------------------------
select pgmq.create(q) from unnest(array['script', 'images', 'audio', 'video', 'lipsync', 'merge']) as q
where not exists (select 1 from pgmq.list_queues() l where l.queue_name = q);

-- One row per unit of work of a stage (the chapter, a scene, a character portrait, the final merge).
create table private.pipeline_units (
  generation_id uuid not null references public.video_generations (id) on delete cascade,
  step public.pipeline_step not null,
  unit_key text not null,
  status public.processing_status not null default 'pending',
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

create or replace function private.generation_is_running(status public.generation_status)
returns boolean
language sql
immutable
set search_path = ''
as $$ select status not in ('completed', 'failed', 'cancelled') $$;

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
    from generation g join public.scene_descriptions s on s.script_id = g.script_id,
      pg_catalog.jsonb_array_elements_text(s.characters) ch (name)
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

-- Creates the units of a stage and sends one message per unit not yet completed. The generation's
-- status follows its stage once a worker has started it (a pending generation stays pending).
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
      status = case when g.status = 'pending' then g.status else p_step::text::public.generation_status end,
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
  set progress_percentage = least(pg_catalog.round(done_weight)::integer, 100),
      completed_scenes = (select pg_catalog.count(*) from public.scene_videos v
                          where v.video_generation_id = p_generation_id and v.status = 'completed'),
      total_cost_usd = (select coalesce(pg_catalog.sum(l.cost_usd), 0) from public.usage_logs l
                        where l.video_generation_id = p_generation_id)
  where g.id = p_generation_id;
end;
$$;

-- What one unit's provider calls cost (usage is keyed `<generation>:<step>:<unit>:<n>`).
create or replace function private.unit_cost(p_generation_id uuid, p_step public.pipeline_step, p_unit text)
returns numeric
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select coalesce(pg_catalog.sum(l.cost_usd), 0) from public.usage_logs l
          where l.video_generation_id = p_generation_id
            and l.idempotency_key like p_generation_id || ':' || p_step || ':' || p_unit || ':%');
end;
$$;

-- Client RPCs ---------------------------------------------------------------------------------------

-- Start a video of a chapter. Checks ownership and quota under a row lock.
create or replace function public.start_video_generation(
  chapter_id uuid,
  script_style public.script_style default 'cinematic',
  quality_tier public.quality_tier default 'free'
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
  if not found or not (subscription.status in ('active', 'trialing')
                       or (subscription.status = 'canceled' and subscription.tier = 'free')) then
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
             and g.script_style = start_video_generation.script_style and private.generation_is_running(g.status)) then
    raise exception 'a % video of this chapter is already being generated', start_video_generation.script_style
      using errcode = 'LT003';
  end if;

  update public.user_subscriptions s set video_count_used = s.video_count_used + 1 where s.id = subscription.id;
  update public.user_progress p set videos_created = p.videos_created + 1, last_activity_at = pg_catalog.now()
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

-- Resume a failed generation from where it stopped, redoing only what is missing.
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
  set status = 'pending', error_message = null, completed_at = null,
      pipeline_metadata = g.pipeline_metadata || pg_catalog.jsonb_build_object('retries',
        coalesce((g.pipeline_metadata ->> 'retries')::integer, 0) + 1)
  where g.id = generation.id;
  perform private.enqueue_stage(generation.id, resume_at);
  return generation.id;
end;
$$;
comment on function public.retry_video_generation(uuid) is 'Client RPC: resume a failed generation from its last completed step.';

-- Stop a generation; its queued work is dropped by the workers and the video is refunded.
create or replace function public.cancel_video_generation(generation_id uuid)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations := private.owned_generation_for_update(generation_id);
begin
  if not private.generation_is_running(generation.status) then
    raise exception 'only a pending or running generation can be cancelled; this one is %', generation.status
      using errcode = 'LT004';
  end if;
  update public.video_generations g set status = 'cancelled', completed_at = pg_catalog.now() where g.id = generation.id;
  update public.user_subscriptions s set video_count_used = greatest(s.video_count_used - 1, 0)
  where s.user_id = generation.user_id;
  return generation.id;
end;
$$;
comment on function public.cancel_video_generation(uuid) is 'Client RPC: cancel a pending or running generation (the video is refunded).';

revoke all on function public.start_video_generation(uuid, public.script_style, public.quality_tier),
  public.retry_video_generation(uuid), public.cancel_video_generation(uuid) from public, anon;
grant execute on function public.start_video_generation(uuid, public.script_style, public.quality_tier),
  public.retry_video_generation(uuid), public.cancel_video_generation(uuid) to authenticated, service_role;

-- Worker steps ------------------------------------------------------------------------------------
-- Each is called by a stage function with the message it read; complete and fail delete, archive
-- or delay that message in the same transaction as the rows they write.

-- What a worker needs to do one unit, or null when the message is stale (cancelled, already done,
-- or from a stage the generation has left). Marks the unit's job row as started.
create or replace function private.begin_step(
  p_generation_id uuid,
  p_step public.pipeline_step,
  p_unit text,
  p_attempt integer
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations;
  unit private.pipeline_units;
  scene public.scene_descriptions;
  subscription_tier public.subscription_tier;
  clip public.scene_videos;
  context jsonb;
  character_name text;
begin
  select * into generation from public.video_generations g where g.id = p_generation_id for update;
  if not found or not private.generation_is_running(generation.status) or generation.current_step is distinct from p_step then
    return null;
  end if;
  select * into unit from private.pipeline_units u
  where u.generation_id = p_generation_id and u.step = p_step and u.unit_key = p_unit;
  if not found or unit.status = 'completed' then
    return null;
  end if;

  update private.pipeline_units u
  set status = 'processing', attempts = greatest(u.attempts, p_attempt), started_at = coalesce(u.started_at, pg_catalog.clock_timestamp())
  where u.generation_id = p_generation_id and u.step = p_step and u.unit_key = p_unit;
  update public.video_generations g
  set status = p_step::text::public.generation_status,
      started_at = coalesce(g.started_at, pg_catalog.clock_timestamp()),
      pipeline_metadata = pg_catalog.jsonb_set(g.pipeline_metadata, array['stages', p_step::text],
        coalesce(g.pipeline_metadata -> 'stages' -> p_step::text, '{}'::jsonb) || pg_catalog.jsonb_build_object(
          'started_at', coalesce(g.pipeline_metadata -> 'stages' -> p_step::text -> 'started_at', pg_catalog.to_jsonb(pg_catalog.clock_timestamp())),
          'attempts', greatest(coalesce((g.pipeline_metadata -> 'stages' -> p_step::text ->> 'attempts')::integer, 0), p_attempt)))
  where g.id = p_generation_id;

  select s.tier into subscription_tier from public.user_subscriptions s where s.user_id = generation.user_id;
  context := pg_catalog.jsonb_build_object(
    'generation_id', generation.id, 'user_id', generation.user_id, 'step', p_step, 'unit', p_unit,
    'attempt', p_attempt, 'script_style', generation.script_style, 'quality_tier', generation.quality_tier,
    'subscription_tier', subscription_tier, 'script_id', generation.script_id);

  if p_step = 'script' then
    context := context || (
      select pg_catalog.jsonb_build_object(
        'chapter', pg_catalog.jsonb_build_object('id', c.id, 'number', c.chapter_number, 'title', c.title, 'content', c.content),
        'book', pg_catalog.jsonb_build_object('id', b.id, 'title', b.title, 'book_type', b.book_type),
        'book_text', pg_catalog.left((select pg_catalog.string_agg(x.content, E'\n\n' order by x.chapter_number)
                                      from public.chapters x where x.book_id = b.id), 200000),
        'plot', (select pg_catalog.to_jsonb(p) - 'metadata' from public.plot_overviews p
                 where p.book_id = b.id and p.status = 'active'),
        'characters', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', ch.id, 'name', ch.name,
                   'role', ch.role, 'want', ch.want, 'need', ch.need, 'arc', ch.character_arc) order by ch.name)
                 from public.characters ch join public.plot_overviews p on p.id = ch.plot_overview_id
                 where p.book_id = b.id and p.status = 'active'), '[]'))
      from public.chapters c join public.books b on b.id = c.book_id where c.id = generation.chapter_id);
  elsif p_unit like 'scene:%' then
    select * into scene from public.scene_descriptions s
    where s.script_id = generation.script_id and s.scene_number = pg_catalog.split_part(p_unit, ':', 2)::integer;
    context := context || pg_catalog.jsonb_build_object('scene', pg_catalog.to_jsonb(scene),
      'voices', coalesce((select pg_catalog.jsonb_object_agg(ch.name, ch.voice_id) from public.characters ch
                          join public.chapters c on c.id = generation.chapter_id
                          join public.plot_overviews p on p.id = ch.plot_overview_id and p.book_id = c.book_id and p.status = 'active'
                          where ch.voice_id is not null), '{}'),
      'image', (select u.result from private.pipeline_units u where u.generation_id = generation.id
                and u.step = 'images' and u.unit_key = p_unit),
      'audio', (select u.result from private.pipeline_units u where u.generation_id = generation.id
                and u.step = 'audio' and u.unit_key = p_unit),
      'clip', (select u.result from private.pipeline_units u where u.generation_id = generation.id
               and u.step = 'video' and u.unit_key = p_unit));
    if p_step = 'images' then
      insert into public.image_generations (chapter_id, script_id, user_id, video_generation_id, scene_description_id,
        image_type, scene_number, prompt, status, retry_count, started_at)
      values (generation.chapter_id, generation.script_id, generation.user_id, generation.id, scene.id, 'scene',
        scene.scene_number, scene.visual_description, 'in_progress', greatest(p_attempt - 1, 0), pg_catalog.clock_timestamp())
      on conflict (video_generation_id, subject_key) do update
        set status = 'in_progress', retry_count = excluded.retry_count, error_message = null;
    elsif p_step = 'video' then
      insert into public.scene_videos (video_generation_id, scene_description_id, user_id, scene_number, status, attempts)
      values (generation.id, scene.id, generation.user_id, scene.scene_number, 'generating', p_attempt)
      on conflict (video_generation_id, scene_number) do update
        set status = 'generating', attempts = excluded.attempts, error_message = null;
    elsif p_step = 'lipsync' then
      select * into clip from public.scene_videos v
      where v.video_generation_id = generation.id and v.scene_number = scene.scene_number;
      insert into public.lipsync_jobs (scene_video_id, video_generation_id, user_id, status, input_video_url, attempts,
        started_at)
      values (clip.id, generation.id, generation.user_id, 'processing', clip.scene_video_url, p_attempt,
        pg_catalog.clock_timestamp())
      on conflict (scene_video_id) do update set status = 'processing', attempts = excluded.attempts, error_message = null;
    end if;
  elsif p_unit like 'character:%' then
    character_name := pg_catalog.substr(p_unit, 11);
    context := context || (
      select pg_catalog.jsonb_build_object('character', pg_catalog.jsonb_build_object('name', m.name, 'id', m.character_id,
        'physical_description', ch.physical_description, 'personality', ch.personality))
      from private.main_characters(generation.id) m left join public.characters ch on ch.id = m.character_id
      where m.name = character_name);
    insert into public.image_generations (chapter_id, script_id, user_id, video_generation_id, character_id, image_type,
      character_name, prompt, status, retry_count, started_at)
    values (generation.chapter_id, generation.script_id, generation.user_id, generation.id,
      (context -> 'character' ->> 'id')::uuid, 'character', character_name, 'Portrait of ' || character_name,
      'in_progress', greatest(p_attempt - 1, 0), pg_catalog.clock_timestamp())
    on conflict (video_generation_id, subject_key) do update
      set status = 'in_progress', retry_count = excluded.retry_count, error_message = null;
  elsif p_step = 'merge' then
    context := context || pg_catalog.jsonb_build_object('clips', (
      select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('scene_number', v.scene_number, 'scene_video_id', v.id,
               'storage_path', coalesce(l.metadata ->> 'storage_path', v.storage_path),
               'url', coalesce(v.lipsynced_video_url, v.scene_video_url), 'duration_seconds', v.duration_ms / 1000.0)
             order by v.scene_number)
      from public.scene_videos v left join public.lipsync_jobs l on l.scene_video_id = v.id and l.status = 'completed'
      where v.video_generation_id = generation.id));
    insert into public.merge_jobs (video_generation_id, user_id, merge_type, status, input_videos, attempts, started_at)
    values (generation.id, generation.user_id, 'auto', 'processing',
      coalesce((select pg_catalog.jsonb_agg(c -> 'url' order by (c ->> 'scene_number')::integer)
                from pg_catalog.jsonb_array_elements(context -> 'clips') c), '[]'),
      p_attempt, pg_catalog.clock_timestamp())
    on conflict (video_generation_id) do update
      set status = 'processing', input_videos = excluded.input_videos, attempts = excluded.attempts, error_message = null;
  end if;
  return context;
end;
$$;

-- Writes a unit's outputs into the product tables (upserts on natural keys: replays change nothing).
-- Called after the unit's usage is recorded, so each job row gets its cost.
create or replace function private.record_step_outputs(
  generation public.video_generations,
  p_step public.pipeline_step,
  p_unit text,
  outputs jsonb
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  new_script_id uuid;
  output_scene public.scene_descriptions;
  clip public.scene_videos;
  new_merge_job_id uuid;
  cost numeric := private.unit_cost(generation.id, p_step, p_unit);
begin
  if p_unit like 'scene:%' then
    select * into output_scene from public.scene_descriptions s
    where s.script_id = generation.script_id and s.scene_number = pg_catalog.split_part(p_unit, ':', 2)::integer;
  end if;

  if p_step = 'script' then
    new_script_id := private.save_generated_script(generation.user_id, generation.chapter_id, generation.script_style,
      outputs, pg_catalog.jsonb_build_object('video_generation_id', generation.id));
    update public.video_generations g
    set script_id = new_script_id, total_scenes = pg_catalog.jsonb_array_length(outputs -> 'scenes')
    where g.id = generation.id;

  elsif p_step = 'images' then
    update public.image_generations i
    set status = 'completed', prompt = coalesce(outputs ->> 'prompt', i.prompt), image_url = outputs ->> 'url',
        storage_path = outputs ->> 'storage_path', width = (outputs ->> 'width')::integer,
        height = (outputs ->> 'height')::integer, provider = outputs ->> 'provider', model_used = outputs ->> 'model',
        generation_time_ms = (outputs ->> 'generation_time_ms')::integer, error_message = null, cost_usd = cost,
        completed_at = pg_catalog.clock_timestamp()
    where i.video_generation_id = generation.id and i.subject_key = p_unit;

  elsif p_step = 'audio' then
    insert into public.audio_generations (chapter_id, script_id, scene_description_id, user_id, video_generation_id,
      character_id, audio_type, scene_number, sequence_order, speaker, text_content, voice_id, voice_settings, status,
      audio_url, storage_path, duration_ms, provider, model_used, attempts, cost_usd, started_at, completed_at)
    select generation.chapter_id, generation.script_id, output_scene.id, generation.user_id, generation.id,
      (select ch.id from public.characters ch join public.chapters c on c.id = generation.chapter_id
       join public.plot_overviews p on p.id = ch.plot_overview_id and p.book_id = c.book_id and p.status = 'active'
       where ch.name = l ->> 'speaker' limit 1),
      (l ->> 'audio_type')::public.audio_type, output_scene.scene_number, (l ->> 'sequence_order')::integer,
      l ->> 'speaker', l ->> 'text', l ->> 'voice_id', coalesce(l -> 'voice_settings', '{}'), 'completed',
      l ->> 'url', l ->> 'storage_path', (l ->> 'duration_ms')::integer, outputs ->> 'provider', outputs ->> 'model', 1,
      -- The scene's cost on its first line (one unit, one bill).
      case when (l ->> 'sequence_order')::integer = 0 then cost else 0 end,
      (select u.started_at from private.pipeline_units u where u.generation_id = generation.id and u.step = p_step
       and u.unit_key = p_unit),
      pg_catalog.clock_timestamp()
    from pg_catalog.jsonb_array_elements(outputs -> 'lines') l
    on conflict (video_generation_id, scene_description_id, sequence_order) do update
      set status = 'completed', audio_url = excluded.audio_url, storage_path = excluded.storage_path,
          duration_ms = excluded.duration_ms, text_content = excluded.text_content, cost_usd = excluded.cost_usd,
          completed_at = excluded.completed_at, error_message = null;

  elsif p_step = 'video' then
    update public.scene_videos v
    set image_generation_id = (select i.id from public.image_generations i
                               where i.video_generation_id = generation.id and i.subject_key = p_unit),
        status = 'completed', scene_video_url = outputs ->> 'url', storage_path = outputs ->> 'storage_path',
        duration_ms = pg_catalog.round((outputs ->> 'duration_seconds')::numeric * 1000)::integer,
        provider = outputs ->> 'provider', model_used = outputs ->> 'model',
        generation_time_ms = (outputs ->> 'generation_time_ms')::integer, cost_usd = cost, error_message = null
    where v.video_generation_id = generation.id and v.scene_number = output_scene.scene_number;

  elsif p_step = 'lipsync' then
    select * into clip from public.scene_videos v
    where v.video_generation_id = generation.id and v.scene_number = output_scene.scene_number;
    update public.lipsync_jobs j
    set status = 'completed', input_video_url = clip.scene_video_url, input_audio_url = outputs ->> 'input_audio_url',
        output_video_url = outputs ->> 'url', provider = outputs ->> 'provider', model_used = outputs ->> 'model',
        audio_generation_id = (select a.id from public.audio_generations a
                               where a.video_generation_id = generation.id and a.scene_description_id = output_scene.id
                               order by (a.audio_type = 'dialogue') desc, a.sequence_order limit 1),
        cost_usd = cost, completed_at = pg_catalog.clock_timestamp(), error_message = null,
        metadata = pg_catalog.jsonb_build_object('storage_path', outputs ->> 'storage_path', 'applied', outputs -> 'applied')
    where j.scene_video_id = clip.id;
    update public.scene_videos v set lipsynced_video_url = outputs ->> 'url' where v.id = clip.id;

  elsif p_step = 'merge' then
    update public.merge_jobs m
    set status = 'completed', output_video_url = outputs ->> 'url', storage_path = outputs ->> 'storage_path',
        output_duration_ms = pg_catalog.round((outputs ->> 'duration_seconds')::numeric * 1000)::integer,
        output_size_bytes = (outputs ->> 'file_size_bytes')::bigint, provider = outputs ->> 'provider',
        ffmpeg_params = coalesce(outputs -> 'ffmpeg_params', m.ffmpeg_params), cost_usd = cost,
        completed_at = pg_catalog.clock_timestamp(), error_message = null
    where m.video_generation_id = generation.id
    returning m.id into new_merge_job_id;
    insert into public.merge_assets (merge_job_id, scene_video_id, asset_type, asset_url, sequence_order, duration_seconds)
    select new_merge_job_id, (a ->> 'scene_video_id')::uuid, 'video', a ->> 'url', (a ->> 'sequence_order')::integer,
      (a ->> 'duration_seconds')::numeric
    from pg_catalog.jsonb_array_elements(outputs -> 'assets') a
    on conflict (merge_job_id, asset_type, sequence_order) do update set asset_url = excluded.asset_url;
    update public.video_generations g
    set video_url = outputs ->> 'url', storage_path = outputs ->> 'storage_path',
        duration_seconds = (outputs ->> 'duration_seconds')::numeric
    where g.id = generation.id;
  end if;
end;
$$;

-- Completes one unit: usage and cost, outputs, message deleted, next stage started when the stage's
-- last unit completes. A replay (unit already complete, generation moved on) only deletes the
-- message. Returns 'completed', 'stage_completed', 'generation_completed' or 'stale'.
create or replace function private.complete_step(
  p_msg_id bigint,
  p_generation_id uuid,
  p_step public.pipeline_step,
  p_unit text,
  p_outputs jsonb,
  p_usage jsonb default '[]'
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations;
  unit_status public.processing_status;
  remaining integer;
  call jsonb;
  call_index integer := 0;
  started jsonb;
begin
  perform pgmq.delete(p_step::text, p_msg_id);
  select * into generation from public.video_generations g where g.id = p_generation_id for update;
  select u.status into unit_status from private.pipeline_units u
  where u.generation_id = p_generation_id and u.step = p_step and u.unit_key = p_unit for update;
  if generation.id is null or generation.status::text <> p_step::text or generation.current_step is distinct from p_step
     or unit_status is null or unit_status = 'completed' then
    return 'stale';
  end if;

  for call in select * from pg_catalog.jsonb_array_elements(coalesce(p_usage, '[]')) loop
    perform private.record_usage(generation.user_id, generation.id, call ->> 'model', coalesce(call ->> 'operation', p_step::text),
      format('%s:%s:%s:%s', generation.id, p_step, p_unit, call_index),
      coalesce((call ->> 'input_tokens')::integer, 0), coalesce((call ->> 'output_tokens')::integer, 0),
      coalesce((call ->> 'units')::numeric, 0), coalesce((call ->> 'duration_ms')::integer, 0));
    call_index := call_index + 1;
  end loop;
  perform private.record_step_outputs(generation, p_step, p_unit, p_outputs);
  update private.pipeline_units u
  set status = 'completed', completed_at = pg_catalog.clock_timestamp(), last_error = null,
      result = coalesce(p_outputs, '{}') - 'lines' - 'scenes' - 'script'
  where u.generation_id = p_generation_id and u.step = p_step and u.unit_key = p_unit;

  select pg_catalog.count(*) into remaining from private.pipeline_units u
  where u.generation_id = p_generation_id and u.step = p_step and u.status <> 'completed';
  if remaining > 0 then
    perform private.refresh_progress(p_generation_id);
    return 'completed';
  end if;

  started := generation.pipeline_metadata -> 'stages' -> p_step::text;
  update public.video_generations g
  set last_completed_step = p_step,
      pipeline_metadata = pg_catalog.jsonb_set(g.pipeline_metadata, array['stages', p_step::text],
        coalesce(started, '{}') || pg_catalog.jsonb_build_object('completed_at', pg_catalog.clock_timestamp(),
          'provider', coalesce(p_outputs ->> 'provider', started ->> 'provider'),
          'model', coalesce(p_outputs ->> 'model', started ->> 'model')))
  where g.id = p_generation_id;

  if p_step = 'merge' then
    perform private.refresh_progress(p_generation_id);
    update public.video_generations g
    set status = 'completed', current_step = null, progress_percentage = 100, completed_at = pg_catalog.clock_timestamp()
    where g.id = p_generation_id;
    return 'generation_completed';
  end if;
  perform private.enqueue_stage(p_generation_id, private.next_step(p_step));
  perform private.refresh_progress(p_generation_id);
  return 'stage_completed';
end;
$$;

-- Records a failed attempt. Retryable errors within the attempt limit come back after an
-- exponential backoff (3 s by default, doubling, at most 300 s); the rest archive the message, mark
-- the unit's job row failed, and fail the generation with a readable message. Returns 'retry',
-- 'failed' or 'stale'.
create or replace function private.fail_step(
  p_msg_id bigint,
  p_generation_id uuid,
  p_step public.pipeline_step,
  p_unit text,
  p_error text,
  p_retryable boolean,
  p_attempt integer,
  p_max_attempts integer default 5,
  p_base_backoff_seconds integer default 3
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations;
  image_id uuid;
  scene_number integer := case when p_unit like 'scene:%' then pg_catalog.split_part(p_unit, ':', 2)::integer end;
  backoff integer := private.backoff_seconds(p_attempt, p_base_backoff_seconds);
begin
  select * into generation from public.video_generations g where g.id = p_generation_id for update;
  if generation.id is null or not private.generation_is_running(generation.status)
     or generation.current_step is distinct from p_step then
    perform pgmq.delete(p_step::text, p_msg_id);
    return 'stale';
  end if;
  update private.pipeline_units u set last_error = p_error, attempts = greatest(u.attempts, p_attempt)
  where u.generation_id = p_generation_id and u.step = p_step and u.unit_key = p_unit;
  update public.video_generations g
  set pipeline_metadata = pg_catalog.jsonb_set(g.pipeline_metadata, array['stages', p_step::text, 'errors'],
    coalesce(g.pipeline_metadata -> 'stages' -> p_step::text -> 'errors', '[]')
      || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('unit', p_unit, 'attempt', p_attempt,
           'error', p_error, 'at', pg_catalog.clock_timestamp())))
  where g.id = p_generation_id;
  if p_step = 'images' then
    select i.id into image_id from public.image_generations i
    where i.video_generation_id = p_generation_id and i.subject_key = p_unit;
    if image_id is not null then
      insert into public.image_generation_retries (image_generation_id, attempt_number, status, error_message, retryable)
      values (image_id, greatest(p_attempt, 1), 'failed', p_error, p_retryable)
      on conflict (image_generation_id, attempt_number) do nothing;
    end if;
  end if;

  if p_retryable and p_attempt < p_max_attempts then
    perform pgmq.set_vt(p_step::text, p_msg_id, backoff);
    return 'retry';
  end if;

  perform pgmq.archive(p_step::text, p_msg_id);
  update private.pipeline_units u set status = 'failed'
  where u.generation_id = p_generation_id and u.step = p_step and u.unit_key = p_unit;
  if p_step = 'images' then
    update public.image_generations i set status = 'failed', error_message = p_error
    where i.video_generation_id = p_generation_id and i.subject_key = p_unit;
  elsif p_step = 'video' then
    update public.scene_videos v set status = 'failed', error_message = p_error
    where v.video_generation_id = p_generation_id and v.scene_number = fail_step.scene_number;
  elsif p_step = 'lipsync' then
    update public.lipsync_jobs j set status = 'failed', error_message = p_error, completed_at = pg_catalog.clock_timestamp()
    where j.scene_video_id = (select v.id from public.scene_videos v
                              where v.video_generation_id = p_generation_id and v.scene_number = fail_step.scene_number);
  elsif p_step = 'merge' then
    update public.merge_jobs m set status = 'failed', error_message = p_error, completed_at = pg_catalog.clock_timestamp()
    where m.video_generation_id = p_generation_id;
  end if;
  update public.video_generations g
  set status = 'failed', completed_at = pg_catalog.clock_timestamp(),
      error_message = format('%s stage failed for %s after %s attempt(s): %s', p_step, p_unit, p_attempt, p_error)
  where g.id = p_generation_id;
  return 'failed';
end;
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
    where private.generation_is_running(g.status) and g.current_step is not null
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

revoke all on function private.begin_step(uuid, public.pipeline_step, text, integer),
  private.complete_step(bigint, uuid, public.pipeline_step, text, jsonb, jsonb),
  private.fail_step(bigint, uuid, public.pipeline_step, text, text, boolean, integer, integer, integer),
  private.record_step_outputs(public.video_generations, public.pipeline_step, text, jsonb),
  private.enqueue_stage(uuid, public.pipeline_step), private.refresh_progress(uuid),
  private.unit_cost(uuid, public.pipeline_step, text),
  private.main_characters(uuid), private.owned_generation_for_update(uuid),
  private.stage_weight(public.pipeline_step), private.next_step(public.pipeline_step),
  private.step_timeout(public.pipeline_step), private.generation_is_running(public.generation_status),
  private.reap_stuck_generations()
  from public, anon, authenticated;
grant execute on function private.begin_step(uuid, public.pipeline_step, text, integer),
  private.complete_step(bigint, uuid, public.pipeline_step, text, jsonb, jsonb),
  private.fail_step(bigint, uuid, public.pipeline_step, text, text, boolean, integer, integer, integer),
  private.reap_stuck_generations()
  to service_role;
