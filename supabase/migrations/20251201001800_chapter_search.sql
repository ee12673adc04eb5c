-- Chapter embeddings written by the embed worker, and semantic search over the caller's chapters.

-- chapter_embeddings carries its owner, so row level security is a comparison per row instead of a
-- lookup of every chapter the caller owns (measured by the search benchmark).
alter table public.chapter_embeddings add column user_id uuid references public.profiles (id) on delete cascade;
update public.chapter_embeddings e set user_id = b.user_id
from public.chapters c join public.books b on b.id = c.book_id where c.id = e.chapter_id;
alter table public.chapter_embeddings alter column user_id set not null;
create index chapter_embeddings_user_id_idx on public.chapter_embeddings (user_id);

-- The owner always comes from the chapter's book, whoever writes the row.
create or replace function private.set_chapter_embedding_owner()
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
revoke all on function private.set_chapter_embedding_owner() from public, anon, authenticated;
create trigger chapter_embeddings_set_owner before insert or update of chapter_id, user_id on public.chapter_embeddings
  for each row execute function private.set_chapter_embedding_owner();

drop policy "owners read their chapter embeddings" on public.chapter_embeddings;
drop policy "owners add embeddings to their chapters" on public.chapter_embeddings;
drop policy "owners edit their chapter embeddings" on public.chapter_embeddings;
drop policy "owners delete their chapter embeddings" on public.chapter_embeddings;
create policy "owners read their chapter embeddings" on public.chapter_embeddings
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners add embeddings to their chapters" on public.chapter_embeddings
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "owners edit their chapter embeddings" on public.chapter_embeddings
  for update to authenticated using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "owners delete their chapter embeddings" on public.chapter_embeddings
  for delete to authenticated using (user_id = (select auth.uid()));

-- Worker: the chunks of one chapter. Skips (only drops the message) when the chapter changed since
-- the worker read it: the change queued its own message. Re-running replaces rows in place.
create or replace function private.save_chapter_embeddings(
  p_msg_id bigint,
  p_chapter_id uuid,
  p_content_hash text,
  p_model text,
  p_chunks jsonb
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  current_hash text;
begin
  select pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(c.content, 'UTF8')), 'hex') into current_hash
  from public.chapters c where c.id = p_chapter_id for share;
  if current_hash is distinct from p_content_hash then
    perform pgmq.delete('embed', p_msg_id);
    return false;
  end if;
  delete from public.chapter_embeddings e
  where e.chapter_id = p_chapter_id and e.chunk_index >= pg_catalog.jsonb_array_length(p_chunks);
  insert into public.chapter_embeddings (chapter_id, chunk_index, content, content_hash, embedding, model, dimensions)
  select p_chapter_id, (c ->> 'chunk_index')::integer, c ->> 'content', p_content_hash,
    (c ->> 'embedding')::extensions.vector, p_model, 1536
  from pg_catalog.jsonb_array_elements(p_chunks) c
  on conflict (chapter_id, chunk_index) do update
    set content = excluded.content, content_hash = excluded.content_hash, embedding = excluded.embedding,
        model = excluded.model;
  perform pgmq.delete('embed', p_msg_id);
  return true;
end;
$$;
revoke all on function private.save_chapter_embeddings(bigint, uuid, text, text, jsonb) from public, anon, authenticated;
grant execute on function private.save_chapter_embeddings(bigint, uuid, text, text, jsonb) to service_role;

-- The ANN index over half-precision copies of the vectors: half the size of a full-precision HNSW
-- index, so it stays in shared buffers at 100,000 chunks (measured by the search benchmark); distances
-- returned to clients are computed at full precision from the rows.
drop index public.chapter_embeddings_embedding_hnsw_idx;
create index chapter_embeddings_embedding_hnsw_idx on public.chapter_embeddings
  using hnsw ((embedding::extensions.halfvec(1536)) extensions.halfvec_cosine_ops) with (m = 16, ef_construction = 64);

