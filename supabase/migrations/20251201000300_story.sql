-- Story: scripts and their scenes, character archetypes (reference data), plot overviews and their
-- characters, plot-aware chapter scripts; plot generation through the plot queue.
create type public.script_style as enum ('cinematic', 'narration', 'educational');
create type public.script_status as enum ('draft', 'active', 'archived');
create type public.time_of_day as enum ('dawn', 'morning', 'noon', 'afternoon', 'evening', 'night', 'unspecified');
-- The archetype's function in a story (Campbell); Jung's character types map onto these.
create type public.archetype_category as enum ('hero', 'mentor', 'ally', 'herald', 'trickster', 'shapeshifter',
  'threshold_guardian', 'shadow');
create type public.plot_status as enum ('active', 'archived', 'deleted');
create type public.generation_method as enum ('openrouter', 'manual', 'openai', 'offline');
create type public.character_role as enum ('protagonist', 'antagonist', 'supporting', 'minor', 'deuteragonist',
  'mentor', 'love_interest', 'sidekick');

create table public.scripts (
  id uuid primary key default gen_random_uuid(),
  chapter_id uuid not null,
  user_id uuid not null references public.profiles (id) on delete cascade,
  script_style public.script_style not null,
  title text not null,
  script text not null,
  -- JSON array of the characters in the script: [{"name": ..., "role": ...}].
  character_details text not null default '[]',
  scene_count integer not null default 0,
  -- The plot's story type when the script was written with a plot.
  story_type text,
  -- On an earlier script: the plot-enhanced script that replaced it.
  linked_script_id uuid references public.scripts (id) on delete set null,
  status public.script_status not null default 'active',
  version integer not null default 1,
  model_used text,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint fk_scripts_chapter foreign key (chapter_id) references public.chapters (id) on delete cascade,
  constraint scripts_scene_count_non_negative check (scene_count >= 0),
  constraint scripts_version_positive check (version > 0),
  constraint scripts_chapter_style_version_key unique (chapter_id, script_style, version)
);
comment on table public.scripts is 'A screenplay, narration or lesson script generated for a chapter in one style.';
create index scripts_user_id_idx on public.scripts (user_id);
create index scripts_linked_script_id_idx on public.scripts (linked_script_id);
create index idx_scripts_chapter_user on public.scripts (chapter_id, user_id);
create index idx_scripts_status on public.scripts (status) where status = 'active';

-- At most 40 dialogue lines of at most 500 characters each.
create or replace function private.dialogue_is_bounded(dialogue jsonb)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.jsonb_typeof(dialogue) <> 'array' or (pg_catalog.jsonb_array_length(dialogue) <= 40
    and not exists (select 1 from pg_catalog.jsonb_array_elements(dialogue) d
                    where pg_catalog.char_length(coalesce(d ->> 'line', '')) > 500))
$$;
revoke all on function private.dialogue_is_bounded(jsonb) from public, anon;
grant execute on function private.dialogue_is_bounded(jsonb) to authenticated, service_role;

create table public.scene_descriptions (
  id uuid primary key default gen_random_uuid(),
  script_id uuid not null references public.scripts (id) on delete cascade,
  scene_number integer not null,
  location text not null default 'unspecified',
  time_of_day public.time_of_day not null default 'unspecified',
  -- JSON array of the names of the characters in the scene.
  characters jsonb not null default '[]',
  -- The main actions, one per line.
  key_actions text not null default '',
  visual_description text not null,
  audio_requirements text,
  dialogue jsonb not null default '[]',
  narration text,
  estimated_duration_seconds numeric(8, 2),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint idx_scene_descriptions_script unique (script_id, scene_number),
  constraint scene_descriptions_scene_number_positive check (scene_number > 0),
  constraint scene_descriptions_duration_non_negative check (estimated_duration_seconds >= 0),
  constraint scene_descriptions_characters_is_array check (jsonb_typeof(characters) = 'array'),
  constraint scene_descriptions_dialogue_is_array check (jsonb_typeof(dialogue) = 'array'),
  -- What one generation may cost is bounded by what its script may hold, whoever wrote the scenes
  -- (the script stage, or the owner editing them): at most 60 scenes, each of bounded length.
  constraint scene_descriptions_scene_number_limit check (scene_number <= 60),
  constraint scene_descriptions_text_limit check (char_length(visual_description) <= 2000
    and coalesce(char_length(narration), 0) <= 2000),
  constraint scene_descriptions_dialogue_limit check (private.dialogue_is_bounded(dialogue)),
  constraint scene_descriptions_duration_limit check (estimated_duration_seconds <= 600)
);
comment on table public.scene_descriptions is 'Scenes of a script: where, when, who, what happens, what it looks and sounds like.';

