-- Stage 2, images: a card per scene and a portrait per main character (units 'scene:<n>', 'character:<name>').
insert into private.pipeline_stages (step, position, weight, job_table, timeout_seconds, lease_seconds, concurrency)
values ('images', 2, 25, 'image_generations', 120, 10, 2);
select pgmq.create('images') where not exists (select 1 from pgmq.list_queues() l where l.queue_name = 'images');

-- What the images worker returns for a unit.
create type private.image_output as (
  prompt text, storage_path text, url text, width integer, height integer, provider text, model text,
  generation_time_ms integer);

create or replace function private.stage_images_units(generation public.video_generations)
returns setof text
language sql
stable
security definer
set search_path = ''
as $$
  select u from private.scene_units(generation) u
  union all
  select 'character:' || c.name from private.main_characters(generation.id) c
$$;

-- The scene (or the character, from the active plot when it has one) and the image row, in progress.
create or replace function private.stage_images_begin(
  generation public.video_generations, unit private.pipeline_units, attempt integer)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  scene public.scene_descriptions;
  person public.characters;
begin
  if unit.scene_number is not null then
    select * into scene from public.scene_descriptions s
    where s.script_id = generation.script_id and s.scene_number = unit.scene_number;
    if not found then
      raise exception 'scene % is not in the script any more', unit.scene_number using errcode = 'P0002';
    end if;
  else
    select ch.* into person from public.characters ch join public.chapters c on c.id = generation.chapter_id
      join public.plot_overviews p on p.id = ch.plot_overview_id and p.book_id = c.book_id and p.status = 'active'
    where ch.name = unit.character_name;
  end if;
  insert into public.image_generations (chapter_id, script_id, user_id, video_generation_id, scene_description_id,
    character_id, image_type, scene_number, character_name, prompt, status, retry_count, started_at)
  values (generation.chapter_id, generation.script_id, generation.user_id, generation.id, scene.id, person.id,
    case when unit.scene_number is not null then 'scene' else 'character' end::public.image_type,
    unit.scene_number, unit.character_name,
    coalesce(scene.visual_description, 'Portrait of ' || unit.character_name), 'in_progress', unit.attempts - 1,
    pg_catalog.clock_timestamp())
  on conflict (video_generation_id, subject_key) do update
    set status = 'in_progress', retry_count = excluded.retry_count, error_message = null, completed_at = null;
  if unit.scene_number is not null then
    return pg_catalog.jsonb_build_object('scene', pg_catalog.to_jsonb(scene));
  end if;
  return pg_catalog.jsonb_build_object('character', pg_catalog.jsonb_build_object('name', unit.character_name,
    'id', person.id, 'physical_description', person.physical_description, 'personality', person.personality));
end;
$$;

-- One image a unit.
create or replace function private.stage_images_quantity(context jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$ select '{"images": 1}'::jsonb $$;

create or replace function private.stage_images_record(
  generation public.video_generations, unit private.pipeline_units, outputs jsonb)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  o private.image_output := pg_catalog.jsonb_populate_record(null::private.image_output, outputs);
  image_id uuid;
begin
  update public.image_generations i
  set status = 'completed', prompt = coalesce(o.prompt, i.prompt), image_url = o.url, storage_path = o.storage_path,
      width = o.width, height = o.height, provider = o.provider, model_used = o.model,
      generation_time_ms = o.generation_time_ms, error_message = null, completed_at = pg_catalog.clock_timestamp()
  where i.video_generation_id = generation.id and i.subject_key = unit.unit_key
  returning i.id into image_id;
  if unit.character_name is not null then
    update public.characters ch
    set image_url = o.url, image_generation_prompt = o.prompt,
        image_metadata = pg_catalog.jsonb_build_object('storage_path', o.storage_path, 'model', o.model,
          'video_generation_id', generation.id)
    where ch.id = (select i.character_id from public.image_generations i where i.id = image_id);
  end if;
  return image_id;
end;
$$;

-- Every failed attempt is a row of image_generation_retries; the last one fails the image.
create or replace function private.stage_images_fail(
  generation public.video_generations, unit private.pipeline_units, error text, retryable boolean, final boolean)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  image public.image_generations;
begin
  update public.image_generations i
  set status = case when final then 'failed'::public.media_job_status else i.status end,
      error_message = error, completed_at = case when final then pg_catalog.clock_timestamp() end
  where i.video_generation_id = generation.id and i.subject_key = unit.unit_key
  returning * into image;
  if image.id is not null then
    insert into public.image_generation_retries (image_generation_id, attempt_number, provider, model_used, status,
      error_message, retryable)
    values (image.id, unit.attempts, image.provider, image.model_used, 'failed', error, retryable)
    on conflict (image_generation_id, attempt_number) do nothing;
  end if;
end;
$$;

revoke all on function private.stage_images_units(public.video_generations),
  private.stage_images_begin(public.video_generations, private.pipeline_units, integer),
  private.stage_images_record(public.video_generations, private.pipeline_units, jsonb),
  private.stage_images_fail(public.video_generations, private.pipeline_units, text, boolean, boolean),
  private.stage_images_quantity(jsonb)
  from public, anon, authenticated;
