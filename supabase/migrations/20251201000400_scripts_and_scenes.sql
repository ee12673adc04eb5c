-- Scripts generated from chapters and their scene breakdown.
create type public.script_style as enum ('cinematic', 'narration', 'educational');
create type public.time_of_day as enum ('dawn', 'morning', 'noon', 'afternoon', 'evening', 'night', 'unspecified');

create table public.scripts (
  id uuid primary key default gen_random_uuid(),
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  script_style public.script_style not null,
  title text not null,
  script text not null,
  characters text[] not null default '{}',
  scene_count integer not null default 0,
  model_used text,
  version integer not null default 1,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint scripts_scene_count_non_negative check (scene_count >= 0),
  constraint scripts_version_positive check (version > 0),
  constraint scripts_chapter_style_version_key unique (chapter_id, script_style, version)
);
comment on table public.scripts is 'A screenplay, narration or lesson script generated for a chapter in one style.';
create index scripts_user_id_idx on public.scripts (user_id);

create table public.scene_descriptions (
  id uuid primary key default gen_random_uuid(),
  script_id uuid not null references public.scripts (id) on delete cascade,
  scene_number integer not null,
  location text not null default 'unspecified',
  time_of_day public.time_of_day not null default 'unspecified',
  characters text[] not null default '{}',
  key_actions text[] not null default '{}',
  visual_description text not null,
  audio_requirements text,
  dialogue jsonb not null default '[]',
  narration text,
  estimated_duration_seconds numeric(8, 2),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint scene_descriptions_script_scene_key unique (script_id, scene_number),
  constraint scene_descriptions_scene_number_positive check (scene_number > 0),
  constraint scene_descriptions_duration_non_negative check (estimated_duration_seconds >= 0),
  constraint scene_descriptions_dialogue_is_array check (jsonb_typeof(dialogue) = 'array')
);
comment on table public.scene_descriptions is 'Scenes of a script: where, when, who, what happens, what it looks and sounds like.';

create trigger scripts_set_updated_at before update on public.scripts
  for each row execute function private.set_updated_at();
create trigger scene_descriptions_set_updated_at before update on public.scene_descriptions
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

alter table public.scripts enable row level security;
alter table public.scene_descriptions enable row level security;

create policy "owners read their scripts" on public.scripts
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners add scripts to their chapters" on public.scripts
  for insert to authenticated
  with check (user_id = (select auth.uid()) and chapter_id in (select private.owned_chapter_ids()));
create policy "owners edit their scripts" on public.scripts
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()) and chapter_id in (select private.owned_chapter_ids()));
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
