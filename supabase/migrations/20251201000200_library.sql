-- Library: books, their structure, chapters, chapter and passage embeddings; ingestion through the
-- ingest and embed queues; semantic search over the caller's passages.
create type public.book_type as enum ('learning', 'entertainment');
create type public.book_status as enum ('draft', 'processing', 'ready', 'failed');
-- linear: no usable chapter markers (cut into parts); chapters: one level; mixed: parts or volumes of chapters.
create type public.book_structure_type as enum ('linear', 'chapters', 'mixed');
create type public.extraction_method as enum ('ai', 'manual', 'toc');

create table public.books (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid(),
  title text not null,
  author text,
  description text,
  book_type public.book_type not null default 'entertainment',
  structure_type public.book_structure_type not null default 'linear',
  genre text,
  language text not null default 'en',
  status public.book_status not null default 'draft',
  -- The uploaded file: its object name in the `books` bucket (`<user_id>/...`).
  file_url text,
  cover_url text,
  source_file_type text,
  source_file_size bigint,
  total_chapters integer not null default 0,
  word_count integer not null default 0,
  estimated_duration_minutes integer,
  progress_percentage smallint not null default 0,
  metadata jsonb not null default '{}',
  -- Fingerprint of the book's text as processed (private.text_fingerprint of its chapters), taken when
  -- it becomes ready: the same text uploaded again is the same book to rewards.
  content_hash text,
  processing_started_at timestamptz,
  processing_completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint fk_books_user foreign key (user_id) references public.profiles (id) on delete cascade,
  constraint books_title_not_blank check (btrim(title) <> ''),
  constraint books_file_url_is_object_name check (file_url is null or private.is_safe_object_name(file_url)),
  constraint books_title_length check (char_length(title) <= 500),
  constraint books_source_file_size_non_negative check (source_file_size >= 0),
  constraint books_total_chapters_non_negative check (total_chapters >= 0),
  constraint books_word_count_non_negative check (word_count >= 0),
  constraint books_duration_non_negative check (estimated_duration_minutes >= 0),
  constraint books_progress_range check (progress_percentage between 0 and 100),
  constraint books_processing_order check (processing_completed_at >= processing_started_at)
);
comment on table public.books is 'A book a user uploaded; processing status and totals are written by the ingest worker.';
create index idx_books_user_id on public.books (user_id);
create index idx_books_status on public.books (status);
create index idx_books_created_at on public.books (created_at desc);
create index idx_books_user_type on public.books (user_id, book_type);
-- "My books, newest first" (the library screen) in one index scan.
create index books_user_id_created_at_idx on public.books (user_id, created_at desc);

create table public.book_structure (
  id uuid primary key default gen_random_uuid(),
  book_id uuid not null references public.books (id) on delete cascade,
  -- Format, detector, parts and chapter list as detected; `confirmed` holds the owner's corrections.
  structure_data jsonb not null default '{}',
  extraction_method public.extraction_method not null,
  confirmed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint book_structure_book_id_key unique (book_id)
);
comment on table public.book_structure is 'The detected (or owner-confirmed) outline of a book: one row per book.';

create table public.chapters (
  id uuid primary key default gen_random_uuid(),
  book_id uuid not null,
  chapter_number integer not null,
  title text not null,
  part_title text,
  content text not null default '',
  summary text,
  -- Estimated reading time in minutes (238 words a minute, rounded up).
  duration integer not null default 0,
  word_count integer not null default 0,
  ai_content jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint fk_chapters_book foreign key (book_id) references public.books (id) on delete cascade,
  constraint unique_chapter_number unique (book_id, chapter_number),
  constraint check_positive_number check (chapter_number > 0),
  constraint chapters_title_length check (char_length(title) <= 500),
  constraint chapters_word_count_non_negative check (word_count >= 0),
  constraint chapters_duration_non_negative check (duration >= 0)
);
comment on table public.chapters is 'Chapters of a book with their text, summary and generated learning or story content.';
-- idx_chapters_number and idx_chapters_book_number of the ERD are this table's unique_chapter_number.
create index idx_chapters_book_id on public.chapters (book_id);

