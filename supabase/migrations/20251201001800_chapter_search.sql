-- Chapter embeddings written by the embed worker, and semantic search over the caller's chapters.

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

-- Client RPC: the caller's chapters nearest to a query embedding, best first, with cosine similarity.
-- Security invoker: row level security limits it to the caller's own chapters. The HNSW index finds
-- candidate chunks (iterative scan keeps reading when RLS or the book filter removes rows), and each
-- chapter is ranked by its best chunk.
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
set hnsw.ef_search = 100
set hnsw.iterative_scan = 'relaxed_order'
as $$
begin
  if match_count is null or match_count < 1 or match_count > 100 then
    raise exception 'match_count must be between 1 and 100' using errcode = '22023';
  end if;
  return query
  with nearest as materialized (
    select e.chapter_id, e.embedding operator(extensions.<=>) query_embedding as distance
    from public.chapter_embeddings e
    where match_chapters.book_id is null
       or e.chapter_id in (select c.id from public.chapters c where c.book_id = match_chapters.book_id)
    order by e.embedding operator(extensions.<=>) query_embedding
    limit match_count * 4
  )
  select c.id, c.chapter_number, c.title, b.title, 1 - pg_catalog.min(n.distance)
  from nearest n join public.chapters c on c.id = n.chapter_id join public.books b on b.id = c.book_id
  group by c.id, b.id
  order by pg_catalog.min(n.distance)
  limit match_count;
end;
$$;
revoke all on function public.match_chapters(extensions.vector, integer, uuid) from public, anon;
grant execute on function public.match_chapters(extensions.vector, integer, uuid) to authenticated, service_role;
