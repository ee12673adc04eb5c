-- Content: books, their detected structure, chapters and chapter embeddings.
create type public.book_type as enum ('learning', 'entertainment');
create type public.book_status as enum ('draft', 'processing', 'ready', 'failed', 'published');
create type public.structure_type as enum ('chapters', 'parts_and_chapters', 'sections', 'fixed_parts');
create type public.extraction_method as enum ('toc', 'ai', 'manual');

create table public.books (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
  title text not null,
  author text,
  description text,
  cover_image_url text,
  book_type public.book_type not null default 'entertainment',
  genre text,
  language text not null default 'en',
  status public.book_status not null default 'draft',
  source_file_path text,
  source_file_type text,
  source_file_size bigint,
  total_chapters integer not null default 0,
  word_count integer not null default 0,
  estimated_duration_minutes integer,
  progress_percentage smallint not null default 0,
  processing_started_at timestamptz,
  processing_completed_at timestamptz,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint books_title_not_blank check (btrim(title) <> ''),
  constraint books_source_file_size_non_negative check (source_file_size >= 0),
  constraint books_total_chapters_non_negative check (total_chapters >= 0),
  constraint books_word_count_non_negative check (word_count >= 0),
  constraint books_duration_non_negative check (estimated_duration_minutes >= 0),
  constraint books_progress_range check (progress_percentage between 0 and 100),
  constraint books_processing_order check (processing_completed_at >= processing_started_at)
);
comment on table public.books is 'A book a user uploaded; processing status and totals are written by the ingest worker.';
create index books_user_id_created_at_idx on public.books (user_id, created_at desc);
create index books_status_idx on public.books (status) where status in ('processing', 'failed');

create table public.book_structure (
  id uuid primary key default gen_random_uuid(),
  book_id uuid not null references public.books (id) on delete cascade,
  structure_type public.structure_type not null,
  extraction_method public.extraction_method not null,
  has_parts boolean not null default false,
  has_chapters boolean not null default true,
  has_sections boolean not null default false,
  structure_data jsonb not null default '{}',
  confirmed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint book_structure_book_id_key unique (book_id)
);
comment on table public.book_structure is 'The detected (or owner-confirmed) outline of a book: one row per book.';

create table public.chapters (
  id uuid primary key default gen_random_uuid(),
  book_id uuid not null references public.books (id) on delete cascade,
  chapter_number integer not null,
  title text not null,
  part_title text,
  content text not null default '',
  summary text,
  word_count integer not null default 0,
  duration_minutes integer not null default 0,
  ai_content jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint chapters_book_id_chapter_number_key unique (book_id, chapter_number),
  constraint chapters_chapter_number_positive check (chapter_number > 0),
  constraint chapters_word_count_non_negative check (word_count >= 0),
  constraint chapters_duration_non_negative check (duration_minutes >= 0)
);
comment on table public.chapters is 'Chapters of a book with their text, summary and generated learning or story content.';

create table public.chapter_embeddings (
  id uuid primary key default gen_random_uuid(),
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  chunk_index integer not null default 0,
  content text not null,
  content_hash text not null,
  embedding extensions.vector(1536) not null,
  model text not null,
  dimensions integer not null default 1536,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint chapter_embeddings_chapter_chunk_key unique (chapter_id, chunk_index),
  constraint chapter_embeddings_chunk_index_non_negative check (chunk_index >= 0),
  constraint chapter_embeddings_dimensions check (dimensions = 1536)
);
comment on table public.chapter_embeddings is 'Embeddings (1536 dimensions) of chapter text for semantic search.';
-- Cosine ANN index; parameters chosen by the search benchmark (see README).
create index chapter_embeddings_embedding_hnsw_idx on public.chapter_embeddings
  using hnsw (embedding extensions.vector_cosine_ops) with (m = 16, ef_construction = 64);

create trigger books_set_updated_at before update on public.books
  for each row execute function private.set_updated_at();
create trigger book_structure_set_updated_at before update on public.book_structure
  for each row execute function private.set_updated_at();
create trigger chapters_set_updated_at before update on public.chapters
  for each row execute function private.set_updated_at();
create trigger chapter_embeddings_set_updated_at before update on public.chapter_embeddings
  for each row execute function private.set_updated_at();

-- Ids the caller owns, computed once per query; policies test membership with `in (select ...)`.
create or replace function private.owned_book_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$ select b.id from public.books b where b.user_id = (select auth.uid()) $$;

create or replace function private.owned_chapter_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select c.id from public.chapters c join public.books b on b.id = c.book_id
  where b.user_id = (select auth.uid())
$$;
revoke all on function private.owned_book_ids(), private.owned_chapter_ids() from public, anon;
grant execute on function private.owned_book_ids(), private.owned_chapter_ids() to authenticated, service_role;

-- Row level security: a book's owner reaches it and everything under it.
alter table public.books enable row level security;
alter table public.book_structure enable row level security;
alter table public.chapters enable row level security;
alter table public.chapter_embeddings enable row level security;

-- Processing state, totals and progress are the ingest worker's to write.
revoke insert, update on public.books from anon, authenticated;
grant insert (id, user_id, title, author, description, cover_image_url, book_type, genre, language,
  source_file_path, source_file_type, source_file_size, metadata) on public.books to authenticated;
grant update (title, author, description, cover_image_url, book_type, genre, language, metadata)
  on public.books to authenticated;
revoke insert, update, delete on public.book_structure from anon, authenticated;

create policy "owners read their books" on public.books
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners add books" on public.books
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "owners edit their books" on public.books
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "owners delete their books" on public.books
  for delete to authenticated using (user_id = (select auth.uid()));

create policy "owners read their book structure" on public.book_structure
  for select to authenticated
  using (book_id in (select private.owned_book_ids()));

create policy "owners read their chapters" on public.chapters
  for select to authenticated
  using (book_id in (select private.owned_book_ids()));
create policy "owners add chapters to their books" on public.chapters
  for insert to authenticated
  with check (book_id in (select private.owned_book_ids()));
create policy "owners edit their chapters" on public.chapters
  for update to authenticated
  using (book_id in (select private.owned_book_ids()))
  with check (book_id in (select private.owned_book_ids()));
create policy "owners delete their chapters" on public.chapters
  for delete to authenticated
  using (book_id in (select private.owned_book_ids()));

create policy "owners read their chapter embeddings" on public.chapter_embeddings
  for select to authenticated
  using (chapter_id in (select private.owned_chapter_ids()));
create policy "owners add embeddings to their chapters" on public.chapter_embeddings
  for insert to authenticated
  with check (chapter_id in (select private.owned_chapter_ids()));
create policy "owners edit their chapter embeddings" on public.chapter_embeddings
  for update to authenticated
  using (chapter_id in (select private.owned_chapter_ids()))
  with check (chapter_id in (select private.owned_chapter_ids()));
create policy "owners delete their chapter embeddings" on public.chapter_embeddings
  for delete to authenticated
  using (chapter_id in (select private.owned_chapter_ids()));