-- One vector per chapter (the normalised mean of its passages' vectors), as the ERD has it.
create table public.chapter_embeddings (
  id uuid primary key default gen_random_uuid(),
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  embedding extensions.vector(1536) not null,
  embedding_model text not null,
  dimension integer not null default 1536,
  content_hash text not null,
  passage_count integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint chapter_embeddings_chapter_id_key unique (chapter_id),
  constraint chapter_embeddings_dimension check (dimension = 1536),
  constraint chapter_embeddings_passage_count_non_negative check (passage_count >= 0)
);
comment on table public.chapter_embeddings is 'One embedding (1536 dimensions) per chapter: the normalised mean of its passages.';
create index chapter_embeddings_user_id_idx on public.chapter_embeddings (user_id);
-- HNSW instead of the ERD's ivfflat (lists = 100): ivfflat learns its lists from the rows present when
-- it is built, which for a migration is an empty table.
create index idx_chapter_embeddings_vector on public.chapter_embeddings
  using hnsw (embedding extensions.vector_cosine_ops) with (m = 16, ef_construction = 200);

-- Passages of about 400 words and their vectors: what search ranks. Partitioned by owner (a fixed
-- number of hash partitions, in the private schema: clients reach them only through this table and its
-- row level security), so that a large library's own search index sits on a partition shared with few
-- other users. Keys include the partition key (user_id), as partitioning requires.
create table public.chapter_passages (
  id uuid not null default gen_random_uuid(),
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  -- The owner (the chapter's book's owner). It chooses the partition before any trigger runs, so it
  -- is written with the row: clients' rows default to themselves, the embed worker names the owner.
  user_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
  passage_index integer not null,
  content text not null,
  content_hash text not null,
  embedding extensions.vector(1536) not null,
  -- A half-precision copy kept in the row itself (the full vector lives in TOAST, which costs a lookup
  -- per row): what exact search reads and what a library's HNSW index holds.
  embedding_half extensions.halfvec(1536) generated always as (embedding::extensions.halfvec(1536)) stored,
  embedding_model text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint chapter_passages_pkey primary key (id, user_id),
  -- chapter_id first: a chapter's passages (and the cascade from chapters) are found by this index.
  constraint chapter_passages_chapter_passage_key unique (chapter_id, passage_index, user_id),
  constraint chapter_passages_passage_index_non_negative check (passage_index >= 0)
) partition by hash (user_id);
comment on table public.chapter_passages is 'Passages of chapters with their embeddings (1536 dimensions), for semantic search.';
alter table public.chapter_passages alter column embedding_half set storage plain;
-- 64 partitions (see README, Choosing the ANN index).
do $$
begin
  for remainder in 0..63 loop
    execute pg_catalog.format('create table private.%I partition of public.chapter_passages
      for values with (modulus 64, remainder %s)', 'chapter_passages_p' || pg_catalog.lpad(remainder::text, 2, '0'), remainder);
    execute pg_catalog.format('alter table private.%I enable row level security',
      'chapter_passages_p' || pg_catalog.lpad(remainder::text, 2, '0'));
    execute pg_catalog.format('revoke all on private.%I from public, anon, authenticated',
      'chapter_passages_p' || pg_catalog.lpad(remainder::text, 2, '0'));
  end loop;
end;
$$;
create index chapter_passages_user_id_idx on public.chapter_passages (user_id);
-- No HNSW index over everyone's passages: a library is searched exactly up to
-- private.library_index_threshold() passages, and a larger one through an HNSW index of its own
-- (private.library_index_work builds it; see Search below).

create trigger books_set_updated_at before update on public.books
  for each row execute function private.set_updated_at();
create trigger book_structure_set_updated_at before update on public.book_structure
  for each row execute function private.set_updated_at();
create trigger chapters_set_updated_at before update on public.chapters
  for each row execute function private.set_updated_at();
create trigger chapter_embeddings_set_updated_at before update on public.chapter_embeddings
  for each row execute function private.set_updated_at();
create trigger chapter_passages_set_updated_at before update on public.chapter_passages
  for each row execute function private.set_updated_at();

-- SHA-256 (hex) of a text with case, Unicode composition and runs of white space evened out, so
-- that the same words extracted twice give the same fingerprint.
create or replace function private.text_fingerprint(body text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
    pg_catalog.btrim(pg_catalog.regexp_replace(pg_catalog.lower(pg_catalog.normalize(coalesce(body, ''), 'NFC')),
      '\s+', ' ', 'g')), 'UTF8')), 'hex')
$$;
revoke all on function private.text_fingerprint(text) from public, anon, authenticated;

-- A book becoming ready takes the fingerprint of its chapters' text, whoever sets the status.
create or replace function private.take_book_content_hash()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select private.text_fingerprint(pg_catalog.string_agg(c.content, ' ' order by c.chapter_number))
  into new.content_hash
  from public.chapters c where c.book_id = new.id;
  return new;
end;
$$;
revoke all on function private.take_book_content_hash() from public, anon, authenticated;
create trigger books_take_content_hash before update of status on public.books
  for each row when (new.status = 'ready' and old.status is distinct from 'ready')
  execute function private.take_book_content_hash();

-- The owner of a chapter's vector always comes from the chapter's book, whoever writes the row.
create or replace function private.set_embedding_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select b.user_id into new.user_id from public.chapters c join public.books b on b.id = c.book_id
  where c.id = new.chapter_id;
  return new;
end;
$$;
revoke all on function private.set_embedding_owner() from public, anon, authenticated;
create trigger chapter_embeddings_set_owner before insert or update of chapter_id, user_id on public.chapter_embeddings
  for each row execute function private.set_embedding_owner();
-- A passage's partition is chosen by its user_id before triggers run, so its owner cannot be set here
-- as for chapter vectors: a row naming anyone but the chapter's owner is refused.
create or replace function private.check_passage_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner uuid;
begin
  select b.user_id into owner from public.chapters c join public.books b on b.id = c.book_id
  where c.id = new.chapter_id;
  if owner is not null and new.user_id is distinct from owner then
    raise exception 'passages are partitioned by owner: user_id must be the owner of the chapter''s book'
      using errcode = '42501', hint = 'insert passages with user_id set to the book''s owner (clients: leave it out)';
  end if;
  return new;
