-- Stage 4, video: a clip per scene from its image and its audio track.
insert into private.pipeline_stages (step, position, weight, job_table, timeout_seconds, lease_seconds, concurrency)
values ('video', 4, 25, 'scene_videos', 300, 10, 2);
select pgmq.create('video') where not exists (select 1 from pgmq.list_queues() l where l.queue_name = 'video');

create type private.video_output as (storage_path text, url text, duration_seconds numeric, provider text, model text,
  generation_time_ms integer);

create or replace function private.stage_video_units(generation public.video_generations)
returns setof text
language sql
stable
security definer
set search_path = ''
as $$ select private.scene_units(generation) $$;

-- The earlier stages' results for one unit: {'image': ..., 'audio': ..., 'clip': ...}.
create or replace function private.unit_results(p_generation_id uuid, p_unit_key text)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_object_agg(case u.step when 'images' then 'image' when 'video' then 'clip'
      else u.step::text end, u.result), '{}')
  from private.pipeline_units u
  where u.generation_id = p_generation_id and u.unit_key = p_unit_key and u.status = 'completed'
$$;

create or replace function private.stage_video_begin(
  generation public.video_generations, unit private.pipeline_units, attempt integer)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  scene public.scene_descriptions;
begin
  select * into scene from public.scene_descriptions s
  where s.script_id = generation.script_id and s.scene_number = unit.scene_number;
  if not found then
    raise exception 'scene % is not in the script any more', unit.scene_number using errcode = 'P0002';
  end if;
  insert into public.scene_videos (video_generation_id, scene_description_id, user_id, scene_number, image_generation_id,
    status, attempts)
  values (generation.id, scene.id, generation.user_id, scene.scene_number,
    (select i.id from public.image_generations i where i.video_generation_id = generation.id and i.subject_key = unit.unit_key),
    'generating', unit.attempts)
  on conflict (video_generation_id, scene_number) do update
    set status = 'generating', attempts = excluded.attempts, error_message = null;
  return pg_catalog.jsonb_build_object('scene', pg_catalog.to_jsonb(scene)) || private.unit_results(generation.id, unit.unit_key);
end;
$$;

-- One clip as long as the scene's audio track (one call, for a model priced per clip).
create or replace function private.stage_video_quantity(context jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('calls', 1, 'seconds',
    pg_catalog.round(coalesce((context -> 'audio' ->> 'duration_ms')::numeric, 0) / 1000, 1))
$$;

create or replace function private.stage_video_record(
  generation public.video_generations, unit private.pipeline_units, outputs jsonb)
returns uuid
language sql
security definer
set search_path = ''
as $$
  update public.scene_videos v
  set status = 'completed', scene_video_url = o.url, storage_path = o.storage_path,
      duration_ms = pg_catalog.round(o.duration_seconds * 1000)::integer, provider = o.provider, model_used = o.model,
      generation_time_ms = o.generation_time_ms, error_message = null
  from pg_catalog.jsonb_populate_record(null::private.video_output, outputs) o
  where v.video_generation_id = generation.id and v.scene_number = unit.scene_number
  returning v.id
$$;

create or replace function private.stage_video_fail(
  generation public.video_generations, unit private.pipeline_units, error text, retryable boolean, final boolean)
returns void
language sql
security definer
set search_path = ''
as $$
  update public.scene_videos v
  set status = case when final then 'failed'::public.scene_video_status else v.status end, error_message = error
  where v.video_generation_id = generation.id and v.scene_number = unit.scene_number
$$;

revoke all on function private.stage_video_units(public.video_generations), private.unit_results(uuid, text),
  private.stage_video_begin(public.video_generations, private.pipeline_units, integer),
  private.stage_video_record(public.video_generations, private.pipeline_units, jsonb),
  private.stage_video_fail(public.video_generations, private.pipeline_units, text, boolean, boolean),
  private.stage_video_quantity(jsonb)
  from public, anon, authenticated;
