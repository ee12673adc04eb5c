-- Book ingestion: process_book enqueues, the ingest worker extracts, and one SQL function writes the
-- structure and every chapter in the transaction that deletes the queue message.
select pgmq.create(q) from unnest(array['ingest', 'embed', 'plot']) as q
where not exists (select 1 from pgmq.list_queues() l where l.queue_name = q);

insert into private.edge_function_schedules (function_name, interval_seconds) values
  ('ingest', 2), ('embed', 2), ('plot', 2)
on conflict (function_name) do nothing;
select private.schedule_edge_functions();

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
  select * into book from public.books b where b.id = process_book.book_id for update;
  if not found or book.user_id <> (select auth.uid()) then
    raise exception 'book % not found among yours', process_book.book_id using errcode = 'P0002';
  end if;
  if book.status not in ('draft', 'failed') then
    raise exception 'book % is %; only a draft or failed book can be processed', book.id, book.status
      using errcode = 'LT006';
  end if;
  if book.source_file_path is null then
    raise exception 'book % has no uploaded file: upload it to the books bucket and set source_file_path', book.id
      using errcode = '22023';
  end if;
  if pg_catalog.split_part(book.source_file_path, '/', 1) <> book.user_id::text then
    raise exception 'the book file must be under your own folder (%/...)', book.user_id using errcode = '42501';
  end if;
  update public.books b
  set status = 'processing', progress_percentage = 0, processing_started_at = pg_catalog.now(),
      processing_completed_at = null, metadata = b.metadata - 'error'
  where b.id = book.id;
  perform pgmq.send('ingest', pg_catalog.jsonb_build_object('book_id', book.id));
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
  insert into public.chapters (book_id, chapter_number, title, part_title, content, summary, word_count,
    duration_minutes, ai_content)
  select p_book_id, (c ->> 'chapter_number')::integer, c ->> 'title', c ->> 'part_title', c ->> 'content',
    c ->> 'summary', (c ->> 'word_count')::integer, (c ->> 'duration_minutes')::integer,
    coalesce(c -> 'ai_content', '{}')
  from pg_catalog.jsonb_array_elements(p_chapters) c;

  insert into public.book_structure (book_id, structure_type, extraction_method, has_parts, has_chapters,
    has_sections, structure_data, confirmed_at)
  values (p_book_id, (p_structure ->> 'structure_type')::public.structure_type,
    (p_structure ->> 'extraction_method')::public.extraction_method,
    coalesce((p_structure ->> 'has_parts')::boolean, false), true,
    (p_structure ->> 'structure_type') = 'sections', p_structure, null)
  on conflict (book_id) do update
    set structure_type = excluded.structure_type, extraction_method = excluded.extraction_method,
        has_parts = excluded.has_parts, has_sections = excluded.has_sections,
        structure_data = excluded.structure_data, confirmed_at = null;

  update public.books b
  set status = 'ready', progress_percentage = 100, processing_completed_at = pg_catalog.now(),
      total_chapters = chapter_count,
      word_count = (select coalesce(pg_catalog.sum((c ->> 'word_count')::integer), 0)
                    from pg_catalog.jsonb_array_elements(p_chapters) c),
      estimated_duration_minutes = (select coalesce(pg_catalog.sum((c ->> 'duration_minutes')::integer), 0)
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
    else
      raise exception 'entry % needs "chapters": [n, ...] or "chapter": n with "paragraphs": [from, to]', entry_number
        using errcode = '22023';
    end if;
    words := coalesce(pg_catalog.array_length(pg_catalog.regexp_split_to_array(pg_catalog.btrim(body), E'\\s+'), 1), 0);
    new_chapters := new_chapters || pg_catalog.jsonb_build_object('chapter_number', entry_number, 'title', title,
      'content', body, 'word_count', words, 'duration_minutes', pg_catalog.ceil(words / 238.0)::integer, 'source', entry);
  end loop;

  delete from public.chapters c where c.book_id = book.id;
  insert into public.chapters (book_id, chapter_number, title, content, word_count, duration_minutes)
  select book.id, (c ->> 'chapter_number')::integer, c ->> 'title', c ->> 'content', (c ->> 'word_count')::integer,
    (c ->> 'duration_minutes')::integer
  from pg_catalog.jsonb_array_elements(new_chapters) c;
  update public.book_structure s
  set extraction_method = 'manual', confirmed_at = pg_catalog.now(),
      structure_data = s.structure_data || pg_catalog.jsonb_build_object('confirmed', structure)
  where s.book_id = book.id;
  update public.books b
  set total_chapters = entry_number,
      word_count = (select coalesce(pg_catalog.sum((c ->> 'word_count')::integer), 0) from pg_catalog.jsonb_array_elements(new_chapters) c),
      estimated_duration_minutes = (select coalesce(pg_catalog.sum((c ->> 'duration_minutes')::integer), 0)
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