create table public.character_archetypes (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  description text not null,
  category public.archetype_category not null,
  -- Where the archetype comes from: Campbell's hero's journey or Jung's character types.
  tradition text not null,
  traits jsonb not null default '[]',
  typical_roles jsonb not null default '[]',
  example_characters text,
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint character_archetypes_name_key unique (name),
  constraint character_archetypes_tradition_known check (tradition in ('campbell', 'jung')),
  constraint character_archetypes_traits_is_array check (jsonb_typeof(traits) = 'array'),
  constraint character_archetypes_typical_roles_is_array check (jsonb_typeof(typical_roles) = 'array')
);
comment on table public.character_archetypes is 'Reference data: Campbell and Jung character archetypes assigned to characters.';

create table public.plot_overviews (
  id uuid primary key default gen_random_uuid(),
  book_id uuid not null references public.books (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  logline text not null,
  themes jsonb not null default '[]',
  story_type text,
  genre text,
  tone text,
  audience text,
  setting text,
  generation_method public.generation_method not null default 'manual',
  model_used text,
  generation_cost numeric(12, 6) not null default 0,
  status public.plot_status not null default 'active',
  version integer not null default 1,
  user_edited boolean not null default false,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint plot_overviews_version_positive check (version > 0),
  constraint plot_overviews_themes_is_array check (jsonb_typeof(themes) = 'array'),
  constraint plot_overviews_cost_non_negative check (generation_cost >= 0),
  constraint plot_overviews_book_version_key unique (book_id, version)
);
comment on table public.plot_overviews is 'Versions of a book''s plot overview; exactly one active, older ones archived.';
-- The ERD's book_id UK: one active overview per book (older versions are kept, archived).
create unique index plot_overviews_one_active_per_book on public.plot_overviews (book_id) where status = 'active';
create index plot_overviews_user_id_idx on public.plot_overviews (user_id);
create index idx_plot_overviews_book_user on public.plot_overviews (book_id, user_id);

create table public.characters (
  id uuid primary key default gen_random_uuid(),
  plot_overview_id uuid not null references public.plot_overviews (id) on delete cascade,
  book_id uuid not null references public.books (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  name text not null,
  role public.character_role not null default 'supporting',
  character_arc text,
  physical_description text,
  personality text,
  -- JSON array of character_archetypes ids; a trigger keeps every id pointing at an archetype.
  archetypes jsonb not null default '[]',
  want text,
  need text,
  lie text,
  ghost text,
  voice_id text,
  image_url text,
  image_generation_prompt text,
  image_metadata jsonb not null default '{}',
  generation_method public.generation_method not null default 'manual',
  model_used text,
  user_edited boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint characters_archetypes_is_array check (jsonb_typeof(archetypes) = 'array'),
  constraint characters_plot_name_key unique (plot_overview_id, name)
);
comment on table public.characters is 'Characters of a plot overview with arc, psychology (want, need, lie, ghost) and archetypes.';
create index characters_book_id_idx on public.characters (book_id);
create index characters_user_id_idx on public.characters (user_id);
create index idx_characters_plot on public.characters (plot_overview_id);
create index idx_characters_archetypes on public.characters using gin (archetypes);

create table public.chapter_scripts (
  id uuid primary key default gen_random_uuid(),
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  plot_overview_id uuid,
  script_id uuid not null references public.scripts (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  plot_enhanced boolean not null default false,
  character_enhanced boolean not null default false,
  scenes jsonb not null default '[]',
  acts jsonb not null default '[]',
  beats jsonb not null default '[]',
  character_details jsonb not null default '[]',
  character_arcs jsonb not null default '{}',
  status public.plot_status not null default 'active',
  version integer not null default 1,
  generation_metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint fk_chapter_scripts_plot foreign key (plot_overview_id) references public.plot_overviews (id)
    on delete set null,
  constraint chapter_scripts_version_positive check (version > 0),
  constraint chapter_scripts_script_id_key unique (script_id)
);
comment on table public.chapter_scripts is 'How a chapter''s script used the plot overview and characters (scenes, acts, beats, arcs).';
create index chapter_scripts_chapter_id_idx on public.chapter_scripts (chapter_id);
create index chapter_scripts_plot_overview_id_idx on public.chapter_scripts (plot_overview_id);
create index chapter_scripts_user_id_idx on public.chapter_scripts (user_id);

create trigger scripts_set_updated_at before update on public.scripts
  for each row execute function private.set_updated_at();
create trigger scene_descriptions_set_updated_at before update on public.scene_descriptions
  for each row execute function private.set_updated_at();
create trigger character_archetypes_set_updated_at before update on public.character_archetypes
  for each row execute function private.set_updated_at();
create trigger plot_overviews_set_updated_at before update on public.plot_overviews
  for each row execute function private.set_updated_at();
create trigger characters_set_updated_at before update on public.characters
  for each row execute function private.set_updated_at();
create trigger chapter_scripts_set_updated_at before update on public.chapter_scripts
  for each row execute function private.set_updated_at();

create or replace function private.owned_script_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$ select s.id from public.scripts s where s.user_id = (select auth.uid()) $$;
revoke all on function private.owned_script_ids() from public, anon;
grant execute on function private.owned_script_ids() to authenticated, service_role;

-- A character belongs to the plot overview's book and names only existing archetypes; a chapter
-- script's script is for that chapter.
create or replace function private.check_story_links()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  unknown text;
begin
  if tg_table_name = 'characters' then
    if not exists (select 1 from public.plot_overviews p where p.id = new.plot_overview_id and p.book_id = new.book_id) then
      raise exception 'character % belongs to a different book than its plot overview', new.name using errcode = '23514';
    end if;
    select a.value into unknown from pg_catalog.jsonb_array_elements_text(new.archetypes) a (value)
    where a.value !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       or not exists (select 1 from public.character_archetypes x where x.id = a.value::uuid)
    limit 1;
    if unknown is not null then
      raise exception 'character %: "%" is not the id of a character archetype', new.name, unknown using errcode = '23503';
    end if;
  elsif tg_table_name = 'chapter_scripts' then
    if not exists (select 1 from public.scripts s where s.id = new.script_id and s.chapter_id = new.chapter_id) then
      raise exception 'script % is not a script of chapter %', new.script_id, new.chapter_id using errcode = '23514';
    end if;
  end if;
  return new;
end;
$$;
revoke all on function private.check_story_links() from public, anon, authenticated;
create trigger characters_check_links before insert or update of plot_overview_id, book_id, archetypes on public.characters
  for each row execute function private.check_story_links();
create trigger chapter_scripts_check_links before insert or update of script_id, chapter_id on public.chapter_scripts
  for each row execute function private.check_story_links();

-- An archetype that characters use cannot be deleted (deactivate it instead).
create or replace function private.protect_used_archetype()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from public.characters c where c.archetypes ? old.id::text) then
    raise exception 'archetype % is assigned to characters: deactivate it instead', old.name using errcode = '23503';
  end if;
  return old;
end;
$$;
revoke all on function private.protect_used_archetype() from public, anon, authenticated;
create trigger character_archetypes_protect_used before delete on public.character_archetypes
  for each row execute function private.protect_used_archetype();

-- A client's change to a plot or character (or a character the client adds) marks it as the user's.
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
-- A plot a client writes is the book's next version (clients do not choose versions).
create or replace function private.next_plot_version()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user = 'authenticated' then
    new.version := coalesce((select pg_catalog.max(p.version) from public.plot_overviews p where p.book_id = new.book_id), 0) + 1;
  end if;
  return new;
end;
$$;
revoke all on function private.next_plot_version() from public, anon, authenticated;
create trigger plot_overviews_next_version before insert on public.plot_overviews
  for each row execute function private.next_plot_version();
create trigger plot_overviews_mark_user_edited before update on public.plot_overviews
  for each row execute function private.mark_user_edited();
create trigger characters_mark_user_edited before insert or update on public.characters
  for each row execute function private.mark_user_edited();

-- What the workers write (how a plot was generated, what it cost, its version) is not the client's to set.
revoke insert, update on public.plot_overviews, public.characters from anon, authenticated;
grant insert (id, book_id, user_id, logline, themes, story_type, genre, tone, audience, setting, status, metadata)
  on public.plot_overviews to authenticated;
grant update (logline, themes, story_type, genre, tone, audience, setting, status, metadata)
  on public.plot_overviews to authenticated;
grant insert (id, plot_overview_id, book_id, user_id, name, role, character_arc, physical_description, personality,
  archetypes, want, need, lie, ghost, voice_id, image_url) on public.characters to authenticated;
grant update (name, role, character_arc, physical_description, personality, archetypes, want, need, lie, ghost,
  voice_id, image_url) on public.characters to authenticated;

alter table public.scripts enable row level security;
alter table public.scene_descriptions enable row level security;
alter table public.character_archetypes enable row level security;
alter table public.plot_overviews enable row level security;
alter table public.characters enable row level security;
alter table public.chapter_scripts enable row level security;

create policy "owners read their scripts" on public.scripts
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners add scripts to their chapters" on public.scripts
  for insert to authenticated
  with check (user_id = (select auth.uid()) and chapter_id in (select private.owned_chapter_ids())
    and (linked_script_id is null or linked_script_id in (select private.owned_script_ids())));
create policy "owners edit their scripts" on public.scripts
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()) and chapter_id in (select private.owned_chapter_ids())
    and (linked_script_id is null or linked_script_id in (select private.owned_script_ids())));
