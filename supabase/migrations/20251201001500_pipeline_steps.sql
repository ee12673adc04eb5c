-- Worker side of the pipeline: begin, complete or fail one unit of a stage.
-- Each is called by a stage function with the message it read; complete and fail delete,
-- archive or delay that message in the same transaction as the rows they write.

-- What a worker needs to do one unit, or null when the message is stale (cancelled,
-- already done, or from a stage the generation has left).
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
  context jsonb;
begin
  select * into generation from public.video_generations g where g.id = p_generation_id for update;
  if not found or generation.status not in ('queued', 'processing') or generation.current_step is distinct from p_step then
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
  set status = 'processing',
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
      insert into public.image_generations (user_id, video_generation_id, scene_id, image_type, subject_key, prompt, status, attempts)
      values (generation.user_id, generation.id, scene.id, 'scene', p_unit, scene.visual_description, 'processing', p_attempt)
      on conflict (video_generation_id, subject_key) do update set status = 'processing', attempts = excluded.attempts;
    end if;
  elsif p_unit like 'character:%' then
    context := context || (
      select pg_catalog.jsonb_build_object('character', pg_catalog.jsonb_build_object('name', m.name, 'id', m.character_id,
        'physical_description', ch.physical_description, 'personality', ch.personality))
      from private.main_characters(generation.id) m left join public.characters ch on ch.id = m.character_id
      where m.name = pg_catalog.substr(p_unit, 11));
    insert into public.image_generations (user_id, video_generation_id, character_id, image_type, subject_key, prompt, status, attempts)
    values (generation.user_id, generation.id, (context -> 'character' ->> 'id')::uuid, 'character', p_unit,
            'Portrait of ' || pg_catalog.substr(p_unit, 11), 'processing', p_attempt)
    on conflict (video_generation_id, subject_key) do update set status = 'processing', attempts = excluded.attempts;
  elsif p_step = 'merge' then
    context := context || pg_catalog.jsonb_build_object('clips', (
      select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('scene_number', v.scene_number, 'scene_video_id', v.id,
               'storage_path', coalesce(l.metadata ->> 'storage_path', v.storage_path),
               'url', coalesce(l.output_video_url, v.video_url), 'duration_seconds', v.duration_seconds)
             order by v.scene_number)
      from public.scene_videos v left join public.lipsync_jobs l on l.scene_video_id = v.id and l.status = 'completed'
      where v.video_generation_id = generation.id));
  end if;
  return context;
end;
$$;

-- Writes a unit's outputs into the product tables (upserts on natural keys: replays change nothing).
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
  output_scene_id uuid := (outputs ->> 'scene_id')::uuid;
  clip public.scene_videos;
  new_merge_job_id uuid;
