-- Plot overviews generated through the plot queue, user edits that survive regeneration, and
-- scripts saved by one function for both the pipeline and standalone script generation.

-- A client's change to a plot or character marks it as edited by the user.
create or replace function private.mark_user_edited()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user = 'authenticated' then
    new.user_edited := true;
  end if;
  return new;
end;
$$;
revoke all on function private.mark_user_edited() from public, anon, authenticated;
create trigger plot_overviews_mark_user_edited before update on public.plot_overviews
  for each row execute function private.mark_user_edited();
create trigger characters_mark_user_edited before update on public.characters
  for each row execute function private.mark_user_edited();

-- Client RPC: (re)generate the plot overview and characters of a ready book.
create or replace function public.generate_plot_overview(book_id uuid)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  book public.books;
begin
  if (select auth.uid()) is null then
    raise exception 'sign in to generate plots' using errcode = '42501';
  end if;
  select * into book from public.books b where b.id = generate_plot_overview.book_id;
  if not found or book.user_id <> (select auth.uid()) then
    raise exception 'book % not found among yours', generate_plot_overview.book_id using errcode = 'P0002';
  end if;
  if book.status not in ('ready', 'published') then
    raise exception 'book % is %; a plot can be generated once it is ready', book.id, book.status using errcode = 'LT006';
  end if;
  return (select pgmq.send('plot', pg_catalog.jsonb_build_object('book_id', book.id)));
end;
$$;
revoke all on function public.generate_plot_overview(uuid) from public, anon;
grant execute on function public.generate_plot_overview(uuid) to authenticated;

-- Worker: a new plot version. The previous one is archived; characters the user edited are carried
-- into the new version unchanged (a generated character of the same name gives way to them).
create or replace function private.save_plot_overview(
  p_msg_id bigint,
  p_book_id uuid,
  p_overview jsonb,
  p_characters jsonb
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  book public.books;
  previous public.plot_overviews;
  new_id uuid;
begin
  select * into book from public.books b where b.id = p_book_id for update;
  if not found then
    perform pgmq.delete('plot', p_msg_id);
    return null;
  end if;
  select * into previous from public.plot_overviews p where p.book_id = p_book_id and p.status = 'active';
  update public.plot_overviews p set status = 'archived' where p.id = previous.id;

  insert into public.plot_overviews (book_id, user_id, version, logline, themes, story_type, genre, tone, audience,
    setting, model_used, metadata)
  values (p_book_id, book.user_id,
    coalesce((select pg_catalog.max(p.version) from public.plot_overviews p where p.book_id = p_book_id), 0) + 1,
    p_overview ->> 'logline', array(select pg_catalog.jsonb_array_elements_text(coalesce(p_overview -> 'themes', '[]'))),
    p_overview ->> 'story_type', p_overview ->> 'genre', p_overview ->> 'tone', p_overview ->> 'audience',
    p_overview ->> 'setting', p_overview ->> 'model', coalesce(p_overview -> 'metadata', '{}'))
  returning id into new_id;

  insert into public.characters (plot_overview_id, book_id, user_id, archetype_id, name, role, character_arc,
    physical_description, personality, want, need, lie, ghost, voice_id, image_url, user_edited)
  select new_id, p_book_id, book.user_id, c.archetype_id, c.name, c.role, c.character_arc, c.physical_description,
    c.personality, c.want, c.need, c.lie, c.ghost, c.voice_id, c.image_url, true
  from public.characters c where c.plot_overview_id = previous.id and c.user_edited;

  insert into public.characters (plot_overview_id, book_id, user_id, archetype_id, name, role, character_arc,
    physical_description, personality, want, need, lie, ghost)
  select new_id, p_book_id, book.user_id,
    (select a.id from public.character_archetypes a where a.name = c ->> 'archetype' and a.is_active),
    c ->> 'name', c ->> 'role', c ->> 'character_arc', c ->> 'physical_description', c ->> 'personality',
    c ->> 'want', c ->> 'need', c ->> 'lie', c ->> 'ghost'
  from pg_catalog.jsonb_array_elements(p_characters) c
  on conflict (plot_overview_id, name) do nothing;

  perform pgmq.delete('plot', p_msg_id);
  return new_id;
end;
$$;
revoke all on function private.save_plot_overview(bigint, uuid, jsonb, jsonb) from public, anon, authenticated;
grant execute on function private.save_plot_overview(bigint, uuid, jsonb, jsonb) to service_role;

-- A generated script, its scenes and (with a plot) its chapter_scripts row, for pipeline and API alike.
create or replace function private.save_generated_script(
  p_user_id uuid,
  p_chapter_id uuid,
  p_style public.script_style,
  outputs jsonb,
  p_metadata jsonb default '{}'
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  new_script_id uuid;
begin
  insert into public.scripts (chapter_id, user_id, script_style, title, script, characters, scene_count, model_used, version, metadata)
  values (p_chapter_id, p_user_id, p_style, outputs ->> 'title', outputs ->> 'script',
    array(select pg_catalog.jsonb_array_elements_text(outputs -> 'characters')),
    pg_catalog.jsonb_array_length(outputs -> 'scenes'), outputs ->> 'model',
    coalesce((select pg_catalog.max(s.version) + 1 from public.scripts s
              where s.chapter_id = p_chapter_id and s.script_style = p_style), 1),
    p_metadata)
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
    values (p_chapter_id, new_script_id, (outputs -> 'plot_usage' ->> 'plot_overview_id')::uuid, p_user_id,
      coalesce((outputs -> 'plot_usage' ->> 'plot_enhanced')::boolean, false),
      coalesce((outputs -> 'plot_usage' ->> 'character_enhanced')::boolean, false),
      coalesce(outputs -> 'plot_usage' -> 'acts', '[]'), coalesce(outputs -> 'plot_usage' -> 'beats', '[]'),
      coalesce(outputs -> 'plot_usage' -> 'character_arcs', '{}'));
  end if;
  return new_script_id;
end;
$$;
revoke all on function private.save_generated_script(uuid, uuid, public.script_style, jsonb, jsonb)
  from public, anon, authenticated;
grant execute on function private.save_generated_script(uuid, uuid, public.script_style, jsonb, jsonb) to service_role;

-- The pipeline's script step now saves through save_generated_script; the other steps are unchanged.
alter function private.record_step_outputs(public.video_generations, public.pipeline_step, text, jsonb)
  rename to record_media_step_outputs;
create function private.record_step_outputs(
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
begin
  if p_step <> 'script' then
    perform private.record_media_step_outputs(generation, p_step, p_unit, outputs);
    return;
  end if;
  new_script_id := private.save_generated_script(generation.user_id, generation.chapter_id, generation.script_style,
    outputs, pg_catalog.jsonb_build_object('video_generation_id', generation.id));
  update public.video_generations g
  set script_id = new_script_id, total_scenes = pg_catalog.jsonb_array_length(outputs -> 'scenes')
  where g.id = generation.id;
end;
$$;
revoke all on function private.record_step_outputs(public.video_generations, public.pipeline_step, text, jsonb)
  from public, anon, authenticated;
revoke all on function private.record_media_step_outputs(public.video_generations, public.pipeline_step, text, jsonb)
  from public, anon, authenticated;