create policy "owners delete their scripts" on public.scripts
  for delete to authenticated using (user_id = (select auth.uid()));

create policy "owners read their scenes" on public.scene_descriptions
  for select to authenticated using (script_id in (select private.owned_script_ids()));
create policy "owners add scenes to their scripts" on public.scene_descriptions
  for insert to authenticated with check (script_id in (select private.owned_script_ids()));
create policy "owners edit their scenes" on public.scene_descriptions
  for update to authenticated
  using (script_id in (select private.owned_script_ids()))
  with check (script_id in (select private.owned_script_ids()));
create policy "owners delete their scenes" on public.scene_descriptions
  for delete to authenticated using (script_id in (select private.owned_script_ids()));

create policy "anyone reads active archetypes; superadmins read all" on public.character_archetypes
  for select to anon, authenticated using (is_active or (select private.is_superadmin()));
create policy "superadmins add archetypes" on public.character_archetypes
  for insert to authenticated with check ((select private.is_superadmin()));
create policy "superadmins edit archetypes" on public.character_archetypes
  for update to authenticated
  using ((select private.is_superadmin())) with check ((select private.is_superadmin()));
create policy "superadmins delete archetypes" on public.character_archetypes
  for delete to authenticated using ((select private.is_superadmin()));

create policy "owners read their plot overviews" on public.plot_overviews
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners add plot overviews to their books" on public.plot_overviews
  for insert to authenticated
  with check (user_id = (select auth.uid()) and book_id in (select private.owned_book_ids()));