-- The ANN half of match_chapters: the caller's nearest chunks by the HNSW index. The owner filter is
-- written so that no b-tree can serve it, and sequential scans are off: vectors live in TOAST, which
-- the planner does not cost, so it would otherwise pick a full scan that is 100 times slower.
create or replace function private.nearest_chunks(p_query extensions.vector(1536), p_book_id uuid, p_limit integer)
returns table (chapter_id uuid, distance double precision)
language plpgsql
stable
security definer
set search_path = ''
set hnsw.ef_search = 200
set hnsw.iterative_scan = 'relaxed_order'
set enable_seqscan = off
as $$
begin
  -- Planned per call with the real limit: with LIMIT as a parameter the planner prefers reading
  -- every row through another index and sorting, which is exact but slow.
  return query execute pg_catalog.format($q$
    select e.chapter_id, e.embedding operator(extensions.<=>) $1
    from public.chapter_embeddings e
    where e.user_id::text = $2
      and ($3::uuid is null or e.chapter_id in (select c.id from public.chapters c where c.book_id = $3))
    order by e.embedding::extensions.halfvec(1536) operator(extensions.<=>) $1::extensions.halfvec(1536)
    limit %s $q$, p_limit::integer)
    using p_query, (select auth.uid())::text, p_book_id;
end;
$$;
revoke all on function private.nearest_chunks(extensions.vector, uuid, integer) from public, anon;
grant execute on function private.nearest_chunks(extensions.vector, uuid, integer) to authenticated, service_role;

-- Client RPC: the caller's chapters nearest to a query embedding, best first, with cosine similarity,
-- ranked by each chapter's best chunk. A large library is searched through the HNSW index; a small
-- one (under 1,000 chunks), or whatever the index scan could not fill, by exact distance over the
-- caller's own chunks. Security invoker: the caller's row level security applies throughout.
create or replace function public.match_chapters(
  query_embedding extensions.vector(1536),
  match_count integer default 10,
  book_id uuid default null
)
returns table (chapter_id uuid, chapter_number integer, title text, book_title text, similarity double precision)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  small_library boolean;
  hit record;
  returned uuid[] := '{}';
begin
  if match_count is null or match_count < 1 or match_count > 100 then
    raise exception 'match_count must be between 1 and 100' using errcode = '22023';
  end if;
  if caller is null then
    return;
  end if;
  select pg_catalog.count(*) < 1000 into small_library
  from (select 1 from public.chapter_embeddings e where e.user_id = caller limit 1000) s;

  if not small_library then
    for hit in
      select c.id, c.chapter_number, c.title, b.title as book_title, 1 - pg_catalog.min(n.distance) as similarity
      from private.nearest_chunks(query_embedding, match_chapters.book_id, match_count * 4) n
      join public.chapters c on c.id = n.chapter_id join public.books b on b.id = c.book_id
      group by c.id, b.id
      order by pg_catalog.min(n.distance)
      limit match_count
    loop
      chapter_id := hit.id; chapter_number := hit.chapter_number; title := hit.title;
      book_title := hit.book_title; similarity := hit.similarity;
      returned := returned || hit.id;
      return next;
    end loop;
    if pg_catalog.cardinality(returned) >= match_count then
      return;
    end if;
  end if;

  return query
  with nearest as materialized (
    select e.chapter_id as id, e.embedding operator(extensions.<=>) query_embedding as distance
    from public.chapter_embeddings e
    where e.user_id = caller and e.chapter_id <> all (returned)
      and (match_chapters.book_id is null
           or e.chapter_id in (select c.id from public.chapters c where c.book_id = match_chapters.book_id))
    order by e.embedding operator(extensions.<=>) query_embedding
    limit match_count * 4
  )
  select c.id, c.chapter_number, c.title, b.title, 1 - pg_catalog.min(n.distance)
  from nearest n join public.chapters c on c.id = n.id join public.books b on b.id = c.book_id
  group by c.id, b.id
  order by pg_catalog.min(n.distance)
  limit match_count - pg_catalog.cardinality(returned);
end;
$$;
