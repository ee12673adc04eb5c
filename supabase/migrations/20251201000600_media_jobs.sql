-- Media pipeline jobs: a video generation and the per-scene work of each stage.
create type public.quality_tier as enum ('basic', 'standard', 'premium', 'professional');
create type public.pipeline_step as enum ('script', 'images', 'audio', 'video', 'lipsync', 'merge');
create type public.generation_status as enum ('queued', 'processing', 'completed', 'failed', 'cancelled');
create type public.job_status as enum ('pending', 'processing', 'completed', 'failed', 'cancelled');
create type public.image_type as enum ('scene', 'character', 'cover');
create type public.audio_type as enum ('narration', 'dialogue', 'music', 'sound_effect');

create table public.video_generations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  -- Set by the script stage. A script a video uses cannot be deleted on its own; deleting the
  -- chapter or account still removes both in one statement.
  script_id uuid references public.scripts (id) on delete restrict,
  script_style public.script_style not null,
  quality_tier public.quality_tier not null default 'basic',
  status public.generation_status not null default 'queued',
  current_step public.pipeline_step,
  last_completed_step public.pipeline_step,
  progress_percentage numeric(5, 2) not null default 0,
  total_scenes integer not null default 0,
  completed_scenes integer not null default 0,
  video_url text,
  storage_path text,
  duration_seconds numeric(10, 2),
  total_cost_usd numeric(12, 6) not null default 0,
  pipeline_metadata jsonb not null default '{}',
  error_message text,
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint video_generations_progress_range check (progress_percentage between 0 and 100),
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
create index video_generations_active_idx on public.video_generations (status, updated_at)
  where status in ('queued', 'processing');

create table public.image_generations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  video_generation_id uuid references public.video_generations (id) on delete cascade,
  scene_id uuid references public.scene_descriptions (id) on delete cascade,
  character_id uuid references public.characters (id) on delete set null,
  image_type public.image_type not null,
  subject_key text not null,
  prompt text not null,
  status public.job_status not null default 'pending',
  image_url text,
  storage_path text,
  width integer,
  height integer,
  provider text,
  model_used text,
  attempts integer not null default 0,
  generation_time_ms integer,
  cost_usd numeric(12, 6) not null default 0,
  error_message text,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint image_generations_size_positive check (width > 0 and height > 0),
  constraint image_generations_counts_non_negative check (attempts >= 0 and generation_time_ms >= 0),
  constraint image_generations_cost_non_negative check (cost_usd >= 0),
  constraint image_generations_scene_has_scene check (image_type <> 'scene' or scene_id is not null)
);
comment on table public.image_generations is 'Scene images and character portraits; subject_key names what the image shows.';
-- One image per subject per generation: a replayed stage upserts instead of duplicating.
create unique index image_generations_generation_subject_key on public.image_generations (video_generation_id, subject_key);
create index image_generations_user_id_idx on public.image_generations (user_id);
create index image_generations_scene_id_idx on public.image_generations (scene_id);
create index image_generations_character_id_idx on public.image_generations (character_id);

create table public.image_generation_retries (
  id uuid primary key default gen_random_uuid(),
  image_generation_id uuid not null references public.image_generations (id) on delete cascade,
  attempt_number integer not null,
  provider text,
  model_used text,
  error_message text not null,
  retryable boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint image_generation_retries_attempt_key unique (image_generation_id, attempt_number),
  constraint image_generation_retries_attempt_positive check (attempt_number > 0)
);
comment on table public.image_generation_retries is 'Each failed attempt at an image, with the provider''s error.';

create table public.audio_generations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  video_generation_id uuid references public.video_generations (id) on delete cascade,
  scene_id uuid references public.scene_descriptions (id) on delete cascade,
  character_id uuid references public.characters (id) on delete set null,
  audio_type public.audio_type not null,
  sequence_order integer not null default 0,
  speaker text,
  text_content text not null,
  voice_id text,
  status public.job_status not null default 'pending',
  audio_url text,
  storage_path text,
  duration_ms integer,
  provider text,
  model_used text,
  attempts integer not null default 0,
  cost_usd numeric(12, 6) not null default 0,
  error_message text,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint audio_generations_counts_non_negative check (sequence_order >= 0 and attempts >= 0 and duration_ms >= 0),
  constraint audio_generations_cost_non_negative check (cost_usd >= 0)
);
comment on table public.audio_generations is 'Narration and dialogue lines per scene, with the voice used and their length.';
create unique index audio_generations_scene_order_key on public.audio_generations
  (video_generation_id, scene_id, sequence_order);
