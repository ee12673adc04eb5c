-- The media pipeline: a video generation and the jobs of its stages (script -> images -> audio ->
-- video -> lipsync -> merge), one pgmq queue per stage, and the state machine clients and workers use.
create type public.pipeline_step as enum ('script', 'images', 'audio', 'video', 'lipsync', 'merge');
-- While a generation runs, its status is the stage it is in; pending until the first worker takes it.
create type public.generation_status as enum ('pending', 'script', 'images', 'audio', 'video', 'lipsync', 'merge',
  'completed', 'failed', 'canceled');
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
  where status not in ('completed', 'failed', 'canceled');

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
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint merge_assets_order_key unique (merge_job_id, asset_type, sequence_order),
  constraint merge_assets_sequence_non_negative check (sequence_order >= 0)
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
-- a stage -> a later stage; merge -> completed; pending or a stage -> failed or canceled; and a
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
    (old.status = 'pending' and (new.status = any (running) or new.status in ('failed', 'canceled'))) or
    (old.status = any (running) and new.status = any (running) and new.status > old.status) or
    (old.status = 'merge' and new.status = 'completed') or
    (old.status = any (running) and new.status in ('failed', 'canceled')) or
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

-- A generation that fails or is canceled leaves no job row looking busy: what had not finished is
-- marked failed, with the reason.
create or replace function private.close_unfinished_jobs()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  reason text := case new.status when 'canceled' then 'the generation was canceled'
    else 'the generation failed: ' || new.error_message end;