end;
$$;
revoke all on function private.check_passage_owner() from public, anon, authenticated;
create trigger chapter_passages_check_owner before insert or update of chapter_id, user_id on public.chapter_passages
  for each row execute function private.check_passage_owner();

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
alter table public.chapter_passages enable row level security;

-- Processing state, totals and progress are the ingest worker's to write.
revoke insert, update on public.books from anon, authenticated;
grant insert (id, user_id, title, author, description, book_type, genre, language, file_url, cover_url,
  source_file_type, source_file_size, metadata) on public.books to authenticated;
grant update (title, author, description, book_type, genre, language, cover_url, metadata)
  on public.books to authenticated;
revoke insert, update, delete on public.book_structure from anon, authenticated;
-- Owners write a chapter's text; what is derived from it (summary, counts, learning content with its
-- quiz) is the ingest worker's. A quiz's answers are kept apart from it (rewards: quiz_answer_keys).
revoke insert, update on public.chapters from anon, authenticated;
grant insert (id, book_id, chapter_number, title, part_title, content) on public.chapters to authenticated;
grant update (chapter_number, title, part_title, content) on public.chapters to authenticated;

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
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners add embeddings to their chapters" on public.chapter_embeddings
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "owners edit their chapter embeddings" on public.chapter_embeddings
  for update to authenticated using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "owners delete their chapter embeddings" on public.chapter_embeddings
  for delete to authenticated using (user_id = (select auth.uid()));

-- Passages are the embed worker's (derived from a chapter's text; writing them also decides when a
-- library gets an index of its own): owners read them.
revoke insert, update, delete on public.chapter_passages from anon, authenticated;
create policy "owners read their passages" on public.chapter_passages
  for select to authenticated using (user_id = (select auth.uid()));

-- Clients watch a book being processed.
alter publication supabase_realtime add table public.books;

-- Ingestion ---------------------------------------------------------------------------------------
select pgmq.create(q) from unnest(array['ingest', 'embed']) as q
where not exists (select 1 from pgmq.list_queues() l where l.queue_name = q);

-- Client RPC: start (or restart after a failure) the ingestion of an uploaded book.
create or replace function public.process_book(book_id uuid)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  book public.books;
begin
  if (select auth.uid()) is null then
    raise exception 'sign in to process books' using errcode = '42501';
  end if;
  perform private.take_rate_limit('process_book');
  select * into book from public.books b where b.id = process_book.book_id for update;
  if not found or book.user_id <> (select auth.uid()) then
    raise exception 'book % not found among yours', process_book.book_id using errcode = 'P0002';
  end if;
  if book.status not in ('draft', 'failed') then
    raise exception 'book % is %; only a draft or failed book can be processed', book.id, book.status
      using errcode = 'LT006';
  end if;
  if book.file_url is null then
    raise exception 'book % has no uploaded file: upload it to the books bucket and set file_url', book.id
      using errcode = '22023';
  end if;
  if pg_catalog.split_part(book.file_url, '/', 1) <> book.user_id::text then
    raise exception 'the book file must be under your own folder (%/...)', book.user_id using errcode = '42501';
  end if;
  -- The object must be one this user uploaded (Storage records the uploader as its owner).
  if not exists (select 1 from storage.objects o where o.bucket_id = 'books' and o.name = book.file_url
                 and (o.owner_id = book.user_id::text or o.owner = book.user_id)) then
    raise exception 'books/% is not among your uploads: upload the file, then process the book', book.file_url
      using errcode = 'P0002';
  end if;
  update public.books b
  set status = 'processing', progress_percentage = 0, processing_started_at = pg_catalog.now(),
      processing_completed_at = null, metadata = b.metadata - 'error'
  where b.id = book.id;
  perform pgmq.send('ingest', pg_catalog.jsonb_build_object('book_id', book.id));
  perform private.wake_queue_workers('ingest');
  return book.id;
end;
$$;

-- Worker: progress of a book being ingested (never backwards, only while processing).
create or replace function private.set_book_progress(p_book_id uuid, p_percentage integer)
returns void
language sql
security definer
set search_path = ''
as $$
  update public.books b set progress_percentage = greatest(b.progress_percentage, least(p_percentage, 99))
  where b.id = p_book_id and b.status = 'processing';
$$;