create index audio_generations_user_id_idx on public.audio_generations (user_id);
create index audio_generations_scene_id_idx on public.audio_generations (scene_id);
create index audio_generations_character_id_idx on public.audio_generations (character_id);

create table public.scene_videos (
  id uuid primary key default gen_random_uuid(),
  video_generation_id uuid not null references public.video_generations (id) on delete cascade,
  scene_id uuid not null references public.scene_descriptions (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  scene_number integer not null,
  image_generation_id uuid references public.image_generations (id) on delete set null,
  status public.job_status not null default 'pending',
  video_url text,
  storage_path text,
  duration_seconds numeric(10, 2),
  provider text,
  model_used text,
  attempts integer not null default 0,
  generation_time_ms integer,
  cost_usd numeric(12, 6) not null default 0,
  error_message text,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint scene_videos_generation_scene_key unique (video_generation_id, scene_number),
  constraint scene_videos_scene_number_positive check (scene_number > 0),
  constraint scene_videos_counts_non_negative check (attempts >= 0 and generation_time_ms >= 0 and duration_seconds >= 0),
  constraint scene_videos_cost_non_negative check (cost_usd >= 0)
);
comment on table public.scene_videos is 'One clip per scene of a generation, made from its image and audio.';
create index scene_videos_scene_id_idx on public.scene_videos (scene_id);
create index scene_videos_user_id_idx on public.scene_videos (user_id);
create index scene_videos_image_generation_id_idx on public.scene_videos (image_generation_id);

create table public.lipsync_jobs (
  id uuid primary key default gen_random_uuid(),
  scene_video_id uuid not null references public.scene_videos (id) on delete cascade,
  video_generation_id uuid not null references public.video_generations (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  status public.job_status not null default 'pending',
  input_video_url text,
  input_audio_url text,
  output_video_url text,
  provider text,
  model_used text,
  attempts integer not null default 0,
  cost_usd numeric(12, 6) not null default 0,
  error_message text,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint lipsync_jobs_scene_video_id_key unique (scene_video_id),
  constraint lipsync_jobs_attempts_non_negative check (attempts >= 0),
  constraint lipsync_jobs_cost_non_negative check (cost_usd >= 0)
);
comment on table public.lipsync_jobs is 'Lip synchronisation of one scene video with its dialogue audio.';
create index lipsync_jobs_video_generation_id_idx on public.lipsync_jobs (video_generation_id);
create index lipsync_jobs_user_id_idx on public.lipsync_jobs (user_id);

create table public.merge_jobs (
  id uuid primary key default gen_random_uuid(),
  video_generation_id uuid not null references public.video_generations (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  status public.job_status not null default 'pending',
  output_url text,
  storage_path text,
  total_duration_seconds numeric(10, 2),
  file_size_bytes bigint,
  provider text,
  attempts integer not null default 0,
  cost_usd numeric(12, 6) not null default 0,
  error_message text,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint merge_jobs_video_generation_id_key unique (video_generation_id),
  constraint merge_jobs_counts_non_negative check (attempts >= 0 and total_duration_seconds >= 0 and file_size_bytes >= 0),
  constraint merge_jobs_cost_non_negative check (cost_usd >= 0)
);
comment on table public.merge_jobs is 'The final concatenation of a generation''s scene clips into one MP4.';
create index merge_jobs_user_id_idx on public.merge_jobs (user_id);

create table public.merge_assets (
  id uuid primary key default gen_random_uuid(),
  merge_job_id uuid not null references public.merge_jobs (id) on delete cascade,
  scene_video_id uuid references public.scene_videos (id) on delete set null,
  asset_type text not null,
  asset_url text not null,
  sequence_order integer not null,
  duration_seconds numeric(10, 2),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint merge_assets_asset_type_known check (asset_type in ('video', 'audio', 'subtitle')),
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

-- A generation's status moves only forward; progress never goes down.
create or replace function private.guard_generation_status()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status is distinct from old.status and not (
    (old.status = 'queued' and new.status in ('processing', 'failed', 'cancelled')) or
    (old.status = 'processing' and new.status in ('completed', 'failed', 'cancelled', 'queued')) or
    (old.status = 'failed' and new.status in ('queued', 'processing'))
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