begin
  -- Rows a unit is completing right now are locked by it: they are skipped, not waited for (waiting
  -- would deadlock with that unit's wait for the generation row) and end completed.
  update public.image_generations j set status = 'failed', error_message = coalesce(j.error_message, reason),
    completed_at = pg_catalog.now()
  where j.id in (select x.id from public.image_generations x where x.video_generation_id = new.id
                 and x.status in ('pending', 'in_progress') for update skip locked);
  update public.audio_generations j set status = 'failed', error_message = coalesce(j.error_message, reason),
    completed_at = pg_catalog.now()
  where j.id in (select x.id from public.audio_generations x where x.video_generation_id = new.id
                 and x.status in ('pending', 'in_progress') for update skip locked);
  update public.scene_videos j set status = 'failed', error_message = coalesce(j.error_message, reason)
  where j.id in (select x.id from public.scene_videos x where x.video_generation_id = new.id
                 and x.status in ('pending', 'generating') for update skip locked);
  update public.lipsync_jobs j set status = 'failed', error_message = coalesce(j.error_message, reason),
    completed_at = pg_catalog.now()
  where j.id in (select x.id from public.lipsync_jobs x where x.video_generation_id = new.id
                 and x.status in ('pending', 'processing') for update skip locked);
  update public.merge_jobs j set status = 'failed', error_message = coalesce(j.error_message, reason),
    completed_at = pg_catalog.now()
  where j.id in (select x.id from public.merge_jobs x where x.video_generation_id = new.id
                 and x.status in ('pending', 'processing') for update skip locked);
  return null;
end;
$$;
revoke all on function private.close_unfinished_jobs() from public, anon, authenticated;
create trigger video_generations_close_unfinished_jobs after update of status on public.video_generations
  for each row when (new.status in ('failed', 'canceled') and old.status is distinct from new.status)
  execute function private.close_unfinished_jobs();

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
  using (user_id = (select auth.uid()) and status in ('completed', 'failed', 'canceled'));
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

-- Progress on private Broadcast channels, as Supabase recommends at scale: every change of a
-- generation (its status, stage, progress, costs) and of a book is sent to `generation:<id>` and
-- `user:<id>`, and only the owner may join those channels. The job tables' rows stream through
-- postgres_changes (the publication above); broadcasting each of them too cost the engine a
-- measurable share of every unit (see docs/benchmarks.md).
create or replace function private.broadcast_progress()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  changed jsonb := case when tg_op = 'DELETE' then pg_catalog.to_jsonb(old) else pg_catalog.to_jsonb(new) end;
begin
  -- Rows going with their account: no one is left to tell, and their contents must not outlive it.
  if tg_op = 'DELETE' and not exists (select 1 from public.profiles p where p.id = (changed ->> 'user_id')::uuid) then
    return null;
  end if;
  if tg_table_name = 'video_generations' then
    perform realtime.broadcast_changes('generation:' || (changed ->> 'id'), tg_op, tg_op, tg_table_name,
      tg_table_schema, new, old);
  end if;
  perform realtime.broadcast_changes('user:' || (changed ->> 'user_id'), tg_op, tg_op, tg_table_name,
    tg_table_schema, new, old);
  return null;
end;
$$;
revoke all on function private.broadcast_progress() from public, anon, authenticated;
create trigger video_generations_broadcast after insert or delete on public.video_generations
  for each row execute function private.broadcast_progress();
-- Updates that change nothing a progress bar shows (timestamps, metadata) send nothing.
create trigger video_generations_broadcast_progress after update on public.video_generations
  for each row
  when (old.status is distinct from new.status
        or old.current_step is distinct from new.current_step
        or old.progress_percentage is distinct from new.progress_percentage
        or old.completed_scenes is distinct from new.completed_scenes
        or old.total_scenes is distinct from new.total_scenes
        or old.video_url is distinct from new.video_url
        or old.error_message is distinct from new.error_message)
  execute function private.broadcast_progress();
create trigger books_broadcast after insert or update or delete on public.books
  for each row execute function private.broadcast_progress();

-- Joining a private channel: Realtime checks a select on realtime.messages with the channel as
-- realtime.topic(). A user may receive their own user channel and their own generations' channels.
create policy "owners receive their progress broadcasts" on realtime.messages
  for select to authenticated
  using (
    realtime.messages.extension = 'broadcast' and realtime.messages.topic = (select realtime.topic()) and (
      (select realtime.topic()) = 'user:' || (select auth.uid())::text
      or exists (select 1 from public.video_generations g
                 where 'generation:' || g.id::text = (select realtime.topic()) and g.user_id = (select auth.uid()))
    )
  );

-- The engine ---------------------------------------------------------------------------------------
-- Stages are data: one row each in private.pipeline_stages. The engine below is the same for every
-- stage; what differs lives in the stage's own migration (`..._stage_<step>.sql`) as four functions,
-- which the engine calls by that name:
--   private.stage_<step>_units(generation)            the units of work, e.g. 'scene:2'
--   private.stage_<step>_begin(generation, unit, n)   what the worker needs; marks the unit's job row started
--   private.stage_<step>_record(generation, unit, o)  writes the outputs; returns the id of the job row paid for
--   private.stage_<step>_fail(generation, unit, e, final)  records a failed attempt on the job row
-- Adding a stage: a row here, that migration, and a worker function (supabase/functions/pipeline-<step>).

create table private.pipeline_stages (
  step public.pipeline_step primary key,
  position integer not null,
  -- Share of progress_percentage the stage's units make up (the weights add up to 100).
  weight numeric(5, 2) not null,
  -- The job table whose cost_usd the stage's usage is written to (null: the stage has none).
  job_table text,
  -- A unit's time limit: the worker aborts it, the reaper looks at a generation without progress this long.
  timeout_seconds integer not null,
  -- How long a read message stays hidden; the worker renews it while it works (a dead worker's returns).
  lease_seconds integer not null default 10,
  max_attempts integer not null default 5,
  backoff_base_seconds integer not null default 3,
  backoff_max_seconds integer not null default 300,
  -- Units one worker works on at once.
  concurrency integer not null default 2,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint pipeline_stages_position_key unique (position),
  constraint pipeline_stages_weight_range check (weight >= 0 and weight <= 100),
  constraint pipeline_stages_limits_positive check (timeout_seconds > 0 and lease_seconds > 0 and max_attempts > 0
    and backoff_base_seconds > 0 and backoff_max_seconds >= backoff_base_seconds and concurrency > 0),
  constraint pipeline_stages_lease_within_timeout check (lease_seconds <= timeout_seconds)
);
comment on table private.pipeline_stages is 'The pipeline''s stages: order, progress weight, limits and retry policy.';
create trigger pipeline_stages_set_updated_at before update on private.pipeline_stages
  for each row execute function private.set_updated_at();
alter table private.pipeline_stages enable row level security;

-- One row per unit of work of a stage: 'chapter', 'scene:<n>', 'character:<name>' or 'final'.
create table private.pipeline_units (
  generation_id uuid not null references public.video_generations (id) on delete cascade,
  step public.pipeline_step not null,
  unit_key text not null,
  scene_number integer generated always as
    (case when unit_key like 'scene:%' then pg_catalog.split_part(unit_key, ':', 2)::integer end) stored,
  character_name text generated always as
    (case when unit_key like 'character:%' then pg_catalog.substr(unit_key, 11) end) stored,
  status public.processing_status not null default 'pending',
  attempts integer not null default 0,
  result jsonb not null default '{}',
  last_error text,
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (generation_id, step, unit_key),
  constraint pipeline_units_attempts_non_negative check (attempts >= 0),
  constraint pipeline_units_key_known check (unit_key in ('chapter', 'final') or unit_key ~ '^scene:[1-9][0-9]*$'
    or unit_key ~ '^character:.+$')
);
comment on table private.pipeline_units is 'Units of work per generation and stage; their completion drives the pipeline.';
create trigger pipeline_units_set_updated_at before update on private.pipeline_units
  for each row execute function private.set_updated_at();
alter table private.pipeline_units enable row level security;

create or replace function private.pipeline_stage(p_step public.pipeline_step)
returns private.pipeline_stages
language sql
stable
security definer
set search_path = ''
as $$ select s from private.pipeline_stages s where s.step = p_step $$;

create or replace function private.first_step()
returns public.pipeline_step
language sql
stable
security definer
set search_path = ''
as $$ select s.step from private.pipeline_stages s order by s.position limit 1 $$;

create or replace function private.next_step(p_step public.pipeline_step)
returns public.pipeline_step
language sql
stable
security definer
set search_path = ''
as $$
  select s.step from private.pipeline_stages s
  where s.position > (select c.position from private.pipeline_stages c where c.step = p_step)
  order by s.position limit 1
$$;

create or replace function private.generation_is_running(status public.generation_status)
returns boolean
language sql
immutable
set search_path = ''
as $$ select status not in ('completed', 'failed', 'canceled') $$;

-- Creates the units of a stage and sends one message per unit not yet completed; returns the stage's
-- entry of pipeline_metadata.stages with its unit count and when it was first queued. The caller
-- writes the generation row (once, with whatever else it changes).
create or replace function private.queue_stage_units(generation public.video_generations, p_step public.pipeline_step)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  units text[];
  pending text[];
begin
  execute pg_catalog.format('select array(select private.%I($1))', 'stage_' || p_step || '_units')
    into units using generation;
  insert into private.pipeline_units (generation_id, step, unit_key)
  select generation.id, p_step, u from unnest(units) u
  on conflict do nothing;
  select array_agg(u.unit_key order by u.unit_key) into pending from private.pipeline_units u
  where u.generation_id = generation.id and u.step = p_step and u.status <> 'completed';
  perform pgmq.send_batch(p_step::text, array(
    select pg_catalog.jsonb_build_object('generation_id', generation.id, 'step', p_step, 'unit', u)
    from unnest(coalesce(pending, '{}')) u));
  perform private.wake_queue_workers(p_step::text);
  return coalesce(generation.pipeline_metadata -> 'stages' -> p_step::text, '{}'::jsonb)
    || pg_catalog.jsonb_build_object('units', pg_catalog.cardinality(units),
         'queued_at', coalesce(generation.pipeline_metadata -> 'stages' -> p_step::text -> 'queued_at',
                               pg_catalog.to_jsonb(pg_catalog.clock_timestamp())));
end;
$$;

-- Queues a stage (start, retry, the reaper) and makes it the generation's current step. Its status
-- follows the stage once a worker has started it (a pending generation stays pending). Returns the
-- number of messages sent.
create or replace function private.enqueue_stage(p_generation_id uuid, p_step public.pipeline_step)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations;
  entry jsonb;
begin
  select * into generation from public.video_generations g where g.id = p_generation_id;
  entry := private.queue_stage_units(generation, p_step);
  update public.video_generations g
  set current_step = p_step,
      status = case when g.status = 'pending' then g.status else p_step::text::public.generation_status end,
      pipeline_metadata = pg_catalog.jsonb_set(g.pipeline_metadata, array['stages', p_step::text], entry)
  where g.id = p_generation_id;
  return (select pg_catalog.count(*)::integer from private.pipeline_units u
          where u.generation_id = p_generation_id and u.step = p_step and u.status <> 'completed');
end;
$$;

-- When a stage ran and how often, from its units: written when it completes or fails for good.
create or replace function private.stage_timing(p_generation_id uuid, p_step public.pipeline_step)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('started_at', pg_catalog.min(u.started_at),
    'attempts', pg_catalog.max(u.attempts)))
  from private.pipeline_units u where u.generation_id = p_generation_id and u.step = p_step
$$;

-- Deletes a generation's messages from a stage's queue (it failed or was canceled: what was
-- waiting would only be dropped as stale, or run twice beside a retry's fresh messages).
create or replace function private.drop_stage_messages(p_generation_id uuid, p_step public.pipeline_step)
returns void
language sql
security definer
set search_path = ''
as $$ select private.drop_queue_messages(p_step::text, 'generation_id', array[p_generation_id::text]) $$;

-- Progress: the weights of the stages done, plus the current stage's weight times its share of
-- completed units. Scenes completed and the total cost follow the job rows.
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
begin
  select * into generation from public.video_generations g where g.id = p_generation_id;
  select coalesce(pg_catalog.sum(s.weight), 0) into done_weight from private.pipeline_stages s
  where s.position <= (select c.position from private.pipeline_stages c where c.step = generation.last_completed_step);
  if generation.current_step is not null and generation.current_step is distinct from generation.last_completed_step then
    select coalesce(pg_catalog.count(*) filter (where u.status = 'completed')::numeric / nullif(pg_catalog.count(*), 0), 0)
    into current_fraction
    from private.pipeline_units u where u.generation_id = p_generation_id and u.step = generation.current_step;
    done_weight := done_weight + (private.pipeline_stage(generation.current_step)).weight * current_fraction;
  end if;
  update public.video_generations g
  set progress_percentage = least(pg_catalog.round(done_weight)::integer, 100),
      pipeline_metadata = g.pipeline_metadata - 'reaped', -- progress: the reaper's count starts again
      completed_scenes = (select pg_catalog.count(*) from public.scene_videos v
                          where v.video_generation_id = p_generation_id and v.status = 'completed'),
      total_cost_usd = (select coalesce(pg_catalog.sum(l.cost_usd), 0) from public.usage_logs l
                        where l.video_generation_id = p_generation_id)
  where g.id = p_generation_id;
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

-- The units of the stages that work scene by scene.
create or replace function private.scene_units(generation public.video_generations)
returns setof text
language sql
stable
security definer
set search_path = ''
as $$
  select 'scene:' || s.scene_number from public.scene_descriptions s
  where s.script_id = generation.script_id order by s.scene_number
$$;


-- Client RPCs ---------------------------------------------------------------------------------------

-- Refuses (LT010) a start or resume whose expected cost would take the subscription's model costs
-- this billing period past its tier's budget (private.tier_ceilings.max_period_usd): every paid call
-- of the user counts, logged or under way.
create or replace function private.require_period_budget(p_user_id uuid, p_expected_usd numeric default 0)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  budget record;
  spent numeric;
begin
  select * into budget from private.period_budget(p_user_id);
  spent := private.user_spend_usd(p_user_id, budget.period_start);
  if spent + coalesce(p_expected_usd, 0) > budget.budget_usd or spent >= budget.budget_usd then
    raise exception 'this billing period''s model costs ($% so far, and about $% for this video) would pass the % tier''s budget of $%: videos can start again on %',
      pg_catalog.round(spent, 2), pg_catalog.round(coalesce(p_expected_usd, 0), 2), budget.tier, budget.budget_usd,
      pg_catalog.to_char(budget.period_end, 'YYYY-MM-DD') using errcode = 'LT010';
  end if;
end;
$$;
revoke all on function private.require_period_budget(uuid, numeric) from public, anon, authenticated;

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
  perform private.require_period_budget(caller, (select e.expected_usd from private.estimate_generation(
    start_video_generation.chapter_id, start_video_generation.quality_tier, start_video_generation.script_style) e));
  if exists (select 1 from public.video_generations g where g.chapter_id = start_video_generation.chapter_id
             and g.script_style = start_video_generation.script_style and private.generation_is_running(g.status)) then
    raise exception 'a % video of this chapter is already being generated', start_video_generation.script_style
      using errcode = 'LT003';
  end if;

  update public.user_subscriptions s set video_count_used = s.video_count_used + 1 where s.id = subscription.id;
  -- (videos_created counts completed videos: the video_generations_progress trigger.)
  insert into public.video_generations (user_id, chapter_id, script_style, quality_tier, pipeline_metadata)
  values (caller, start_video_generation.chapter_id, start_video_generation.script_style,
          start_video_generation.quality_tier, '{"stages": {}}')
  returning id into new_id;
  perform private.enqueue_stage(new_id, private.first_step());
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
  for no key update;
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
  subscription public.user_subscriptions;
  allowed_quality public.quality_tier;
begin
  perform private.take_rate_limit('retry_video');
  if generation.status <> 'failed' then
    raise exception 'only a failed generation can be retried; this one is %', generation.status using errcode = 'LT004';
  end if;
  if exists (select 1 from public.video_generations g where g.chapter_id = generation.chapter_id
             and g.script_style = generation.script_style and private.generation_is_running(g.status)) then
    raise exception 'a % video of this chapter is already being generated', generation.script_style
      using errcode = 'LT003';
  end if;
  -- The subscription as start_video_generation checks it: in good standing, and still including the
  -- generation's quality (after a downgrade, a premium video is not resumed on a basic plan).
  select * into subscription from public.user_subscriptions s where s.user_id = generation.user_id;
  if not found or not (subscription.status in ('active', 'trialing')
                       or (subscription.status = 'canceled' and subscription.tier = 'free')) then
    raise exception 'your subscription is %: update your payment method to generate videos',
      coalesce(subscription.status::text, 'missing') using errcode = 'LT002';
  end if;
  select t.quality_tier into allowed_quality from public.subscription_tiers() t where t.tier = subscription.tier;
  if generation.quality_tier > allowed_quality then
    raise exception 'quality % is not included in the % tier (up to %)', generation.quality_tier, subscription.tier,
      allowed_quality using errcode = 'LT005';
  end if;
  perform private.require_period_budget(generation.user_id);
  resume_at := coalesce(generation.current_step, private.first_step());
  update private.pipeline_units u set status = 'pending', last_error = null
  where u.generation_id = generation.id and u.step = resume_at and u.status = 'failed';
  update public.video_generations g
  set status = 'pending', error_message = null, completed_at = null,
      pipeline_metadata = g.pipeline_metadata || pg_catalog.jsonb_build_object('retries',
        coalesce((g.pipeline_metadata ->> 'retries')::integer, 0) + 1, 'reaped', 0)
  where g.id = generation.id;
  perform private.enqueue_stage(generation.id, resume_at);
  return generation.id;
end;
$$;
comment on function public.retry_video_generation(uuid) is 'Client RPC: resume a failed generation from its last completed step.';

-- Cancels a running generation: its status, whether its video went back to the quota, and its
-- waiting messages dropped (a unit in flight finishes its call and finds it canceled). Also used
-- when the generation's account is deleted.
create or replace function private.cancel_generation(generation public.video_generations, refunded boolean)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.video_generations g
  set status = 'canceled', completed_at = pg_catalog.now(),
      pipeline_metadata = g.pipeline_metadata || pg_catalog.jsonb_build_object('refunded', refunded)
  where g.id = generation.id;
  if generation.current_step is not null then
    perform private.drop_stage_messages(generation.id, generation.current_step);
  end if;
end;
$$;
revoke all on function private.cancel_generation(public.video_generations, boolean) from public, anon, authenticated;

-- Stop a generation; its queued work is dropped by the workers and the video is refunded.
create or replace function public.cancel_video_generation(generation_id uuid)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations := private.owned_generation_for_update(generation_id);
  -- The video goes back to the quota only while no paid call has begun: from the moment a unit
  -- reserves its call, the call may be under way and is paid for, logged or not yet (a call that
  -- failed, released, was not billed).
  refunded boolean;
begin
  if not private.generation_is_running(generation.status) then
    raise exception 'only a pending or running generation can be canceled; this one is %', generation.status
      using errcode = 'LT004';
  end if;
  refunded := not exists (select 1 from private.cost_reservations r
                          where r.video_generation_id = generation.id and r.status <> 'released')
              and not exists (select 1 from public.usage_logs l where l.video_generation_id = generation.id);
  perform private.cancel_generation(generation, refunded);
  if refunded then
    update public.user_subscriptions s set video_count_used = greatest(s.video_count_used - 1, 0)
    where s.user_id = generation.user_id;
  end if;
  return generation.id;
end;
$$;
comment on function public.cancel_video_generation(uuid)
  is 'Client RPC: cancel a pending or running generation; the video is refunded while no work has begun.';

revoke all on function public.start_video_generation(uuid, public.script_style, public.quality_tier),
  public.retry_video_generation(uuid), public.cancel_video_generation(uuid) from public, anon;
grant execute on function public.start_video_generation(uuid, public.script_style, public.quality_tier),
  public.retry_video_generation(uuid), public.cancel_video_generation(uuid) to authenticated, service_role;

-- A chapter (or its book) whose video is being made cannot be deleted: its units in flight would
-- finish into a deleted generation. Refused rather than canceled for the user, who decides whether
-- the video goes; after a cancel the delete goes through, and a unit still in flight is logged to
-- its user by complete_step.
create or replace function private.refuse_deleting_a_chapter_in_production()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  running public.video_generations;
begin
  select * into running from public.video_generations g
  where g.chapter_id = old.id and private.generation_is_running(g.status) limit 1;
  -- An account being deleted takes its generations with it (its profile is already gone).
  if running.id is not null and exists (select 1 from public.profiles p where p.id = running.user_id) then
    raise exception 'chapter % ("%") has a video being made (generation %): cancel it with cancel_video_generation, then delete',
      old.chapter_number, old.title, running.id
      using errcode = 'LT009';
  end if;
  return old;
end;
$$;
revoke all on function private.refuse_deleting_a_chapter_in_production() from public, anon, authenticated;
create trigger chapters_refuse_delete_in_production before delete on public.chapters
  for each row execute function private.refuse_deleting_a_chapter_in_production();

-- The scenes of a script a video is being made from are what its units read: a client cannot add,
-- change or remove them until the video finishes or is canceled (the ceilings were checked on them).
create or replace function private.refuse_editing_a_script_in_production()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  running uuid;
begin
  if (select auth.uid()) is null then
    return coalesce(new, old); -- the backend (the script stage writes the scenes)
  end if;
  select g.id into running from public.video_generations g
  where g.script_id = coalesce(new.script_id, old.script_id) and private.generation_is_running(g.status) limit 1;
  if running is not null then
    raise exception 'this script has a video being made (generation %): its scenes cannot change until it finishes or is canceled',
      running using errcode = 'LT009';
  end if;
  return coalesce(new, old);
end;
$$;
revoke all on function private.refuse_editing_a_script_in_production() from public, anon, authenticated;
create trigger scene_descriptions_refuse_edit_in_production before insert or update or delete on public.scene_descriptions
  for each row execute function private.refuse_editing_a_script_in_production();

-- Worker steps ------------------------------------------------------------------------------------
-- Each is called by a stage's worker with the message it read; complete and fail delete, archive
-- or delay that message in the same transaction as the rows they write.

-- What a worker needs to do one unit, or null when the message is stale (canceled, already done,
-- or from a stage the generation has left). Units of a generation begin in parallel: the generation
-- row is written (and so locked) only by the first unit of a stage, or a new attempt.
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
  own_context jsonb;
  model text;
  quantity jsonb;
  reservation_key text;
  refusal text;
  ceilings private.tier_ceilings;
begin
  -- (The hot path: private.generation_is_running is written out here; a call to a function with its
  -- own search_path costs more than what it computes.)
  select * into generation from public.video_generations g where g.id = p_generation_id;
  if not found or generation.status in ('completed', 'failed', 'canceled') or generation.current_step is distinct from p_step then
    return null;
  end if;
  update private.pipeline_units u
  set status = 'processing', attempts = u.attempts + 1, started_at = coalesce(u.started_at, pg_catalog.clock_timestamp())
  where u.generation_id = p_generation_id and u.step = p_step and u.unit_key = p_unit and u.status <> 'completed'
  returning * into unit;
  if not found then
    return null;
  end if;
  -- A pending generation (just started, or retried) takes its stage's status when a worker starts
  -- it; otherwise the row is not written here (when and how often a stage ran is taken from its
  -- units when it closes), so units of a stage begin without waiting on each other.
  if generation.status::text <> p_step::text then
    update public.video_generations g
    set status = p_step::text::public.generation_status, started_at = coalesce(g.started_at, pg_catalog.clock_timestamp())
    where g.id = p_generation_id and g.status not in ('completed', 'failed', 'canceled') and g.current_step = p_step
    returning * into generation;
    if not found then
      return null; -- canceled or moved on meanwhile
    end if;
  end if;

  execute pg_catalog.format('select private.%I($1, $2, $3)', 'stage_' || p_step || '_begin')
    into own_context using generation, unit, p_attempt;

  -- The unit's paid call, reserved at its quality's model for the most it may use. Past the video's
  -- ceiling or the period's budget, or for an account being deleted, the call is not made: the unit and
  -- its generation fail, saying why.
  model := private.ladder_model(generation.quality_tier, private.capability_of_step(p_step));
  quantity := private.unit_quantity(p_step, own_context);
  reservation_key := pg_catalog.format('%s:%s:%s:%s', generation.id, p_step, p_unit, unit.attempts);
  begin
    perform private.reserve_cost(reservation_key, generation.user_id, model, quantity, generation.id, p_step, p_unit);
  exception when sqlstate 'LT010' or sqlstate 'LT011' or sqlstate 'LT012' then
    get stacked diagnostics refusal = message_text;
    perform private.stop_generation(generation, unit, refusal);
    return null;
  end;
  select * into ceilings from private.tier_ceilings c where c.quality_tier = generation.quality_tier;
  return pg_catalog.jsonb_build_object(
    'generation_id', generation.id, 'user_id', generation.user_id, 'step', p_step, 'unit', p_unit,
    'attempt', p_attempt, 'unit_attempt', unit.attempts, 'script_style', generation.script_style,
    'quality_tier', generation.quality_tier,
    'subscription_tier', (select s.tier from public.user_subscriptions s where s.user_id = generation.user_id),
    -- What stages hold the files they read back to: no scene lasts longer than the whole video may.
    'max_video_seconds', ceilings.max_video_seconds,
    'script_id', generation.script_id, 'model', model, 'frame_width', ceilings.frame_width,
    'frame_height', ceilings.frame_height, 'limits', pg_catalog.jsonb_build_object('scenes', ceilings.max_scenes,
      'speech_characters', ceilings.max_speech_characters, 'video_seconds', ceilings.max_video_seconds))
    || coalesce(own_context, '{}');
end;
$$;

-- A unit's quantity for its reservation, as its stage says (private.stage_<step>_quantity).
create or replace function private.unit_quantity(p_step public.pipeline_step, p_context jsonb)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  quantity jsonb;
begin
  execute pg_catalog.format('select private.%I($1)', 'stage_' || p_step || '_quantity') into quantity using p_context;
  return quantity;
end;
$$;

-- Fails a unit, its job rows and its generation with a message, as a final failed attempt does,
-- when its work may not go on (a refused reservation).
create or replace function private.stop_generation(
  generation public.video_generations, unit private.pipeline_units, message text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update private.pipeline_units u set status = 'failed', last_error = message
  where u.generation_id = unit.generation_id and u.step = unit.step and u.unit_key = unit.unit_key;
  execute pg_catalog.format('select private.%I($1, $2, $3, $4, $5)', 'stage_' || unit.step || '_fail')
    using generation, unit, message, false, true;
  perform private.fail_generation(generation.id, unit.step, message);
end;
$$;

-- A generation failed in a stage, for good: the stage's other messages dropped (a retry queues its
-- unfinished units afresh), the message and the stage's timing recorded.
create or replace function private.fail_generation(p_generation_id uuid, p_step public.pipeline_step, p_message text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.drop_stage_messages(p_generation_id, p_step);
  update public.video_generations g
  set status = 'failed', completed_at = pg_catalog.clock_timestamp(), error_message = p_message,
      pipeline_metadata = pg_catalog.jsonb_set(g.pipeline_metadata, array['stages', p_step::text],
        coalesce(g.pipeline_metadata -> 'stages' -> p_step::text, '{}') || private.stage_timing(p_generation_id, p_step))
  where g.id = p_generation_id;
end;
$$;

-- Reads up to p_quantity messages of a stage and begins each in the same transaction: one round trip
-- and one commit where a read and a begin_step per message took two. A stale message is deleted here
-- (begun, no context). Not begun: read too often (the worker fails it), or begin_step raised (the
-- worker begins it again on its own, so the error is classified as any other).
create or replace function private.claim_steps(
  p_step public.pipeline_step,
  p_lease_seconds integer,
  p_quantity integer,
  p_max_attempts integer,
  p_wait_seconds integer default 0,
  p_poll_ms integer default 25
)
returns table (msg_id bigint, read_ct integer, message jsonb, context jsonb, begun boolean)
language plpgsql
security definer
set search_path = ''
as $$
declare
  msg record;
begin
  for msg in
    select r.msg_id, r.read_ct, r.message from pgmq.read_with_poll(p_step::text, p_lease_seconds, p_quantity,
      greatest(p_wait_seconds, 0), p_poll_ms) r
    where p_wait_seconds > 0
    union all
    select r.msg_id, r.read_ct, r.message from pgmq.read(p_step::text, p_lease_seconds, p_quantity) r
    where p_wait_seconds <= 0
  loop
    msg_id := msg.msg_id; read_ct := msg.read_ct; message := msg.message; context := null; begun := false;
    if msg.read_ct <= p_max_attempts then
      begin
        context := private.begin_step((msg.message ->> 'generation_id')::uuid, p_step, msg.message ->> 'unit', msg.read_ct);
        begun := true;
        if context is null then
          perform pgmq.delete(p_step::text, msg.msg_id);
        end if;
      exception when others then
        context := null; begun := false;
      end;
    end if;
    return next;
  end loop;
end;
$$;

-- Completes one unit: its outputs (the stage writes them and names the job row they belong to),
-- its usage, keyed to that job row, and the job row's cost; the message deleted; the next stage
-- started when this was the stage's last unit. Units of a stage complete in parallel: only the
-- closing part (progress, and the hand-off to the next stage) holds the generation row's lock. A
-- replay (unit already complete, generation moved on) only deletes the message.
-- Returns 'completed', 'stage_completed', 'generation_completed' or 'stale'.
create or replace function private.complete_step(
  p_msg_id bigint,
  p_generation_id uuid,
  p_step public.pipeline_step,
  p_unit text,
  p_outputs jsonb,
  p_usage jsonb default '[]',
  -- The generation's owner as the unit began: its calls are logged to them even if the generation
  -- was deleted meanwhile.
  p_user_id uuid default null,
  -- The unit's attempt (begin_step's unit_attempt): its reservation is settled by the calls logged.
  p_unit_attempt integer default null
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations;
  unit private.pipeline_units;
  stage private.pipeline_stages;
  job_id uuid;
  call jsonb;
  call_index integer := 0;
  next public.pipeline_step;
  queued jsonb;
  closed jsonb;
  stale boolean;
begin
  if p_unit_attempt is null then
    raise exception 'complete_step needs the unit''s attempt (begin_step''s unit_attempt): its calls are logged and settled under it'
      using errcode = '22004';
  end if;
  -- (The hot path: the registry's helpers are written out as plain queries here.)
  perform pgmq.delete(p_step::text, p_msg_id);
  select * into stage from private.pipeline_stages s where s.step = p_step;
  select * into generation from public.video_generations g where g.id = p_generation_id;
  select * into unit from private.pipeline_units u
  where u.generation_id = p_generation_id and u.step = p_step and u.unit_key = p_unit for update;
  if generation.id is null and p_user_id is null then
    return 'stale';
  end if;
  -- A generation deleted while the unit worked is stale too; its calls are logged to its owner.
  stale := generation.id is null or generation.status::text <> p_step::text
    or generation.current_step is distinct from p_step or unit.status is null or unit.status = 'completed';
  if not stale then
    execute pg_catalog.format('select private.%I($1, $2, $3)', 'stage_' || p_step || '_record')
      into job_id using generation, unit, coalesce(p_outputs, '{}');
  end if;
  -- The calls were made (and paid for) even when the unit is stale: logged once, by their keys.
  -- (Each attempt's calls have their own keys: two attempts that both ran were both paid for.)
  for call in select * from pg_catalog.jsonb_array_elements(coalesce(p_usage, '[]')) loop
    perform private.record_usage(coalesce(generation.user_id, p_user_id), generation.id, call ->> 'model',
      coalesce(call ->> 'operation', p_step::text),
      pg_catalog.format('%s:%s:%s:%s:%s', p_generation_id, p_step, p_unit, p_unit_attempt, call_index),
      coalesce((call ->> 'input_tokens')::integer, 0), coalesce((call ->> 'output_tokens')::integer, 0),
      coalesce((call ->> 'units')::numeric, 0), coalesce((call ->> 'duration_ms')::integer, 0), true, null, job_id);
    call_index := call_index + 1;
  end loop;
  perform private.settle_cost(pg_catalog.format('%s:%s:%s:%s', p_generation_id, p_step, p_unit, p_unit_attempt));
  if stale then
    -- Deleted with its account meanwhile: a file the unit stored anyway goes with the deletion's
    -- next sweep, queued now (its calls were kept anonymised, see the account deletion migration).
    if generation.id is null then
      perform private.sweep_account_files_now(p_user_id);
    end if;
    -- Work that began as the generation was canceled or failed: its job rows are closed too (the
    -- cancel skipped them while this unit's worker held them).
    if generation.status in ('completed', 'failed', 'canceled') and unit.unit_key is not null then
      execute pg_catalog.format('select private.%I($1, $2, $3, $4, $5)', 'stage_' || p_step || '_fail')
        using generation, unit, 'the generation was ' || generation.status, false, true;
    end if;
    return 'stale';
  end if;
  if stage.job_table is not null and job_id is not null and call_index > 0 then -- nothing logged, nothing to add
    execute pg_catalog.format(
      'update public.%I j set cost_usd = (select coalesce(pg_catalog.sum(l.cost_usd), 0) from public.usage_logs l
        where l.job_id = j.id) where j.id = $1', stage.job_table) using job_id;
  end if;
  update private.pipeline_units u
  set status = 'completed', completed_at = pg_catalog.clock_timestamp(), last_error = null,
      result = coalesce(p_outputs, '{}') - 'lines' - 'scenes' - 'script'
  where u.generation_id = p_generation_id and u.step = p_step and u.unit_key = p_unit;

  -- The closing part, one unit at a time: is this the stage's last unit? (No key update: the rows
  -- written above hold key-share locks on the generation through their foreign keys, which a
  -- for-update lock would wait on, and two units upgrading at once would deadlock.)
  select * into generation from public.video_generations g where g.id = p_generation_id for no key update;
  if generation.status in ('completed', 'failed', 'canceled') or generation.current_step is distinct from p_step then
    return 'stale'; -- canceled or failed meanwhile: the work is recorded (and paid), nothing moves on
  end if;
  if exists (select 1 from private.pipeline_units u
             where u.generation_id = p_generation_id and u.step = p_step and u.status <> 'completed') then
    perform private.refresh_progress(p_generation_id);
    return 'completed';
  end if;

  -- The stage's last unit: the next stage queued, and the generation written once with all of it.
  select s.step into next from private.pipeline_stages s where s.position > stage.position order by s.position limit 1;
  if next is not null then
    queued := private.queue_stage_units(generation, next);
  end if;
  closed := coalesce(generation.pipeline_metadata -> 'stages' -> p_step::text, '{}')
    || (select pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('started_at', pg_catalog.min(u.started_at),
          'attempts', pg_catalog.max(u.attempts)))
        from private.pipeline_units u where u.generation_id = p_generation_id and u.step = p_step) -- stage_timing
    || pg_catalog.jsonb_build_object('completed_at', pg_catalog.clock_timestamp(),
         'provider', coalesce(p_outputs ->> 'provider', generation.pipeline_metadata -> 'stages' -> p_step::text ->> 'provider'),
         'model', coalesce(p_outputs ->> 'model', generation.pipeline_metadata -> 'stages' -> p_step::text ->> 'model'));
  update public.video_generations g
  set last_completed_step = p_step,
      current_step = next,
      status = coalesce(next::text, 'completed')::public.generation_status,
      completed_at = case when next is null then pg_catalog.clock_timestamp() end,
      progress_percentage = case when next is null then 100 else least(pg_catalog.round(
        (select pg_catalog.sum(s.weight) from private.pipeline_stages s where s.position <= stage.position))::integer, 100) end,
      pipeline_metadata = case when next is null
        then pg_catalog.jsonb_set(g.pipeline_metadata, array['stages', p_step::text], closed)
        else pg_catalog.jsonb_set(pg_catalog.jsonb_set(g.pipeline_metadata, array['stages', p_step::text], closed),
               array['stages', next::text], queued) end - 'reaped',
      completed_scenes = (select pg_catalog.count(*) from public.scene_videos v
                          where v.video_generation_id = p_generation_id and v.status = 'completed'),
      total_cost_usd = (select coalesce(pg_catalog.sum(l.cost_usd), 0) from public.usage_logs l
                        where l.video_generation_id = p_generation_id)
  where g.id = p_generation_id;
  return case when next is null then 'generation_completed' else 'stage_completed' end;
end;
$$;

-- Records a failed attempt on the unit and its job row. A retryable error within the stage's attempt
-- limit comes back after the stage's backoff; anything else archives the message, marks the job row
-- failed and fails the generation with a readable message. Returns 'retry', 'failed' or 'stale'.
-- p_max_attempts and p_base_backoff_seconds override the stage's policy (tests use shorter delays).
create or replace function private.fail_step(
  p_msg_id bigint,
  p_generation_id uuid,
  p_step public.pipeline_step,
  p_unit text,
  p_error text,
  p_retryable boolean,
  p_attempt integer,
  p_max_attempts integer default null,
  p_base_backoff_seconds integer default null,
  -- The failing worker's unit attempt (its reservation) and whether the provider refused the call
  -- (nothing billed: released) or not (abandoned, still counted). Without an attempt no reservation
  -- is touched (the unit never began).
  p_unit_attempt integer default null,
  p_unbilled boolean default false
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  generation public.video_generations;
  unit private.pipeline_units;
  stage private.pipeline_stages := private.pipeline_stage(p_step);
  final boolean := not p_retryable or p_attempt >= coalesce(p_max_attempts, stage.max_attempts);
begin
  -- The unit first, then the generation: the order complete_step takes them in.
  select * into unit from private.pipeline_units u
  where u.generation_id = p_generation_id and u.step = p_step and u.unit_key = p_unit for update;
  select * into generation from public.video_generations g where g.id = p_generation_id for no key update;
  if p_unit_attempt is not null then
    perform private.fail_cost(pg_catalog.format('%s:%s:%s:%s', p_generation_id, p_step, p_unit, p_unit_attempt),
      p_unbilled);
  end if;
  if generation.id is null or not private.generation_is_running(generation.status)
     or generation.current_step is distinct from p_step or unit.status is null or unit.status = 'completed' then
    perform pgmq.delete(p_step::text, p_msg_id);
    return 'stale';
  end if;
  update private.pipeline_units u
  set last_error = p_error,
      status = case when final then 'failed'::public.processing_status else u.status end
  where u.generation_id = p_generation_id and u.step = p_step and u.unit_key = p_unit
  returning * into unit;
  update public.video_generations g
  set pipeline_metadata = pg_catalog.jsonb_set(g.pipeline_metadata, array['stages', p_step::text, 'errors'],
    coalesce(g.pipeline_metadata -> 'stages' -> p_step::text -> 'errors', '[]')
      || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('unit', p_unit, 'attempt', p_attempt,
           'error', p_error, 'retryable', p_retryable, 'at', pg_catalog.clock_timestamp())))
  where g.id = p_generation_id;
  if unit.unit_key is not null then
    execute pg_catalog.format('select private.%I($1, $2, $3, $4, $5)', 'stage_' || p_step || '_fail')
      using generation, unit, p_error, p_retryable, final;
  end if;

  if not final then
    perform pgmq.set_vt(p_step::text, p_msg_id, private.backoff_seconds(p_attempt,
      coalesce(p_base_backoff_seconds, stage.backoff_base_seconds), stage.backoff_max_seconds));
    return 'retry';
  end if;
  perform pgmq.archive(p_step::text, p_msg_id);
  perform private.fail_generation(p_generation_id, p_step,
    pg_catalog.format('%s stage failed for %s after %s attempt(s): %s', p_step, p_unit, p_attempt, p_error));
  return 'failed';
end;
$$;

-- Generations without progress for longer than their stage's time limit (plus a lease) while their
-- stage's queue holds no message for them: the message was lost (a worker does not hold one longer
-- than that: its lease runs out when it dies, and it gives up at the time limit). The unfinished units
-- are queued again; after the stage's attempt limit of such requeues without progress in between, the
-- generation fails with a message saying where it was stuck, and retry_video_generation can resume
-- it. A generation whose messages are waiting (a backlog, a retry's backoff) is left alone.
create or replace function private.reap_stuck_generations()
returns table (generation_id uuid, action text)
language plpgsql
security definer
set search_path = ''
as $$
declare
  stuck record;
  waiting boolean;
begin
  for stuck in
    select g.id, g.current_step, g.updated_at, coalesce((g.pipeline_metadata ->> 'reaped')::integer, 0) as reaped,
      s.max_attempts
    from public.video_generations g join private.pipeline_stages s on s.step = g.current_step
    where private.generation_is_running(g.status)
      and g.updated_at < pg_catalog.now() - pg_catalog.make_interval(secs => s.timeout_seconds + s.lease_seconds)
    for no key update of g skip locked
  loop
    execute pg_catalog.format('select exists (select 1 from pgmq.%I where message ->> ''generation_id'' = $1)',
      'q_' || stuck.current_step) into waiting using stuck.id::text;
    continue when waiting;
    if stuck.reaped >= stuck.max_attempts then
      update public.video_generations g
      set status = 'failed', completed_at = pg_catalog.now(),
          error_message = pg_catalog.format(
            'stuck in the %s step: no progress since %s although its work was queued again %s times; retry to resume',
            stuck.current_step, pg_catalog.to_char(stuck.updated_at, 'YYYY-MM-DD HH24:MI:SS'), stuck.reaped)
      where g.id = stuck.id;
      generation_id := stuck.id; action := 'failed';
      return next;
      continue;
    end if;
    action := 'requeued ' || private.enqueue_stage(stuck.id, stuck.current_step) || ' units';
    update public.video_generations g
    set pipeline_metadata = g.pipeline_metadata || pg_catalog.jsonb_build_object('reaped', stuck.reaped + 1)
    where g.id = stuck.id;
    generation_id := stuck.id;
    return next;
  end loop;
end;
$$;

revoke all on function private.begin_step(uuid, public.pipeline_step, text, integer),
  private.unit_quantity(public.pipeline_step, jsonb),
  private.stop_generation(public.video_generations, private.pipeline_units, text),
  private.fail_generation(uuid, public.pipeline_step, text),
  private.claim_steps(public.pipeline_step, integer, integer, integer, integer, integer),
  private.complete_step(bigint, uuid, public.pipeline_step, text, jsonb, jsonb, uuid, integer),
  private.fail_step(bigint, uuid, public.pipeline_step, text, text, boolean, integer, integer, integer, integer, boolean),
  private.enqueue_stage(uuid, public.pipeline_step), private.refresh_progress(uuid),
  private.queue_stage_units(public.video_generations, public.pipeline_step),
  private.stage_timing(uuid, public.pipeline_step),
  private.main_characters(uuid), private.scene_units(public.video_generations), private.owned_generation_for_update(uuid),
  private.drop_stage_messages(uuid, public.pipeline_step),
  private.pipeline_stage(public.pipeline_step), private.first_step(), private.next_step(public.pipeline_step),
  private.generation_is_running(public.generation_status),
  private.reap_stuck_generations()
  from public, anon, authenticated;
grant execute on function private.begin_step(uuid, public.pipeline_step, text, integer),
  private.claim_steps(public.pipeline_step, integer, integer, integer, integer, integer),
  private.complete_step(bigint, uuid, public.pipeline_step, text, jsonb, jsonb, uuid, integer),
  private.fail_step(bigint, uuid, public.pipeline_step, text, text, boolean, integer, integer, integer, integer, boolean),
  private.reap_stuck_generations()
  to service_role;
grant select on private.pipeline_stages to service_role;