-- Worker: the extracted book. Chapters, structure, totals and the message deletion commit together.
-- Returns false (and only drops the message) when the book is no longer being processed.
create or replace function private.complete_book_ingest(
  p_msg_id bigint,
  p_book_id uuid,
  p_structure jsonb,
  p_chapters jsonb
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  book public.books;
  chapter_count integer := pg_catalog.jsonb_array_length(p_chapters);
begin
  select * into book from public.books b where b.id = p_book_id for update;
  if not found or book.status <> 'processing' then
    perform pgmq.delete('ingest', p_msg_id);
    return false;
  end if;
  if chapter_count = 0 or chapter_count > 1000 then
    raise exception 'a book needs 1 to 1000 chapters, this one has %', chapter_count using errcode = '22023';
  end if;

  delete from public.chapters c where c.book_id = p_book_id;
  insert into public.chapters (book_id, chapter_number, title, part_title, content, summary, word_count, duration, ai_content)
  select p_book_id, (c ->> 'chapter_number')::integer, c ->> 'title', c ->> 'part_title', c ->> 'content',
    c ->> 'summary', (c ->> 'word_count')::integer, (c ->> 'duration')::integer, coalesce(c -> 'ai_content', '{}')
  from pg_catalog.jsonb_array_elements(p_chapters) c;

  insert into public.book_structure (book_id, extraction_method, structure_data, confirmed_at)
  values (p_book_id, (p_structure ->> 'extraction_method')::public.extraction_method, p_structure, null)
  on conflict (book_id) do update
    set extraction_method = excluded.extraction_method, structure_data = excluded.structure_data, confirmed_at = null;

  update public.books b
  set status = 'ready', progress_percentage = 100, processing_completed_at = pg_catalog.now(),
      total_chapters = chapter_count,
      structure_type = (p_structure ->> 'structure_type')::public.book_structure_type,
      word_count = (select coalesce(pg_catalog.sum((c ->> 'word_count')::integer), 0)
                    from pg_catalog.jsonb_array_elements(p_chapters) c),
      estimated_duration_minutes = (select coalesce(pg_catalog.sum((c ->> 'duration')::integer), 0)
                                    from pg_catalog.jsonb_array_elements(p_chapters) c),
      source_file_type = coalesce(p_structure ->> 'format', b.source_file_type),
      metadata = b.metadata - 'error'
  where b.id = p_book_id;
  perform pgmq.delete('ingest', p_msg_id);
  return true;
end;
$$;

-- Worker: the book cannot be ingested. The error goes to the row; the message to the archive.
create or replace function private.fail_book_ingest(p_msg_id bigint, p_book_id uuid, p_error text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.books b
  set status = 'failed', processing_completed_at = pg_catalog.now(),
      metadata = b.metadata || pg_catalog.jsonb_build_object('error',
        pg_catalog.jsonb_build_object('message', p_error, 'at', pg_catalog.now()))
  where b.id = p_book_id and b.status = 'processing';
  perform pgmq.archive('ingest', p_msg_id);
end;
$$;

-- Client RPC: the owner's corrections to the detected chapters. `structure` is a JSON array, in the
-- new order, of {"title": t, "chapters": [n, ...]} (rename; merge when several) or
-- {"title": t, "chapter": n, "paragraphs": [from, to]} (split: a 1-based paragraph range of one chapter).
-- Chapters left out are dropped.
create or replace function public.confirm_book_structure(book_id uuid, structure jsonb)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  book public.books;
  entry jsonb;
  entry_number integer := 0;
  new_chapters jsonb := '[]';
  title text;
  body text;
  words integer;
begin
  if (select auth.uid()) is null then
    raise exception 'sign in to edit books' using errcode = '42501';
  end if;
  select * into book from public.books b where b.id = confirm_book_structure.book_id for update;
  if not found or book.user_id <> (select auth.uid()) then
    raise exception 'book % not found among yours', confirm_book_structure.book_id using errcode = 'P0002';
  end if;
  if book.status <> 'ready' then
    raise exception 'book % is %; its structure can be confirmed once it is ready', book.id, book.status
      using errcode = 'LT006';
  end if;
  if pg_catalog.jsonb_typeof(structure) is distinct from 'array' or pg_catalog.jsonb_array_length(structure) = 0 then
    raise exception 'structure must be a non-empty JSON array of chapters' using errcode = '22023';
  end if;
  if exists (select 1 from public.video_generations g join public.chapters c on c.id = g.chapter_id
             where c.book_id = book.id) then
    raise exception 'book % already has videos; its chapters cannot be restructured', book.id using errcode = 'LT007';
  end if;

  for entry in select e from pg_catalog.jsonb_array_elements(structure) e loop
    entry_number := entry_number + 1;
    title := pg_catalog.btrim(entry ->> 'title');
    if title is null or title = '' then
      raise exception 'entry % has no title', entry_number using errcode = '22023';
    end if;
    if entry ? 'chapters' then
      select pg_catalog.string_agg(c.content, E'\n\n' order by n.ord) into body
      from pg_catalog.jsonb_array_elements_text(entry -> 'chapters') with ordinality n (number, ord)
      join public.chapters c on c.book_id = book.id and c.chapter_number = n.number::integer;
      if body is null or (select pg_catalog.count(*) from pg_catalog.jsonb_array_elements(entry -> 'chapters'))
           <> (select pg_catalog.count(*) from public.chapters c where c.book_id = book.id and c.chapter_number in
                (select n::integer from pg_catalog.jsonb_array_elements_text(entry -> 'chapters') n)) then
        raise exception 'entry % names a chapter the book does not have', entry_number using errcode = '22023';
      end if;
    elsif entry ? 'chapter' and entry ? 'paragraphs' then
      select pg_catalog.string_agg(p.paragraph, E'\n\n' order by p.ord) into body
      from public.chapters c,
        pg_catalog.regexp_split_to_table(pg_catalog.btrim(c.content), E'\\n\\s*\\n') with ordinality p (paragraph, ord)
      where c.book_id = book.id and c.chapter_number = (entry ->> 'chapter')::integer
        and p.ord between (entry -> 'paragraphs' ->> 0)::integer and (entry -> 'paragraphs' ->> 1)::integer;
      if body is null then
        raise exception 'entry % selects no paragraphs of chapter %', entry_number, entry ->> 'chapter' using errcode = '22023';
      end if;
    elsif entry ? 'matter' then
      -- Front or back matter the ingest kept out of the chapters (title page, contents, index).
      select s.structure_data -> 'matter' -> (entry ->> 'matter')::integer ->> 'content' into body
      from public.book_structure s where s.book_id = book.id;
      if body is null or pg_catalog.btrim(body) = '' then
        raise exception 'entry % names matter the book does not have', entry_number using errcode = '22023';
      end if;
    else
      raise exception 'entry % needs "chapters": [n, ...], "chapter": n with "paragraphs": [from, to], or "matter": n',
        entry_number using errcode = '22023';
    end if;
    words := coalesce(pg_catalog.array_length(pg_catalog.regexp_split_to_array(pg_catalog.btrim(body), E'\\s+'), 1), 0);
    new_chapters := new_chapters || pg_catalog.jsonb_build_object('chapter_number', entry_number, 'title', title,
      'content', body, 'word_count', words, 'duration', pg_catalog.ceil(words / 238.0)::integer, 'source', entry);
  end loop;

  delete from public.chapters c where c.book_id = book.id;
  insert into public.chapters (book_id, chapter_number, title, content, word_count, duration)
  select book.id, (c ->> 'chapter_number')::integer, c ->> 'title', c ->> 'content', (c ->> 'word_count')::integer,
    (c ->> 'duration')::integer
  from pg_catalog.jsonb_array_elements(new_chapters) c;
  update public.book_structure s
  set extraction_method = 'manual', confirmed_at = pg_catalog.now(),
      structure_data = s.structure_data || pg_catalog.jsonb_build_object('confirmed', structure)
  where s.book_id = book.id;
  update public.books b
  set total_chapters = entry_number,
      word_count = (select coalesce(pg_catalog.sum((c ->> 'word_count')::integer), 0) from pg_catalog.jsonb_array_elements(new_chapters) c),
      estimated_duration_minutes = (select coalesce(pg_catalog.sum((c ->> 'duration')::integer), 0)
                                    from pg_catalog.jsonb_array_elements(new_chapters) c)
  where b.id = book.id;
  return entry_number;
end;
$$;

-- Every new or changed chapter is (re-)embedded.
create or replace function private.enqueue_chapter_embedding()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if pg_catalog.btrim(new.content) <> '' then
    perform pgmq.send('embed', pg_catalog.jsonb_build_object('chapter_id', new.id));
    perform private.wake_queue_workers('embed');
  end if;
  return null;
end;
$$;
create trigger chapters_enqueue_embedding after insert or update of content on public.chapters
  for each row execute function private.enqueue_chapter_embedding();

revoke all on function public.process_book(uuid), public.confirm_book_structure(uuid, jsonb) from public, anon;
grant execute on function public.process_book(uuid), public.confirm_book_structure(uuid, jsonb) to authenticated;
revoke all on function private.set_book_progress(uuid, integer), private.complete_book_ingest(bigint, uuid, jsonb, jsonb),
  private.fail_book_ingest(bigint, uuid, text), private.enqueue_chapter_embedding() from public, anon, authenticated;
grant execute on function private.set_book_progress(uuid, integer), private.complete_book_ingest(bigint, uuid, jsonb, jsonb),
  private.fail_book_ingest(bigint, uuid, text) to service_role;

-- Embeddings --------------------------------------------------------------------------------------

-- Worker: the passages of one chapter and the chapter's vector (their normalised mean). Skips (only
-- drops the message) when the chapter changed since the worker read it: the change queued its own
-- message. Re-running replaces rows in place.
create or replace function private.save_chapter_embeddings(
  p_msg_id bigint,
  p_chapter_id uuid,
  p_content_hash text,
  p_model text,
  p_passages jsonb
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  current_hash text;
  owner uuid;
  threshold integer;
begin
  select pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(c.content, 'UTF8')), 'hex'), b.user_id
  into current_hash, owner
  from public.chapters c join public.books b on b.id = c.book_id where c.id = p_chapter_id for share of c;
  if current_hash is distinct from p_content_hash then
    perform pgmq.delete('embed', p_msg_id);
    return false;
  end if;
  -- The owner is named on every statement: it routes the rows and confines each one to one partition.
  delete from public.chapter_passages p
  where p.user_id = owner and p.chapter_id = p_chapter_id
    and p.passage_index >= pg_catalog.jsonb_array_length(p_passages);
  insert into public.chapter_passages (chapter_id, user_id, passage_index, content, content_hash, embedding, embedding_model)
  select p_chapter_id, owner, (c ->> 'passage_index')::integer, c ->> 'content', p_content_hash,
    (c ->> 'embedding')::extensions.vector, p_model
  from pg_catalog.jsonb_array_elements(p_passages) c
  on conflict (chapter_id, passage_index, user_id) do update
    set content = excluded.content, content_hash = excluded.content_hash, embedding = excluded.embedding,
        embedding_model = excluded.embedding_model;
  insert into public.chapter_embeddings (chapter_id, embedding, embedding_model, dimension, content_hash, passage_count)
  select p_chapter_id, extensions.l2_normalize(extensions.avg(p.embedding)), p_model, 1536, p_content_hash,
    pg_catalog.count(*)
  from public.chapter_passages p where p.user_id = owner and p.chapter_id = p_chapter_id
  having pg_catalog.count(*) > 0
  on conflict (chapter_id) do update
    set embedding = excluded.embedding, embedding_model = excluded.embedding_model, content_hash = excluded.content_hash,
        passage_count = excluded.passage_count;
  -- A library that has just reached the size for an index of its own gets one built.
  threshold := private.library_index_threshold();
  if private.library_index_relation(owner) is null
     and (select pg_catalog.count(*) from (select 1 from public.chapter_passages p where p.user_id = owner
                                           limit threshold) s) >= threshold then
    perform private.request_library_index_work(owner);
  end if;
  perform pgmq.delete('embed', p_msg_id);
  return true;