begin
  if p_step = 'script' then
    insert into public.scripts (chapter_id, user_id, script_style, title, script, characters, scene_count, model_used, version, metadata)
    values (generation.chapter_id, generation.user_id, generation.script_style, outputs ->> 'title', outputs ->> 'script',
      array(select pg_catalog.jsonb_array_elements_text(outputs -> 'characters')),
      pg_catalog.jsonb_array_length(outputs -> 'scenes'), outputs ->> 'model',
      coalesce((select pg_catalog.max(s.version) + 1 from public.scripts s
                where s.chapter_id = generation.chapter_id and s.script_style = generation.script_style), 1),
      pg_catalog.jsonb_build_object('video_generation_id', generation.id))
    returning id into new_script_id;
    insert into public.scene_descriptions (script_id, scene_number, location, time_of_day, characters, key_actions,
      visual_description, audio_requirements, dialogue, narration, estimated_duration_seconds)
    select new_script_id, (s ->> 'scene_number')::integer, coalesce(s ->> 'location', 'unspecified'),
      coalesce(s ->> 'time_of_day', 'unspecified')::public.time_of_day,
      array(select pg_catalog.jsonb_array_elements_text(coalesce(s -> 'characters', '[]'))),
      array(select pg_catalog.jsonb_array_elements_text(coalesce(s -> 'key_actions', '[]'))),
      s ->> 'visual_description', s ->> 'audio_requirements', coalesce(s -> 'dialogue', '[]'), s ->> 'narration',
      (s ->> 'estimated_duration_seconds')::numeric
    from pg_catalog.jsonb_array_elements(outputs -> 'scenes') s;
    if outputs -> 'plot_usage' is not null and outputs -> 'plot_usage' <> 'null'::jsonb then
      insert into public.chapter_scripts (chapter_id, script_id, plot_overview_id, user_id, plot_enhanced, character_enhanced,
        acts, beats, character_arcs)
      values (generation.chapter_id, new_script_id, (outputs -> 'plot_usage' ->> 'plot_overview_id')::uuid, generation.user_id,
        coalesce((outputs -> 'plot_usage' ->> 'plot_enhanced')::boolean, false),
        coalesce((outputs -> 'plot_usage' ->> 'character_enhanced')::boolean, false),
        coalesce(outputs -> 'plot_usage' -> 'acts', '[]'), coalesce(outputs -> 'plot_usage' -> 'beats', '[]'),
        coalesce(outputs -> 'plot_usage' -> 'character_arcs', '{}'));
    end if;
    update public.video_generations g
    set script_id = new_script_id, total_scenes = pg_catalog.jsonb_array_length(outputs -> 'scenes')
    where g.id = generation.id;

  elsif p_step = 'images' then
    update public.image_generations i
    set status = 'completed', prompt = coalesce(outputs ->> 'prompt', i.prompt), image_url = outputs ->> 'url',
        storage_path = outputs ->> 'storage_path', width = (outputs ->> 'width')::integer,
        height = (outputs ->> 'height')::integer, provider = outputs ->> 'provider', model_used = outputs ->> 'model',
        generation_time_ms = (outputs ->> 'generation_time_ms')::integer, error_message = null,
        cost_usd = coalesce((select pg_catalog.sum(l.cost_usd) from public.usage_logs l
                             where l.idempotency_key like generation.id || ':images:' || p_unit || ':%'), 0)
    where i.video_generation_id = generation.id and i.subject_key = p_unit;

  elsif p_step = 'audio' then
    insert into public.audio_generations (user_id, video_generation_id, scene_id, character_id, audio_type, sequence_order,
      speaker, text_content, voice_id, status, audio_url, storage_path, duration_ms, provider, model_used, attempts)
    select generation.user_id, generation.id, output_scene_id,
      (select ch.id from public.characters ch join public.chapters c on c.id = generation.chapter_id
       join public.plot_overviews p on p.id = ch.plot_overview_id and p.book_id = c.book_id and p.status = 'active'
       where ch.name = l ->> 'speaker' limit 1),
      (l ->> 'audio_type')::public.audio_type, (l ->> 'sequence_order')::integer, l ->> 'speaker', l ->> 'text',
      l ->> 'voice_id', 'completed', l ->> 'url', l ->> 'storage_path', (l ->> 'duration_ms')::integer,
      outputs ->> 'provider', outputs ->> 'model', 1
    from pg_catalog.jsonb_array_elements(outputs -> 'lines') l
    on conflict (video_generation_id, scene_id, sequence_order) do update
      set status = 'completed', audio_url = excluded.audio_url, storage_path = excluded.storage_path,
          duration_ms = excluded.duration_ms, text_content = excluded.text_content, error_message = null;

  elsif p_step = 'video' then
    insert into public.scene_videos (video_generation_id, scene_id, user_id, scene_number, image_generation_id, status,
      video_url, storage_path, duration_seconds, provider, model_used, attempts, generation_time_ms, cost_usd)
    values (generation.id, output_scene_id, generation.user_id, (outputs ->> 'scene_number')::integer,
      (select i.id from public.image_generations i where i.video_generation_id = generation.id and i.subject_key = p_unit),
      'completed', outputs ->> 'url', outputs ->> 'storage_path', (outputs ->> 'duration_seconds')::numeric,
      outputs ->> 'provider', outputs ->> 'model', 1, (outputs ->> 'generation_time_ms')::integer,
      coalesce((select pg_catalog.sum(l.cost_usd) from public.usage_logs l
                where l.idempotency_key like generation.id || ':video:' || p_unit || ':%'), 0))
    on conflict (video_generation_id, scene_number) do update
      set status = 'completed', video_url = excluded.video_url, storage_path = excluded.storage_path,
          duration_seconds = excluded.duration_seconds, cost_usd = excluded.cost_usd, error_message = null;

  elsif p_step = 'lipsync' then
    select * into clip from public.scene_videos v
    where v.video_generation_id = generation.id and v.scene_number = pg_catalog.split_part(p_unit, ':', 2)::integer;
    insert into public.lipsync_jobs (scene_video_id, video_generation_id, user_id, status, input_video_url, input_audio_url,
      output_video_url, provider, model_used, attempts, metadata)
    values (clip.id, generation.id, generation.user_id, 'completed', clip.video_url, outputs ->> 'input_audio_url',
      outputs ->> 'url', outputs ->> 'provider', outputs ->> 'model', 1,
      pg_catalog.jsonb_build_object('storage_path', outputs ->> 'storage_path', 'applied', outputs -> 'applied'))
    on conflict (scene_video_id) do update
      set status = 'completed', output_video_url = excluded.output_video_url, metadata = excluded.metadata, error_message = null;

  elsif p_step = 'merge' then
    insert into public.merge_jobs (video_generation_id, user_id, status, output_url, storage_path, total_duration_seconds,
      file_size_bytes, provider, attempts)
    values (generation.id, generation.user_id, 'completed', outputs ->> 'url', outputs ->> 'storage_path',
      (outputs ->> 'duration_seconds')::numeric, (outputs ->> 'file_size_bytes')::bigint, outputs ->> 'provider', 1)
    on conflict (video_generation_id) do update
      set status = 'completed', output_url = excluded.output_url, storage_path = excluded.storage_path,
          total_duration_seconds = excluded.total_duration_seconds, file_size_bytes = excluded.file_size_bytes
    returning id into new_merge_job_id;
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