create policy "owners edit their plot overviews" on public.plot_overviews
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()) and book_id in (select private.owned_book_ids()));
create policy "owners delete their plot overviews" on public.plot_overviews
  for delete to authenticated using (user_id = (select auth.uid()));

create policy "owners read their characters" on public.characters
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners add characters to their plots" on public.characters
  for insert to authenticated
  with check (user_id = (select auth.uid()) and book_id in (select private.owned_book_ids()));
create policy "owners edit their characters" on public.characters
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()) and book_id in (select private.owned_book_ids()));
create policy "owners delete their characters" on public.characters
  for delete to authenticated using (user_id = (select auth.uid()));

create policy "owners read their chapter scripts" on public.chapter_scripts
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners add chapter scripts" on public.chapter_scripts
  for insert to authenticated
  with check (user_id = (select auth.uid()) and chapter_id in (select private.owned_chapter_ids())
    and (plot_overview_id is null or plot_overview_id in (select p.id from public.plot_overviews p
                                                          where p.user_id = (select auth.uid()))));
create policy "owners edit their chapter scripts" on public.chapter_scripts
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()) and chapter_id in (select private.owned_chapter_ids())
    and (plot_overview_id is null or plot_overview_id in (select p.id from public.plot_overviews p
                                                          where p.user_id = (select auth.uid()))));
create policy "owners delete their chapter scripts" on public.chapter_scripts
  for delete to authenticated using (user_id = (select auth.uid()));

-- Plots --------------------------------------------------------------------------------------------
select pgmq.create('plot') where not exists (select 1 from pgmq.list_queues() l where l.queue_name = 'plot');