end;
$$;
revoke all on function private.save_chapter_embeddings(bigint, uuid, text, text, jsonb) from public, anon, authenticated;
grant execute on function private.save_chapter_embeddings(bigint, uuid, text, text, jsonb) to service_role;

-- Search ------------------------------------------------------------------------------------------
-- A library (one user's passages) is ranked exactly up to library_index_threshold() passages: exact
-- distance over the in-row half-precision copies costs 1 to 3 microseconds a passage, complete and
-- exactly ordered however many other users share the database. A larger library gets an HNSW index of
-- its own: a partial index on its partition holding only its passages, so that a search never walks
-- past other users' vectors. The embed worker builds it (CREATE INDEX CONCURRENTLY, outside any
-- transaction) when private.library_index_work says so; see README, Choosing the ANN index.

create table private.search_settings (
  singleton boolean primary key default true constraint search_settings_one_row check (singleton),
  -- Libraries of this many passages or more get an index of their own (5,000: see README).
  library_index_threshold integer not null constraint search_settings_threshold_positive check (library_index_threshold > 1)
);
comment on table private.search_settings is 'How search treats libraries by size (one row).';
alter table private.search_settings enable row level security;
insert into private.search_settings (library_index_threshold) values (5000);

create or replace function private.library_index_threshold()
returns integer
language sql
stable
set search_path = ''
as $$ select s.library_index_threshold from private.search_settings s $$;

