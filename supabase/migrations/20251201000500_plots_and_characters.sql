-- Story: archetypes (reference data), plot overviews, characters, and plot-aware chapter scripts.
create type public.archetype_category as enum ('campbell', 'jung');
create type public.plot_status as enum ('active', 'archived');

create table public.character_archetypes (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  category public.archetype_category not null,
  description text not null,
  traits text[] not null default '{}',
  typical_roles text[] not null default '{}',
  example_characters text[] not null default '{}',
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint character_archetypes_name_key unique (name)
);
comment on table public.character_archetypes is 'Reference data: Campbell and Jung character archetypes assigned to characters.';

create table public.plot_overviews (
  id uuid primary key default gen_random_uuid(),
  book_id uuid not null references public.books (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  version integer not null default 1,
  status public.plot_status not null default 'active',
  logline text not null,
  themes text[] not null default '{}',
  story_type text,
  genre text,
  tone text,
  audience text,
  setting text,
  model_used text,
  user_edited boolean not null default false,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint plot_overviews_version_positive check (version > 0),
  constraint plot_overviews_book_version_key unique (book_id, version)
);
comment on table public.plot_overviews is 'Versions of a book''s plot overview; exactly one active, older ones archived.';
create unique index plot_overviews_one_active_per_book on public.plot_overviews (book_id) where status = 'active';
create index plot_overviews_user_id_idx on public.plot_overviews (user_id);

create table public.characters (
  id uuid primary key default gen_random_uuid(),
  plot_overview_id uuid not null references public.plot_overviews (id) on delete cascade,
  book_id uuid not null references public.books (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  archetype_id uuid references public.character_archetypes (id) on delete restrict,
  name text not null,
  role text not null default 'supporting',
  character_arc text,
  physical_description text,
  personality text,
  want text,
  need text,
  lie text,
  ghost text,
  voice_id text,
  image_url text,
  user_edited boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint characters_role_known check (role in ('protagonist', 'antagonist', 'deuteragonist', 'mentor',
    'love_interest', 'sidekick', 'supporting', 'minor')),
  constraint characters_plot_name_key unique (plot_overview_id, name)
);
comment on table public.characters is 'Characters of a plot overview with arc, psychology (want, need, lie, ghost) and archetype.';
create index characters_book_id_idx on public.characters (book_id);
create index characters_user_id_idx on public.characters (user_id);
create index characters_archetype_id_idx on public.characters (archetype_id);

create table public.chapter_scripts (
  id uuid primary key default gen_random_uuid(),
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  script_id uuid not null references public.scripts (id) on delete cascade,
  plot_overview_id uuid references public.plot_overviews (id) on delete set null,
  user_id uuid not null references public.profiles (id) on delete cascade,
  plot_enhanced boolean not null default false,
  character_enhanced boolean not null default false,
  acts jsonb not null default '[]',
  beats jsonb not null default '[]',
  character_arcs jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint chapter_scripts_script_id_key unique (script_id)
);
comment on table public.chapter_scripts is 'How a chapter''s script used the plot overview and characters (acts, beats, arcs).';
create index chapter_scripts_chapter_id_idx on public.chapter_scripts (chapter_id);
create index chapter_scripts_plot_overview_id_idx on public.chapter_scripts (plot_overview_id);
create index chapter_scripts_user_id_idx on public.chapter_scripts (user_id);

create trigger character_archetypes_set_updated_at before update on public.character_archetypes
  for each row execute function private.set_updated_at();
create trigger plot_overviews_set_updated_at before update on public.plot_overviews
  for each row execute function private.set_updated_at();
create trigger characters_set_updated_at before update on public.characters
  for each row execute function private.set_updated_at();
create trigger chapter_scripts_set_updated_at before update on public.chapter_scripts
  for each row execute function private.set_updated_at();

alter table public.character_archetypes enable row level security;
alter table public.plot_overviews enable row level security;
alter table public.characters enable row level security;
alter table public.chapter_scripts enable row level security;

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
  with check (user_id = (select auth.uid()) and chapter_id in (select private.owned_chapter_ids()));
create policy "owners edit their chapter scripts" on public.chapter_scripts
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()) and chapter_id in (select private.owned_chapter_ids()));
create policy "owners delete their chapter scripts" on public.chapter_scripts
  for delete to authenticated using (user_id = (select auth.uid()));

-- A character belongs to the plot overview's book; a chapter script's script is for that chapter.
create or replace function private.check_story_links()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_table_name = 'characters' then
    if not exists (select 1 from public.plot_overviews p where p.id = new.plot_overview_id and p.book_id = new.book_id) then
      raise exception 'character % belongs to a different book than its plot overview', new.name using errcode = '23514';
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
create trigger characters_check_links before insert or update of plot_overview_id, book_id on public.characters
  for each row execute function private.check_story_links();
create trigger chapter_scripts_check_links before insert or update of script_id, chapter_id on public.chapter_scripts
  for each row execute function private.check_story_links();
