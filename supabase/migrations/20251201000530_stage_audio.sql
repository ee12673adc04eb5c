-- Stage 3, audio: a scene's lines spoken (narration, then dialogue) and joined into the scene track.
insert into private.pipeline_stages (step, position, weight, job_table, timeout_seconds, lease_seconds, concurrency)
values ('audio', 3, 20, 'audio_generations', 180, 10, 2);
select pgmq.create('audio') where not exists (select 1 from pgmq.list_queues() l where l.queue_name = 'audio');

create type private.audio_line_output as (sequence_order integer, voice_id text, storage_path text, url text,
  duration_ms integer);
create type private.audio_output as (storage_path text, url text, duration_ms integer, provider text, model text);

create or replace function private.stage_audio_units(generation public.video_generations)
returns setof text
language sql
stable
security definer
set search_path = ''
as $$ select private.scene_units(generation) $$;

-- The scene's lines become audio rows (in progress): its narration, then each dialogue line, or the
-- visual description read by the narrator when the scene has neither. The worker speaks them in order.
create or replace function private.stage_audio_begin(
  generation public.video_generations, unit private.pipeline_units, attempt integer)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  scene public.scene_descriptions;
  lines jsonb;
begin
  select * into scene from public.scene_descriptions s
  where s.script_id = generation.script_id and s.scene_number = unit.scene_number;
  if not found then
    raise exception 'scene % is not in the script any more', unit.scene_number using errcode = 'P0002';
  end if;
  with spoken as (
    select 'narration' as kind, 'Narrator' as speaker, scene.narration as line, 0 as ord
    where nullif(pg_catalog.btrim(scene.narration), '') is not null
    union all
    select 'dialogue', d ->> 'speaker', d ->> 'line', n::integer
    from pg_catalog.jsonb_array_elements(scene.dialogue) with ordinality e (d, n)
  ), numbered as (
    select s.kind, s.speaker, s.line, (pg_catalog.row_number() over (order by s.ord) - 1)::integer as sequence_order
    from spoken s
  ), chosen as (
    select * from numbered
    union all
    -- (its first 300 characters, as private.script_ceiling_breach counts it)
    select 'narration', 'Narrator', pg_catalog.left(scene.visual_description, 300), 0
    where not exists (select 1 from numbered)
  ), inserted as (
    insert into public.audio_generations (chapter_id, script_id, scene_description_id, user_id, video_generation_id,
      character_id, audio_type, scene_number, sequence_order, speaker, text_content, voice_id, status, attempts, started_at)
    select generation.chapter_id, generation.script_id, scene.id, generation.user_id, generation.id, ch.id,
      c.kind::public.audio_type, scene.scene_number, c.sequence_order, c.speaker, c.line, ch.voice_id, 'in_progress',
      unit.attempts, pg_catalog.clock_timestamp()
    from chosen c
    left join lateral (
      select x.id, x.voice_id from public.characters x join public.chapters cc on cc.id = generation.chapter_id
        join public.plot_overviews p on p.id = x.plot_overview_id and p.book_id = cc.book_id and p.status = 'active'
      where x.name = c.speaker limit 1
    ) ch on true
    on conflict (video_generation_id, scene_description_id, sequence_order) do update
      set status = 'in_progress', attempts = excluded.attempts, text_content = excluded.text_content,
          speaker = excluded.speaker, error_message = null, completed_at = null
    returning sequence_order, audio_type, speaker, text_content, voice_id
  )
  select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('sequence_order', i.sequence_order, 'audio_type', i.audio_type,
           'speaker', i.speaker, 'text', i.text_content, 'voice_id', i.voice_id) order by i.sequence_order)
  into lines from inserted i;
  -- Lines left from an earlier version of the scene are not part of it now.
  delete from public.audio_generations a
  where a.video_generation_id = generation.id and a.scene_description_id = scene.id
    and a.sequence_order >= pg_catalog.jsonb_array_length(lines);
  return pg_catalog.jsonb_build_object('scene', pg_catalog.to_jsonb(scene), 'lines', lines);
end;
$$;

-- The scene's lines, in characters (and in seconds at 15 characters a second, for per-second voices).
create or replace function private.stage_audio_quantity(context jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('characters', c.characters, 'seconds', pg_catalog.round(c.characters / 15.0, 1))
  from (select coalesce(pg_catalog.sum(pg_catalog.length(l ->> 'text')), 0) as characters
        from pg_catalog.jsonb_array_elements(coalesce(context -> 'lines', '[]')) l) c
$$;

-- Each line's file and length; the scene track is the unit's result (the video stage uses it). The
-- scene's cost is written to its first line.
create or replace function private.stage_audio_record(
  generation public.video_generations, unit private.pipeline_units, outputs jsonb)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  o private.audio_output := pg_catalog.jsonb_populate_record(null::private.audio_output, outputs);
  first_line uuid;
begin
  update public.audio_generations a
  set status = 'completed', audio_url = l.url, storage_path = l.storage_path, duration_ms = l.duration_ms,
      voice_id = coalesce(l.voice_id, a.voice_id), provider = o.provider, model_used = o.model,
      completed_at = pg_catalog.clock_timestamp(), error_message = null
  from pg_catalog.jsonb_populate_recordset(null::private.audio_line_output, outputs -> 'lines') l
  where a.video_generation_id = generation.id and a.scene_number = unit.scene_number
    and a.sequence_order = l.sequence_order;
  select a.id into first_line from public.audio_generations a
  where a.video_generation_id = generation.id and a.scene_number = unit.scene_number
  order by a.sequence_order limit 1;
  return first_line;
end;
$$;

create or replace function private.stage_audio_fail(
  generation public.video_generations, unit private.pipeline_units, error text, retryable boolean, final boolean)
returns void
language sql
security definer
set search_path = ''
as $$
  update public.audio_generations a
  set status = case when final then 'failed'::public.media_job_status else a.status end, error_message = error,
      completed_at = case when final then pg_catalog.clock_timestamp() end
  where a.video_generation_id = generation.id and a.scene_number = unit.scene_number and a.status <> 'completed'
$$;

revoke all on function private.stage_audio_units(public.video_generations),
  private.stage_audio_begin(public.video_generations, private.pipeline_units, integer),
  private.stage_audio_record(public.video_generations, private.pipeline_units, jsonb),
  private.stage_audio_fail(public.video_generations, private.pipeline_units, text, boolean, boolean),
  private.stage_audio_quantity(jsonb)
  from public, anon, authenticated;