create or replace function private.library_index_name(p_user uuid)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$ select 'chapter_passages_library_' || pg_catalog.replace(p_user::text, '-', '') $$;

-- The library's own index whatever its state (being built, invalid, usable), else null.
create or replace function private.library_index_relation(p_user uuid)
returns regclass
language sql
stable
set search_path = ''
as $$ select pg_catalog.to_regclass('private.' || private.library_index_name(p_user)) $$;

-- The library's own HNSW index when it is built and usable, else null.
create or replace function private.library_index(p_user uuid)
returns regclass
language sql
stable
set search_path = ''
as $$
  select x.indexrelid::regclass from pg_catalog.pg_index x
  where x.indexrelid = private.library_index_relation(p_user) and x.indisvalid and x.indisready
$$;

-- Whether the library's index is being built right now (CREATE INDEX CONCURRENTLY under way).
create or replace function private.library_index_building(p_user uuid)
returns boolean
language sql
stable
set search_path = ''
as $$
  select exists (select 1 from pg_catalog.pg_stat_progress_create_index s
                 where s.index_relid = private.library_index_relation(p_user))
$$;
-- The owners of the libraries that have an index of their own, usable or not.
create or replace function private.library_index_owners()
returns setof uuid
language sql
stable
set search_path = ''
as $$
  select pg_catalog.regexp_replace(c.relname, '^chapter_passages_library_', '')::uuid
  from pg_catalog.pg_class c
  where c.relnamespace = 'private'::regnamespace and c.relkind = 'i' and c.relname like 'chapter\_passages\_library\_%'
$$;
revoke all on function private.library_index_threshold(), private.library_index_owners(),
  private.library_index_building(uuid) from public, anon, authenticated;
grant execute on function private.library_index_threshold(), private.library_index_owners(),
  private.library_index_building(uuid) to service_role;
revoke all on function private.library_index_name(uuid), private.library_index_relation(uuid), private.library_index(uuid)
  from public, anon;
grant execute on function private.library_index_name(uuid), private.library_index_relation(uuid), private.library_index(uuid)
  to authenticated, service_role;

