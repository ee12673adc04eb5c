-- Stage 5, lipsync: each scene clip synced with its dialogue (the offline provider passes it through).
insert into private.pipeline_stages (step, position, weight, job_table, timeout_seconds, lease_seconds, concurrency)
values ('lipsync', 5, 10, 'lipsync_jobs', 300, 10, 2);
select pgmq.create('lipsync') where not exists (select 1 from pgmq.list_queues() l where l.queue_name = 'lipsync');

create type private.lipsync_output as (storage_path text, url text, input_audio_url text, applied boolean,
  provider text, model text);

create or replace function private.stage_lipsync_units(generation public.video_generations)
returns setof text
language sql
stable
security definer
set search_path = ''
as $$ select private.scene_units(generation) $$;

create or replace function private.stage_lipsync_begin(
  generation public.video_generations, unit private.pipeline_units, attempt integer)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  clip public.scene_videos;
begin
  select * into clip from public.scene_videos v
  where v.video_generation_id = generation.id and v.scene_number = unit.scene_number;
  if not found then
    raise exception 'scene % has no clip to sync', unit.scene_number using errcode = 'P0002';
  end if;
  insert into public.lipsync_jobs (scene_video_id, video_generation_id, audio_generation_id, user_id, status,
    input_video_url, attempts, started_at)
  values (clip.id, generation.id,
    (select a.id from public.audio_generations a where a.video_generation_id = generation.id
       and a.scene_number = unit.scene_number order by (a.audio_type = 'dialogue') desc, a.sequence_order limit 1),
    generation.user_id, 'processing', clip.scene_video_url, unit.attempts, pg_catalog.clock_timestamp())
  on conflict (scene_video_id) do update
    set status = 'processing', attempts = excluded.attempts, error_message = null, completed_at = null;
  return pg_catalog.jsonb_build_object('scene', pg_catalog.jsonb_build_object('id', clip.scene_description_id,
    'scene_number', clip.scene_number)) || private.unit_results(generation.id, unit.unit_key);
end;
$$;

-- The scene's clip, synced.
create or replace function private.stage_lipsync_quantity(context jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('seconds', coalesce((context -> 'clip' ->> 'duration_seconds')::numeric, 0))
$$;

create or replace function private.stage_lipsync_record(
  generation public.video_generations, unit private.pipeline_units, outputs jsonb)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  o private.lipsync_output := pg_catalog.jsonb_populate_record(null::private.lipsync_output, outputs);
  job public.lipsync_jobs;
begin
  update public.lipsync_jobs j
  set status = 'completed', input_audio_url = o.input_audio_url, output_video_url = o.url, provider = o.provider,
      model_used = o.model, completed_at = pg_catalog.clock_timestamp(), error_message = null,
      metadata = pg_catalog.jsonb_build_object('storage_path', o.storage_path, 'applied', o.applied)
  where j.video_generation_id = generation.id
    and j.scene_video_id = (select v.id from public.scene_videos v
                            where v.video_generation_id = generation.id and v.scene_number = unit.scene_number)
  returning * into job;
  update public.scene_videos v set lipsynced_video_url = o.url where v.id = job.scene_video_id;
  return job.id;
end;
$$;

create or replace function private.stage_lipsync_fail(
  generation public.video_generations, unit private.pipeline_units, error text, retryable boolean, final boolean)
returns void
language sql
security definer
set search_path = ''
as $$
  update public.lipsync_jobs j
  set status = case when final then 'failed'::public.processing_status else j.status end, error_message = error,
      completed_at = case when final then pg_catalog.clock_timestamp() end
  where j.video_generation_id = generation.id
    and j.scene_video_id = (select v.id from public.scene_videos v
                            where v.video_generation_id = generation.id and v.scene_number = unit.scene_number)
$$;

revoke all on function private.stage_lipsync_units(public.video_generations),
  private.stage_lipsync_begin(public.video_generations, private.pipeline_units, integer),
  private.stage_lipsync_record(public.video_generations, private.pipeline_units, jsonb),
  private.stage_lipsync_fail(public.video_generations, private.pipeline_units, text, boolean, boolean),
  private.stage_lipsync_quantity(jsonb)
  from public, anon, authenticated;