-- Client RPC: (re)generate the plot overview and characters of a ready book. Returns the message id.
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
  perform private.take_rate_limit('plot');
  select * into book from public.books b where b.id = generate_plot_overview.book_id;
  if not found or book.user_id <> (select auth.uid()) then
    raise exception 'book % not found among yours', generate_plot_overview.book_id using errcode = 'P0002';
  end if;
  if book.status <> 'ready' then
    raise exception 'book % is %; a plot can be generated once it is ready', book.id, book.status using errcode = 'LT006';
  end if;
  perform private.wake_queue_workers('plot');
  return (select pgmq.send('plot', pg_catalog.jsonb_build_object('book_id', book.id)));
end;
$$;
revoke all on function public.generate_plot_overview(uuid) from public, anon;
grant execute on function public.generate_plot_overview(uuid) to authenticated;

-- How a text model's output was generated, from its price row's provider.
create or replace function private.generation_method_of(p_model text)
returns public.generation_method
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return case (select m.provider from private.model_prices m where m.model = p_model)
    when 'openrouter' then 'openrouter' when 'openai' then 'openai' when 'offline' then 'offline'
    else 'manual' end::public.generation_method;
end;
$$;
revoke all on function private.generation_method_of(text) from public, anon, authenticated;

-- Worker: a new plot version. The previous one is archived; characters the user edited are carried
-- into the new version unchanged (a generated character of the same name gives way to them). The
-- cost is what the plot's usage (recorded under `plot:<msg_id>:...` in the same transaction) cost.
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
  method public.generation_method := private.generation_method_of(p_overview ->> 'model');
begin
  select * into book from public.books b where b.id = p_book_id for update;
  if not found then
    perform pgmq.delete('plot', p_msg_id);
    return null;
  end if;
  select * into previous from public.plot_overviews p where p.book_id = p_book_id and p.status = 'active';
  update public.plot_overviews p set status = 'archived' where p.id = previous.id;

  insert into public.plot_overviews (book_id, user_id, version, logline, themes, story_type, genre, tone, audience,
    setting, generation_method, model_used, generation_cost, metadata)
  values (p_book_id, book.user_id,
    coalesce((select pg_catalog.max(p.version) from public.plot_overviews p where p.book_id = p_book_id), 0) + 1,
    p_overview ->> 'logline', coalesce(p_overview -> 'themes', '[]'),
    p_overview ->> 'story_type', p_overview ->> 'genre', p_overview ->> 'tone', p_overview ->> 'audience',
    p_overview ->> 'setting', method, p_overview ->> 'model',
    (select coalesce(pg_catalog.sum(l.cost_usd), 0) from public.usage_logs l
     where l.user_id = book.user_id and l.idempotency_key like 'plot:' || p_msg_id || ':%'),
    coalesce(p_overview -> 'metadata', '{}'))
  returning id into new_id;

  insert into public.characters (plot_overview_id, book_id, user_id, archetypes, name, role, character_arc,
    physical_description, personality, want, need, lie, ghost, voice_id, image_url, image_generation_prompt,
    image_metadata, generation_method, model_used, user_edited)
  select new_id, p_book_id, book.user_id, c.archetypes, c.name, c.role, c.character_arc, c.physical_description,
    c.personality, c.want, c.need, c.lie, c.ghost, c.voice_id, c.image_url, c.image_generation_prompt, c.image_metadata,
    c.generation_method, c.model_used, true
  from public.characters c where c.plot_overview_id = previous.id and c.user_edited;

  insert into public.characters (plot_overview_id, book_id, user_id, archetypes, name, role, character_arc,
    physical_description, personality, want, need, lie, ghost, generation_method, model_used)
  select new_id, p_book_id, book.user_id,
    coalesce((select pg_catalog.jsonb_agg(a.id) from public.character_archetypes a
              where a.name = c ->> 'archetype' and a.is_active), '[]'),
    c ->> 'name', coalesce(c ->> 'role', 'supporting')::public.character_role, c ->> 'character_arc',
    c ->> 'physical_description', c ->> 'personality', c ->> 'want', c ->> 'need', c ->> 'lie', c ->> 'ghost',
    method, p_overview ->> 'model'
  from pg_catalog.jsonb_array_elements(p_characters) c
  on conflict (plot_overview_id, name) do nothing;

  perform pgmq.delete('plot', p_msg_id);
  return new_id;