-- What brings a library's index to its right state: the DDL to run, in order, each statement on its
-- own outside a transaction (CREATE INDEX CONCURRENTLY cannot run in one, and does not block writes).
-- A library of library_index_threshold() passages or more gets its index; one that falls under half
-- of that loses it. Raises 55006 while the index is being built (try again later).
create or replace function private.library_index_work(p_user uuid)
returns setof text
language plpgsql
security definer
set search_path = ''
as $$
declare
  index_name text := private.library_index_name(p_user);
  existing regclass := private.library_index_relation(p_user);
  usable boolean := private.library_index(p_user) is not null;
  threshold integer := private.library_index_threshold();
  passages integer;
  partition regclass;
begin
  if private.library_index_building(p_user) then
    raise exception 'the search index of library % is being built', p_user using errcode = '55006';
  end if;
  select pg_catalog.count(*) into passages
  from (select 1 from public.chapter_passages p where p.user_id = p_user limit threshold) s;
  if passages >= threshold or (usable and passages >= threshold / 2) then
    if usable then
      return;
    end if;
    if existing is not null then -- left invalid by a build that did not finish
      return next pg_catalog.format('drop index concurrently if exists private.%I', index_name);
    end if;
    select p.tableoid::regclass into partition from public.chapter_passages p where p.user_id = p_user limit 1;
    if partition is null then -- emptied meanwhile
      return;
    end if;
    -- m = 8, ef_construction = 200 as measured by the search benchmarks (see README).
    return next pg_catalog.format(
      'create index concurrently if not exists %I on %s using hnsw (embedding_half extensions.halfvec_cosine_ops) '
      'with (m = 8, ef_construction = 200) where user_id = %L', index_name, partition, p_user);
  elsif existing is not null then
    return next pg_catalog.format('drop index concurrently if exists private.%I', index_name);
  end if;
end;
$$;
revoke all on function private.library_index_work(uuid) from public, anon, authenticated;
grant execute on function private.library_index_work(uuid) to service_role;

-- Asks the embed worker to look after a library's index (a message the worker handles with
-- private.library_index_work).
create or replace function private.request_library_index_work(p_user uuid)
returns void
language sql
security definer
set search_path = ''
as $$
  select pgmq.send('embed', pg_catalog.jsonb_build_object('library_index', p_user));
  select private.wake_queue_workers('embed');
$$;
revoke all on function private.request_library_index_work(uuid) from public, anon, authenticated;
grant execute on function private.request_library_index_work(uuid) to service_role;

-- pg_cron's sweep: a message for every library that should have an index and has no usable one
-- (none yet, or one a build that died left invalid: a message is also sent when a save reaches the
-- threshold), and for every index whose library shrank under half the threshold or was deleted.
-- Library sizes are summed from chapter_embeddings.passage_count (a row per chapter, not per passage);
-- the worker counts again. Returns how many messages it sent.
create or replace function private.queue_library_index_work()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  threshold integer := private.library_index_threshold();
  owner uuid;
  queued integer := 0;
begin
  for owner in
    with indexed as (
      select i.owner, private.library_index(i.owner) is not null as usable,
        private.library_index_building(i.owner) as building
      from private.library_index_owners() i (owner)
    )
    select e.user_id from public.chapter_embeddings e
    group by e.user_id having pg_catalog.sum(e.passage_count) >= threshold
    except
    select x.owner from indexed x where x.usable or x.building
    union
    select x.owner from indexed x where not x.usable and not x.building
    union
    select x.owner from indexed x
    where x.usable
      and (select pg_catalog.count(*) from (select 1 from public.chapter_passages p where p.user_id = x.owner
                                             limit threshold / 2) s) < threshold / 2
  loop
    perform private.request_library_index_work(owner);
    queued := queued + 1;
  end loop;
  return queued;
end;
$$;
revoke all on function private.queue_library_index_work() from public, anon, authenticated;
grant execute on function private.queue_library_index_work() to service_role;

-- The p_chapters chapters nearest to a query (or all the library has), through the caller's library's
-- own index: its nearest passages are read (at least hnsw.ef_search of them, what the scan's first pass
-- finds anyway, and only roughly in order: they are ranked again), and more, from a new scan, only
-- when they hold too few chapters. Null past 20,000 passages (chapters of hundreds of passages each):
-- the caller then searches exactly. Security invoker: the caller's row level security applies. Planned
-- per call with the library named, so that its partition and its partial index are chosen.
create or replace function private.nearest_library_chapters(
  p_query extensions.halfvec(1536),
  p_user uuid,
  p_chapters integer
)
returns uuid[]
language plpgsql
stable
set search_path = ''
set hnsw.ef_search = 400
set hnsw.iterative_scan = 'relaxed_order'
set enable_sort = off -- with a large limit the planner would rather sort the whole library
set jit = off -- what that adds to the plan's cost would have it compiled (100 ms) for a 10 ms query
as $$
declare
  wanted integer := greatest(p_chapters * 4, pg_catalog.current_setting('hnsw.ef_search')::integer);
  returned integer;
  chapters uuid[];
