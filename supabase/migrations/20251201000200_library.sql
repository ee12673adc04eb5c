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
-- row level security), each with its own HNSW graph: a search walks the graph of the few users hashed
-- with the caller, not everyone's. Keys include the partition key (user_id), as partitioning requires.
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
  embedding_model text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint chapter_passages_pkey primary key (id, user_id),
  -- chapter_id first: a chapter's passages (and the cascade from chapters) are found by this index.
  constraint chapter_passages_chapter_passage_key unique (chapter_id, passage_index, user_id),
  constraint chapter_passages_passage_index_non_negative check (passage_index >= 0)
) partition by hash (user_id);
comment on table public.chapter_passages is 'Passages of chapters with their embeddings (1536 dimensions), for semantic search.';
-- 64 partitions: at 1,000,000 passages about 16,000 a partition (see README, Choosing the ANN index).
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
-- The ANN index over half-precision copies of the vectors (half the size, so it stays in shared
-- buffers), one graph per partition. m = 16, ef_construction = 200 as measured by the search
-- benchmark (see README).
create index chapter_passages_embedding_hnsw_idx on public.chapter_passages
  using hnsw ((embedding::extensions.halfvec(1536)) extensions.halfvec_cosine_ops) with (m = 16, ef_construction = 200);

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
-- quiz and answers) is the ingest worker's.
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

create policy "owners read their passages" on public.chapter_passages
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners add passages to their chapters" on public.chapter_passages
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "owners edit their passages" on public.chapter_passages
  for update to authenticated using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "owners delete their passages" on public.chapter_passages
  for delete to authenticated using (user_id = (select auth.uid()));

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
  perform pgmq.delete('embed', p_msg_id);
  return true;
end;
$$;
revoke all on function private.save_chapter_embeddings(bigint, uuid, text, text, jsonb) from public, anon, authenticated;
grant execute on function private.save_chapter_embeddings(bigint, uuid, text, text, jsonb) to service_role;

-- Search ------------------------------------------------------------------------------------------

-- The ANN half of match_chapters: the caller's nearest passages by the HNSW index of the caller's
-- partition, which holds only the passages of the users hashed with the caller. The partition is
-- named in the query (found from one of the caller's rows), so the owner filter can be written so
-- that no b-tree serves it; sequential scans are off: vectors live in TOAST, which the planner does
-- not cost, so it would otherwise pick a full scan that is 100 times slower. It declares the rows it
-- returns (4 per requested chapter), so the planner joins them to chapters by key.
create or replace function private.nearest_passages(p_query extensions.vector(1536), p_book_id uuid, p_limit integer)
returns table (chapter_id uuid, distance double precision)
language plpgsql
stable
security definer
rows 40
set search_path = ''
set hnsw.ef_search = 200
set hnsw.iterative_scan = 'relaxed_order'
set enable_seqscan = off
as $$
declare
  caller uuid := (select auth.uid());
  partition regclass;
begin
  select p.tableoid::regclass into partition from public.chapter_passages p where p.user_id = caller limit 1;
  if partition is null then
    return;
  end if;
  -- Planned per call with the real limit: with LIMIT as a parameter the planner prefers reading
  -- every row through another index and sorting, which is exact but slow.
  return query execute pg_catalog.format($q$
    select p.chapter_id, p.embedding operator(extensions.<=>) $1
    from %s p
    where p.user_id::text = $2
      and ($3::uuid is null or p.chapter_id in (select c.id from public.chapters c where c.book_id = $3))
    order by p.embedding::extensions.halfvec(1536) operator(extensions.<=>) $1::extensions.halfvec(1536)
    limit %s $q$, partition, p_limit::integer)
    using p_query, caller::text, p_book_id;
end;
$$;
revoke all on function private.nearest_passages(extensions.vector, uuid, integer) from public, anon;
grant execute on function private.nearest_passages(extensions.vector, uuid, integer) to authenticated, service_role;

-- Client RPC: the caller's chapters nearest to a query embedding, best first, with cosine similarity,
-- ranked by each chapter's best passage. A large library (3,000 passages or more; 10,000 for one book)
-- is searched through the HNSW index of the caller's partition; a small one, or whatever the index scan
-- could not fill, by exact distance over the caller's own passages, in the same query. Security
-- invoker: the caller's row level security applies.
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
as $$
declare
  caller uuid := (select auth.uid());
  -- Exact search up to this many passages: 3,000 of a library; 10,000 of one book (books rarely pass a
  -- few thousand passages, and the index walk restricted to one book loses recall).
  exact_up_to integer := case when match_chapters.book_id is null then 3000 else 10000 end;
  large_library boolean;
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
  -- Exact search over the caller's own passages up to 3,000 of them (about 5 microseconds a passage
  -- here, so 15 ms): complete and exactly ranked however many other users share the partition. Larger
  -- libraries go through the HNSW index of the caller's partition, filtered to the caller.
  -- (Searching one book counts that book's passages: a book is searched exactly up to 10,000.)
  select pg_catalog.count(*) >= exact_up_to into large_library
  from (select 1 from public.chapter_passages p
        where p.user_id = caller
          and (match_chapters.book_id is null
               or p.chapter_id in (select c.id from public.chapters c where c.book_id = match_chapters.book_id))
        limit exact_up_to) s;

  return query
  with approximate as materialized (
    select n.chapter_id, n.distance
    from private.nearest_passages(query_embedding, match_chapters.book_id, match_count * 4) n
    where large_library
  ),
  exact as materialized (
    select p.chapter_id, p.embedding operator(extensions.<=>) query_embedding as distance
    from public.chapter_passages p
    where p.user_id = caller
      and (select pg_catalog.count(distinct a.chapter_id) from approximate a) < match_count
      and p.chapter_id not in (select a.chapter_id from approximate a)
      and (match_chapters.book_id is null
           or p.chapter_id in (select c.id from public.chapters c where c.book_id = match_chapters.book_id))
    order by p.embedding operator(extensions.<=>) query_embedding
    limit match_count * 4
  ),
  candidates as (
    select a.chapter_id, a.distance from approximate a
    union all
    select x.chapter_id, x.distance from exact x
  )
  select c.id, c.chapter_number, c.title, b.title, 1 - pg_catalog.min(n.distance)
  from candidates n
  join public.chapters c on c.id = n.chapter_id
  join public.books b on b.id = c.book_id
  group by c.id, b.id
  order by pg_catalog.min(n.distance)
  limit match_count;
end;
$$;
comment on function public.match_chapters(extensions.vector, integer, uuid)
  is 'Client RPC: the caller''s chapters nearest to a query embedding, best first.';
-- Searching is for signed-in users; anonymous callers get a permission error rather than nothing.
revoke all on function public.match_chapters(extensions.vector, integer, uuid) from public, anon;
grant execute on function public.match_chapters(extensions.vector, integer, uuid) to authenticated, service_role;