-- Completes one unit: outputs, usage and cost, message deleted, next stage started when the
-- stage's last unit completes. A replay (unit already complete, generation moved on) only
-- deletes the message. Returns 'completed', 'stage_completed', 'generation_completed' or 'stale'.
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
  unit_status public.job_status;
  remaining integer;
  call jsonb;
  call_index integer := 0;
  started jsonb;
begin
  perform pgmq.delete(p_step::text, p_msg_id);
  select * into generation from public.video_generations g where g.id = p_generation_id for update;
  select u.status into unit_status from private.pipeline_units u
  where u.generation_id = p_generation_id and u.step = p_step and u.unit_key = p_unit for update;
  if generation.id is null or generation.status <> 'processing' or generation.current_step is distinct from p_step
     or unit_status is null or unit_status = 'completed' then
    return 'stale';
  end if;

  perform private.record_step_outputs(generation, p_step, p_unit, p_outputs);
  for call in select * from pg_catalog.jsonb_array_elements(coalesce(p_usage, '[]')) loop
    perform private.record_usage(generation.user_id, generation.id, call ->> 'model', coalesce(call ->> 'operation', p_step::text),
      format('%s:%s:%s:%s', generation.id, p_step, p_unit, call_index),
      coalesce((call ->> 'input_tokens')::integer, 0), coalesce((call ->> 'output_tokens')::integer, 0),
      coalesce((call ->> 'units')::numeric, 0), coalesce((call ->> 'duration_ms')::integer, 0));
    call_index := call_index + 1;
  end loop;
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
-- exponential backoff (3 s by default, doubling, at most 300 s); the rest archive the message and fail
-- the generation with a readable message. Returns 'retry', 'failed' or 'stale'.
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
  backoff integer := least(300, p_base_backoff_seconds * pg_catalog.power(2, greatest(p_attempt, 1) - 1)::integer);
begin
  select * into generation from public.video_generations g where g.id = p_generation_id for update;
  if generation.id is null or generation.status not in ('queued', 'processing')
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
      insert into public.image_generation_retries (image_generation_id, attempt_number, error_message, retryable)
      values (image_id, greatest(p_attempt, 1), p_error, p_retryable)
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
  end if;
  update public.video_generations g
  set status = 'failed',
      error_message = format('%s stage failed for %s after %s attempt(s): %s', p_step, p_unit, p_attempt, p_error)
  where g.id = p_generation_id;
  return 'failed';
end;
$$;

revoke all on function private.begin_step(uuid, public.pipeline_step, text, integer),
  private.complete_step(bigint, uuid, public.pipeline_step, text, jsonb, jsonb),
  private.fail_step(bigint, uuid, public.pipeline_step, text, text, boolean, integer, integer, integer),
  private.record_step_outputs(public.video_generations, public.pipeline_step, text, jsonb),
  private.enqueue_stage(uuid, public.pipeline_step), private.refresh_progress(uuid),
  private.main_characters(uuid), private.owned_generation_for_update(uuid),
  private.stage_weight(public.pipeline_step), private.next_step(public.pipeline_step)
  from public, anon, authenticated;
grant execute on function private.begin_step(uuid, public.pipeline_step, text, integer),
  private.complete_step(bigint, uuid, public.pipeline_step, text, jsonb, jsonb),
  private.fail_step(bigint, uuid, public.pipeline_step, text, text, boolean, integer, integer, integer)
  to service_role;