begin
  loop
    execute pg_catalog.format($q$
      with nearest as materialized (
        select p.chapter_id, p.embedding_half operator(extensions.<=>) $1 as distance
        from public.chapter_passages p
        where p.user_id = %L::uuid
        order by p.embedding_half operator(extensions.<=>) $1
        limit %s
      )
      select (select pg_catalog.count(*)::integer from nearest),
        array(select n.chapter_id from nearest n group by n.chapter_id order by pg_catalog.min(n.distance) limit %s) $q$,
      p_user, wanted, p_chapters)
      into returned, chapters using p_query;
    if pg_catalog.cardinality(chapters) >= p_chapters or returned < wanted then
      return chapters;
    end if;
    if wanted >= 20000 then
      return null;
    end if;
    wanted := least(wanted * 4, 20000);
  end loop;
end;
$$;
revoke all on function private.nearest_library_chapters(extensions.halfvec, uuid, integer) from public, anon;
grant execute on function private.nearest_library_chapters(extensions.halfvec, uuid, integer) to authenticated, service_role;

-- Client RPC: the caller's chapters nearest to a query embedding, best first, with cosine similarity,
-- ranked by each chapter's best passage. Candidates are chosen by half-precision distance (exactly,
-- or through the library's own index when it has one; a book is always searched exactly), five
-- chapters more than asked, then ranked at full precision. Security invoker: the caller's row level
-- security applies.
create or replace function public.match_chapters(
  query_embedding extensions.vector(1536),
  match_count integer default 10,
  book_id uuid default null
)
returns table (chapter_id uuid, chapter_number integer, title text, book_title text, similarity double precision)
language plpgsql
volatile -- it counts the caller's searches (private.take_rate_limit)
security invoker
set search_path = ''
set jit = off -- a search takes milliseconds: compiling its plans would cost more than running them
-- Planned for the caller each time: a generic plan would keep all 64 partitions (30 ms to plan, slower to run).
set plan_cache_mode = force_custom_plan
as $$
declare
  caller uuid := (select auth.uid());
  query_half extensions.halfvec(1536) := query_embedding::extensions.halfvec(1536);
  candidates uuid[];
begin
  if match_count is null or match_count < 1 or match_count > 100 then
    raise exception 'match_count must be between 1 and 100' using errcode = '22023';
  end if;
  if caller is null then
    return;
  end if;
  -- (The search function takes the limit before it pays for the query's embedding, and says so.)
  if coalesce(pg_catalog.current_setting('litinkai.search_counted', true), '') <> 'on' then
    perform private.take_rate_limit('search');
  end if;
  if match_chapters.book_id is null and private.library_index(caller) is not null then
    candidates := private.nearest_library_chapters(query_half, caller, match_count + 5);
  end if;
  -- Exact: every passage of the library (or of the book, from its chapters by key), each chapter at its
  -- nearest. Distances are computed as the rows are read (materialized), so that what is grouped is
  -- narrow: grouped as rows, the vectors would be sorted with them, spilling to disk.
  if candidates is null and match_chapters.book_id is null then
    with distances as materialized (
      select p.chapter_id, p.embedding_half operator(extensions.<=>) query_half as distance
      from public.chapter_passages p
      where p.user_id = caller
    )
    select pg_catalog.array_agg(b.chapter_id) into candidates
    from (select d.chapter_id from distances d group by d.chapter_id order by pg_catalog.min(d.distance)
          limit match_count + 5) b;
  elsif candidates is null then
    with distances as materialized (
      select p.chapter_id, p.embedding_half operator(extensions.<=>) query_half as distance
      from public.chapters c
      join public.chapter_passages p on p.chapter_id = c.id and p.user_id = caller
      where c.book_id = match_chapters.book_id
    )
    select pg_catalog.array_agg(b.chapter_id) into candidates
    from (select d.chapter_id from distances d group by d.chapter_id order by pg_catalog.min(d.distance)
          limit match_count + 5) b;
  end if;

  return query
  with nearest as materialized ( -- each candidate chapter's nearest passage, by key
    select distinct on (p.chapter_id) p.id from public.chapter_passages p
    where p.user_id = caller and p.chapter_id = any (candidates)
    order by p.chapter_id, p.embedding_half operator(extensions.<=>) query_half
  ),
  best as materialized ( -- at full precision
    select p.chapter_id, p.embedding operator(extensions.<=>) query_embedding as distance
    from public.chapter_passages p
    where p.user_id = caller and p.id in (select n.id from nearest n)
  )
  select n.chapter_id, x.chapter_number, x.title, x.book_title, 1 - n.distance
  from best n
  -- By key, one candidate at a time (a join would read every chapter of a large library).
  cross join lateral (
    select c.chapter_number, c.title, b.title as book_title
    from public.chapters c join public.books b on b.id = c.book_id
    where c.id = n.chapter_id
    limit 1
  ) x
  order by n.distance
  limit match_count;
end;
$$;
comment on function public.match_chapters(extensions.vector, integer, uuid)
  is 'Client RPC: the caller''s chapters nearest to a query embedding, best first.';
-- Searching is for signed-in users; anonymous callers get a permission error rather than nothing.
revoke all on function public.match_chapters(extensions.vector, integer, uuid) from public, anon;
grant execute on function public.match_chapters(extensions.vector, integer, uuid) to authenticated, service_role;