end;
$$;
revoke all on function private.save_plot_overview(bigint, uuid, jsonb, jsonb) from public, anon, authenticated;
grant execute on function private.save_plot_overview(bigint, uuid, jsonb, jsonb) to service_role;

-- A generated script, its scenes and (with a plot) its chapter_scripts row, for the pipeline and
-- the generate-script function alike. The new script is the active one of its chapter and style:
-- earlier ones are archived, and a plot-enhanced script is linked from the ones it replaced.
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
  plot_usage jsonb := nullif(outputs -> 'plot_usage', 'null'::jsonb);
  plot public.plot_overviews;
  details jsonb;
begin
  if plot_usage is not null then
    select * into plot from public.plot_overviews p where p.id = (plot_usage ->> 'plot_overview_id')::uuid;
  end if;
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', n.name, 'role', c.role) order by n.ord), '[]')
  into details
  from pg_catalog.jsonb_array_elements_text(coalesce(outputs -> 'characters', '[]')) with ordinality n (name, ord)
  left join public.characters c on c.plot_overview_id = plot.id and c.name = n.name;

  insert into public.scripts (chapter_id, user_id, script_style, title, script, character_details, scene_count,
    story_type, status, model_used, version, metadata)
  values (p_chapter_id, p_user_id, p_style, outputs ->> 'title', outputs ->> 'script', details::text,
    pg_catalog.jsonb_array_length(outputs -> 'scenes'), plot.story_type, 'active', outputs ->> 'model',
    coalesce((select pg_catalog.max(s.version) + 1 from public.scripts s
              where s.chapter_id = p_chapter_id and s.script_style = p_style), 1),
    p_metadata)
  returning id into new_script_id;
  with archived as (
    update public.scripts s
    set status = 'archived',
        linked_script_id = case when plot_usage is not null then new_script_id else s.linked_script_id end
    where s.chapter_id = p_chapter_id and s.script_style = p_style and s.id <> new_script_id and s.status = 'active'
    returning s.id
  )
  update public.chapter_scripts x set status = 'archived'
  where x.script_id in (select a.id from archived a) and x.status = 'active';

  insert into public.scene_descriptions (script_id, scene_number, location, time_of_day, characters, key_actions,
    visual_description, audio_requirements, dialogue, narration, estimated_duration_seconds)
  select new_script_id, (s ->> 'scene_number')::integer, coalesce(s ->> 'location', 'unspecified'),
    coalesce(s ->> 'time_of_day', 'unspecified')::public.time_of_day, coalesce(s -> 'characters', '[]'),
    pg_catalog.array_to_string(array(select pg_catalog.jsonb_array_elements_text(coalesce(s -> 'key_actions', '[]'))), E'\n'),
    s ->> 'visual_description', s ->> 'audio_requirements', coalesce(s -> 'dialogue', '[]'), s ->> 'narration',
    (s ->> 'estimated_duration_seconds')::numeric
  from pg_catalog.jsonb_array_elements(outputs -> 'scenes') s;

  if plot_usage is not null then
    insert into public.chapter_scripts (chapter_id, script_id, plot_overview_id, user_id, plot_enhanced, character_enhanced,
      scenes, acts, beats, character_details, character_arcs, version, generation_metadata)
    values (p_chapter_id, new_script_id, plot.id, p_user_id,
      coalesce((plot_usage ->> 'plot_enhanced')::boolean, false),
      coalesce((plot_usage ->> 'character_enhanced')::boolean, false),
      (select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('scene_number', s -> 'scene_number',
         'location', s -> 'location', 'characters', s -> 'characters') order by (s ->> 'scene_number')::integer), '[]')
       from pg_catalog.jsonb_array_elements(outputs -> 'scenes') s),
      coalesce(plot_usage -> 'acts', '[]'), coalesce(plot_usage -> 'beats', '[]'), details,
      coalesce(plot_usage -> 'character_arcs', '{}'),
      (select pg_catalog.count(*) + 1 from public.chapter_scripts x
       where x.chapter_id = p_chapter_id and x.plot_overview_id = plot.id),
      p_metadata || pg_catalog.jsonb_build_object('model', outputs ->> 'model', 'plot_version', plot.version));
  end if;
  return new_script_id;
end;
$$;
revoke all on function private.save_generated_script(uuid, uuid, public.script_style, jsonb, jsonb)
  from public, anon, authenticated;
grant execute on function private.save_generated_script(uuid, uuid, public.script_style, jsonb, jsonb) to service_role;
