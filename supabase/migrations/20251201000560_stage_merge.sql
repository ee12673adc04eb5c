-- Stage 6, merge: the scene clips (lip-synced where synced) joined in order into the final MP4.
insert into private.pipeline_stages (step, position, weight, job_table, timeout_seconds, lease_seconds, concurrency)
values ('merge', 6, 10, 'merge_jobs', 300, 10, 2);
select pgmq.create('merge') where not exists (select 1 from pgmq.list_queues() l where l.queue_name = 'merge');

create type private.merge_output as (storage_path text, url text, duration_seconds numeric, file_size_bytes bigint,
  provider text, model text, ffmpeg_params jsonb);
create type private.merge_asset_output as (scene_video_id uuid, url text, sequence_order integer);

create or replace function private.stage_merge_units(generation public.video_generations)
returns setof text
language sql
immutable
set search_path = ''
as $$ select 'final'::text $$;

-- The clips in scene order, and the merge job (processing) listing them as its input.
create or replace function private.stage_merge_begin(
  generation public.video_generations, unit private.pipeline_units, attempt integer)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  clips jsonb;
begin
  select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('scene_number', v.scene_number, 'scene_video_id', v.id,
           'storage_path', coalesce(l.metadata ->> 'storage_path', v.storage_path),
           'url', coalesce(v.lipsynced_video_url, v.scene_video_url), 'duration_seconds', v.duration_ms / 1000.0)
         order by v.scene_number)
  into clips
  from public.scene_videos v left join public.lipsync_jobs l on l.scene_video_id = v.id and l.status = 'completed'
  where v.video_generation_id = generation.id and v.status = 'completed';
  insert into public.merge_jobs (video_generation_id, user_id, merge_type, status, input_videos, attempts, started_at)
  values (generation.id, generation.user_id, 'auto', 'processing',
    coalesce((select pg_catalog.jsonb_agg(c -> 'url') from pg_catalog.jsonb_array_elements(clips) c), '[]'),
    unit.attempts, pg_catalog.clock_timestamp())
  on conflict (video_generation_id) do update
    set status = 'processing', input_videos = excluded.input_videos, attempts = excluded.attempts,
        error_message = null, completed_at = null;
  return pg_catalog.jsonb_build_object('clips', coalesce(clips, '[]'));
end;
$$;

-- Every clip, joined.
create or replace function private.stage_merge_quantity(context jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('seconds', coalesce(pg_catalog.sum((c ->> 'duration_seconds')::numeric), 0))
  from pg_catalog.jsonb_array_elements(coalesce(context -> 'clips', '[]')) c
$$;

create or replace function private.stage_merge_record(
  generation public.video_generations, unit private.pipeline_units, outputs jsonb)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  o private.merge_output := pg_catalog.jsonb_populate_record(null::private.merge_output, outputs);
  job_id uuid;
begin
  update public.merge_jobs m
  set status = 'completed', output_video_url = o.url, storage_path = o.storage_path,
      output_duration_ms = pg_catalog.round(o.duration_seconds * 1000)::integer, output_size_bytes = o.file_size_bytes,
      provider = o.provider, ffmpeg_params = coalesce(o.ffmpeg_params, m.ffmpeg_params),
      completed_at = pg_catalog.clock_timestamp(), error_message = null
  where m.video_generation_id = generation.id
  returning m.id into job_id;
  insert into public.merge_assets (merge_job_id, scene_video_id, asset_type, asset_url, sequence_order)
  select job_id, a.scene_video_id, 'video', a.url, a.sequence_order
  from pg_catalog.jsonb_populate_recordset(null::private.merge_asset_output, outputs -> 'assets') a
  on conflict (merge_job_id, asset_type, sequence_order) do update
    set asset_url = excluded.asset_url, scene_video_id = excluded.scene_video_id;
  update public.video_generations g set video_url = o.url where g.id = generation.id;
  return job_id;
end;
$$;

create or replace function private.stage_merge_fail(
  generation public.video_generations, unit private.pipeline_units, error text, retryable boolean, final boolean)
returns void
language sql
security definer
set search_path = ''
as $$
  update public.merge_jobs m
  set status = case when final then 'failed'::public.processing_status else m.status end, error_message = error,
      completed_at = case when final then pg_catalog.clock_timestamp() end
  where m.video_generation_id = generation.id
$$;

revoke all on function private.stage_merge_units(public.video_generations),
  private.stage_merge_begin(public.video_generations, private.pipeline_units, integer),
  private.stage_merge_record(public.video_generations, private.pipeline_units, jsonb),
  private.stage_merge_fail(public.video_generations, private.pipeline_units, text, boolean, boolean),
  private.stage_merge_quantity(jsonb)
  from public, anon, authenticated;
