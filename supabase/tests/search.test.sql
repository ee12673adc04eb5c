-- match_chapters from the outside: a library searched exactly (under the size for an index of its
-- own), then the same library through its own HNSW index, for a reader who shares a partition with a
-- neighbour holding more passages than the reader, all nearer the query; other users and anonymous
-- callers; how a library's index is asked for, built and dropped.
\if :{?dblink_conninfo}
\else
\set dblink_conninfo ''
\endif
set tests.dblink_conninfo = :'dblink_conninfo';
begin;
select plan(43);

create temp table ids as
  select tests.create_user('reader@search.test') as owner, tests.create_user('stranger@search.test') as other;
grant select on ids to public;
insert into public.books (id, user_id, title, status)
select '00000000-0000-4000-8000-0000000aa001'::uuid, owner, 'Big library', 'ready'::public.book_status from ids
union all select '00000000-0000-4000-8000-0000000aa002'::uuid, owner, 'Short book', 'ready'::public.book_status from ids
union all select '00000000-0000-4000-8000-0000000aa003'::uuid, other, 'Someone else''s', 'ready'::public.book_status from ids;

-- 3,200 chapters with one random passage each, 3 in a second book, and the stranger's copy of chapter 600.
insert into public.chapters (id, book_id, chapter_number, title, content)
select ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, '00000000-0000-4000-8000-0000000aa001'::uuid, n,
       'Chapter ' || n, 'text'
from generate_series(1, 3200) n
union all
select ('00000000-0000-4000-8001-' || lpad(n::text, 12, '0'))::uuid, '00000000-0000-4000-8000-0000000aa002', n,
       'Short ' || n, 'text'
from generate_series(1, 3) n
union all
select '00000000-0000-4000-8002-000000000600'::uuid, '00000000-0000-4000-8000-0000000aa003'::uuid, 1, 'Copy', 'text';
create temp table vectors as
  select c.id as chapter_id,
         (select array_agg(random() - 0.5) from generate_series(1, 1536) d where c.id is not null)::extensions.vector(1536) as embedding
  from public.chapters c
  where c.book_id in ('00000000-0000-4000-8000-0000000aa001', '00000000-0000-4000-8000-0000000aa002');
grant select on vectors to public;
-- Chapters 1 to 9 lie ever farther from chapter 600 (the query below): a top 10 with clear gaps.
update vectors v set embedding = (
    select array_agg(q.x + (random() - 0.5) * 0.05 * n.n order by q.i)
    from unnest((select embedding::real[] from vectors where chapter_id = '00000000-0000-4000-8000-000000000600'))
      with ordinality q (x, i)) :: extensions.vector(1536)
from (select ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid as id, n from generate_series(1, 9) n) n
where v.chapter_id = n.id;
insert into public.chapter_passages (chapter_id, user_id, passage_index, content, content_hash, embedding, embedding_model)
select chapter_id, (select owner from ids), 0, 'text', 'h', embedding, 'test' from vectors;
insert into public.chapter_passages (chapter_id, user_id, passage_index, content, content_hash, embedding, embedding_model)
select '00000000-0000-4000-8002-000000000600', (select other from ids), 0, 'text', 'h', embedding, 'test'
from vectors where chapter_id = '00000000-0000-4000-8000-000000000600';

-- The neighbour: a user hashed to the reader's partition, with 6,000 passages closer to the query
-- than any of the reader's but chapter 600 (the query plus noise from two small pools).
create temp table neighbour as
  select id from (select gen_random_uuid() as id from generate_series(1, 2000)) g
  where satisfies_hash_partition('public.chapter_passages'::regclass,
          (select count(*)::integer from pg_inherits where inhparent = 'public.chapter_passages'::regclass),
          (select r from generate_series(0, 63) r
           where satisfies_hash_partition('public.chapter_passages'::regclass,
                   (select count(*)::integer from pg_inherits where inhparent = 'public.chapter_passages'::regclass),
                   r, (select owner from ids))), g.id)
  limit 1;
grant select on neighbour to public;
insert into auth.users (id, email) select id, 'neighbour@search.test' from neighbour;
insert into public.books (id, user_id, title, status)
select '00000000-0000-4000-8000-0000000aa004', id, 'Neighbour''s', 'ready' from neighbour;
insert into public.chapters (id, book_id, chapter_number, title, content)
select ('00000000-0000-4000-8003-' || lpad(n::text, 12, '0'))::uuid, '00000000-0000-4000-8000-0000000aa004', n, 'N' || n, 'text'
from generate_series(1, 6000) n;
create temp table noise as
  select pool, i, (select array_agg((random() - 0.5) * 0.01) from generate_series(1, 1536) d
                   where i is not null and pool is not null)::extensions.vector(1536) as v
  from generate_series(1, 2) pool, generate_series(0, 80) i;
insert into public.chapter_passages (chapter_id, user_id, passage_index, content, content_hash, embedding, embedding_model)
select ('00000000-0000-4000-8003-' || lpad(n::text, 12, '0'))::uuid, (select id from neighbour), 0, 'text', 'h',
  v.embedding operator(extensions.+) a.v operator(extensions.+) b.v, 'test'
from generate_series(1, 6000) n
join vectors v on v.chapter_id = '00000000-0000-4000-8000-000000000600'
join noise a on a.pool = 1 and a.i = n % 79
join noise b on b.pool = 2 and b.i = n % 81;

-- What the embed worker records beside the passages: chapter vectors with their passage counts, which
-- the sweep sums (here one row per library, carrying the library's count).
insert into public.chapter_embeddings (chapter_id, embedding, embedding_model, dimension, content_hash, passage_count)
select '00000000-0000-4000-8000-000000000002'::uuid, embedding, 'test', 1536, 'h', 3203 from vectors
where chapter_id = '00000000-0000-4000-8000-000000000600'
union all
select '00000000-0000-4000-8003-000000000001', embedding, 'test', 1536, 'h', 6000 from vectors
where chapter_id = '00000000-0000-4000-8000-000000000600';

create temp table query as
  select embedding from vectors where chapter_id = '00000000-0000-4000-8000-000000000600';
grant select on query to public;
-- The reader's exact top 25 chapters, by brute force over their own passages.
create temp table exact_top as
  select p.chapter_id, 1 - (p.embedding operator(extensions.<=>) (select embedding from query)) as similarity,
    row_number() over (order by p.embedding operator(extensions.<=>) (select embedding from query)) as rank
  from public.chapter_passages p
  where p.user_id = (select owner from ids)
  order by p.embedding operator(extensions.<=>) (select embedding from query)
  limit 25;
grant select on exact_top to public;

select ok((select count(distinct p.tableoid) = 1 from public.chapter_passages p
            where p.user_id in ((select owner from ids), (select id from neighbour))),
  'the reader and the neighbour share a partition');
select ok((select attstorage = 'p' from pg_attribute
           where attrelid = 'public.chapter_passages'::regclass and attname = 'embedding_half'),
  'the half-precision copy that exact search reads is kept in the row, not in TOAST');

-- Exact search: the reader's 3,203 passages are under the size for an index of their own.
select tests.authenticate_as((select owner from ids));
select is(private.library_index((select owner from ids)), null, 'a library under the threshold has no index of its own');
select results_eq(
  $$select chapter_id, round(similarity::numeric, 6) from public.match_chapters((select embedding from query), 10) limit 1$$,
  $$values ('00000000-0000-4000-8000-000000000600'::uuid, 1.000000)$$,
  'the chapter whose passage equals the query comes first, with similarity 1');
select results_eq(
  $$select chapter_id, round(similarity::numeric, 9) from public.match_chapters((select embedding from query), 25)$$,
  $$select chapter_id, round(similarity::numeric, 9) from exact_top order by rank$$,
  'exact search returns the exact top 25, best first, at full precision');
select is(
  (select count(*)::integer from public.match_chapters((select embedding from query), 100) m
   where m.chapter_id = '00000000-0000-4000-8002-000000000600'),
  0, 'another user''s identical passage is never returned');
select is(
  (select count(*)::integer from public.match_chapters((select embedding from query), 100) m
   join public.chapters c on c.id = m.chapter_id where c.book_id <> '00000000-0000-4000-8000-0000000aa001'
     and c.book_id <> '00000000-0000-4000-8000-0000000aa002'),
  0, 'the neighbour''s nearer passages never appear');
select results_eq(
  $$select chapter_id from public.match_chapters((select embedding from query), 10, '00000000-0000-4000-8000-0000000aa002')
    order by chapter_id$$,
  $$select id from public.chapters where book_id = '00000000-0000-4000-8000-0000000aa002' order by id$$,
  'a book filter returns that book''s chapters only, all of them when there are fewer than asked');
select is(
  (select count(*)::integer from public.match_chapters((select embedding from query), 100, '00000000-0000-4000-8000-0000000aa003')),
  0, 'filtering by another user''s book finds nothing');
select results_eq(
  $$select chapter_id, round(similarity::numeric, 6) from public.match_chapters(
      (select embedding from vectors where chapter_id = '00000000-0000-4000-8000-000000001500'), 10,
      '00000000-0000-4000-8000-0000000aa001')$$,
  $$select p.chapter_id, round((1 - (p.embedding operator(extensions.<=>)
      (select embedding from vectors where chapter_id = '00000000-0000-4000-8000-000000001500')))::numeric, 6)
    from public.chapter_passages p
    join public.chapters c on c.id = p.chapter_id and c.book_id = '00000000-0000-4000-8000-0000000aa001'
    order by p.embedding operator(extensions.<=>) (select embedding from vectors where chapter_id = '00000000-0000-4000-8000-000000001500')
    limit 10$$,
  'searching one large book (3,200 passages) is complete and exactly ranked');
select tests.clear_authentication();

-- The library's own index: what private.library_index_work asks for when the threshold is lowered.
update private.search_settings set library_index_threshold = 3000;
select is((select count(*)::integer from private.library_index_work((select id from neighbour))), 1,
  'the neighbour''s library over the threshold would get an index too (not built here)');
create temp table work as select s from private.library_index_work((select owner from ids)) s;
select matches((select s from work),
  '^create index concurrently if not exists chapter_passages_library_[0-9a-f]{32} on private\.chapter_passages_p[0-9]{2} '
  'using hnsw \(embedding_half extensions\.halfvec_cosine_ops\) with \(m = 8, ef_construction = 200\) '
  'where user_id = ''[0-9a-f-]{36}''$',
  'a library over the threshold gets a partial HNSW index on its partition, built concurrently');
select ok((select s from work) like '%' || (select p.tableoid::regclass::text from public.chapter_passages p
                                              where p.user_id = (select owner from ids) limit 1) || ' %'
          and (select s from work) like '%user_id = ''' || (select owner from ids) || '''',
  'on the reader''s partition, holding the reader''s passages only');
-- (CREATE INDEX CONCURRENTLY cannot run in this test's transaction; the embed worker's test runs it.)
do $$ begin execute replace((select s from work), ' concurrently', ''); end $$;
select isnt(private.library_index((select owner from ids)), null, 'the built index is the library''s usable index');
select is((select count(*)::integer from private.library_index_work((select owner from ids))), 0,
  'a library with its usable index needs nothing');
create temp table scans as
  select pg_stat_get_xact_numscans(private.library_index((select owner from ids))) as before;
grant select on scans to public;

select tests.authenticate_as((select owner from ids));
select is((select count(*)::integer from public.match_chapters((select embedding from query), 10)), 10,
  'the reader searches');
select cmp_ok(pg_stat_get_xact_numscans(private.library_index((select owner from ids))), '>', (select before from scans),
  'and the search went through the library''s own index');
select is(
  (select cardinality(private.nearest_library_chapters((select embedding::extensions.halfvec(1536) from query),
     (select owner from ids), 15))), 15,
  'the index gives the asked number of chapters');
select results_eq(
  $$select chapter_id, round(similarity::numeric, 6) from public.match_chapters((select embedding from query), 10) limit 1$$,
  $$values ('00000000-0000-4000-8000-000000000600'::uuid, 1.000000)$$,
  'through the index: the identical passage first, with similarity 1');
select results_eq(
  $$select chapter_id, round(similarity::numeric, 9) from public.match_chapters((select embedding from query), 10)$$,
  $$select chapter_id, round(similarity::numeric, 9) from exact_top where rank <= 10 order by rank$$,
  'through the index: the exact top 10, best first at full precision, however near the neighbour''s 6,000 passages are');
select is(
  (select count(*)::integer from public.match_chapters((select embedding from query), 100)),
  100, 'through the index: a hundred chapters when a hundred are asked for');
select is(
  (select count(*)::integer from public.match_chapters((select embedding from query), 100) m
   where m.chapter_id not in (select c.id from public.chapters c join public.books b on b.id = c.book_id
                              where b.user_id = (select owner from ids))),
  0, 'through the index: never another user''s chapter');
select ok((select bool_and(similarity <= previous) from (
    select similarity, lag(similarity, 1, 2.0) over (order by ordinality) as previous
    from public.match_chapters((select embedding from query), 100) with ordinality) ranked),
  'through the index: best first');
select results_eq(
  $$select chapter_id from public.match_chapters((select embedding from query), 10, '00000000-0000-4000-8000-0000000aa002')
    order by chapter_id$$,
  $$select id from public.chapters where book_id = '00000000-0000-4000-8000-0000000aa002' order by id$$,
  'a book of an indexed library is still searched exactly');
select tests.clear_authentication();

-- The index is kept while the library holds half the threshold, and dropped under that.
update private.search_settings set library_index_threshold = 6000;
select is((select count(*)::integer from private.library_index_work((select owner from ids))), 0,
  'a library at half the threshold or more keeps its index');
update private.search_settings set library_index_threshold = 7000;
select results_eq(
  $$select s from private.library_index_work((select owner from ids)) s$$,
  $$values ('drop index concurrently if exists private.' || private.library_index_name((select owner from ids)))$$,
  'a library under half the threshold has its index dropped');
-- A build that died leaves its index invalid: the sweep asks for it again. A real dead build, as hosted's
-- postgres can make one (no catalog writes): through dblink, committed, a unique index built concurrently
-- over equal values fails half way and stays, invalid, named as another library's index (the reader's
-- name is this transaction's). Dropped again through dblink.
create temp table dead_build as select gen_random_uuid() as owner;
grant select on dead_build to public;
create function pg_temp.dead_build(conninfo text, owner uuid, leave boolean) returns text language plpgsql as $$
declare
  tbl text := 'pgtap_dead_build_' || replace(owner::text, '-', '');
begin
  perform extensions.dblink_connect('dead_build', conninfo);
  if leave then
    perform extensions.dblink_exec('dead_build', format('create table private.%I (v integer)', tbl));
    perform extensions.dblink_exec('dead_build', format('insert into private.%I values (1), (1)', tbl));
    perform extensions.dblink_exec('dead_build', format('create unique index concurrently %I on private.%I (v)',
      private.library_index_name(owner), tbl), false);
  else
    perform extensions.dblink_exec('dead_build', format('drop table if exists private.%I', tbl));
  end if;
  perform extensions.dblink_disconnect('dead_build');
  return tbl;
end;
$$;
update private.search_settings set library_index_threshold = 6000;
select pg_temp.dead_build(tests.dblink_conninfo(), (select owner from dead_build), true) where tests.dblink_conninfo() is not null;
select cmp_ok(private.queue_library_index_work(), '>=', 1, 'the sweep runs');
select case when tests.dblink_conninfo() is null
  then skip('no dblink connection: a non-superuser needs the database URL with its password (pg_prove --set dblink_conninfo=<url>)', 1)
  else is((select count(*)::integer from pgmq.q_embed where message ->> 'library_index' = (select owner::text from dead_build)), 1,
    'it asks for a library whose index a dead build left invalid') end;
select pg_temp.dead_build(tests.dblink_conninfo(), (select owner from dead_build), false) where tests.dblink_conninfo() is not null;
delete from pgmq.q_embed where message ? 'library_index';

-- Who asks: a save that brings a library to the threshold, and the periodic sweep.
update private.search_settings set library_index_threshold = 3000;
insert into public.chapters (id, book_id, chapter_number, title, content)
select '00000000-0000-4000-8004-000000000001', '00000000-0000-4000-8000-0000000aa004', 6001, 'New', 'new text';
select is(private.save_chapter_embeddings(0, '00000000-0000-4000-8004-000000000001',
    encode(sha256(convert_to('new text', 'UTF8')), 'hex'), 'test',
    jsonb_build_array(jsonb_build_object('passage_index', 0, 'content', 'new', 'embedding', (select embedding::text from query)))),
  true, 'the embed worker saves a chapter of a library over the threshold');
select is((select count(*)::integer from pgmq.q_embed where message ->> 'library_index' = (select id::text from neighbour)), 1,
  'that save asks the embed worker for the library''s index');
select is(private.save_chapter_embeddings(0, '00000000-0000-4000-8000-000000000001',
    encode(sha256(convert_to('text', 'UTF8')), 'hex'), 'test',
    jsonb_build_array(jsonb_build_object('passage_index', 0, 'content', 'text',
      'embedding', (select embedding::text from vectors where chapter_id = '00000000-0000-4000-8000-000000000001')))),
  true, 'a chapter of the indexed library is saved again');
select is((select count(*)::integer from pgmq.q_embed where message ->> 'library_index' = (select owner::text from ids)), 0,
  'a library that has its index is not asked for again');
update private.search_settings set library_index_threshold = 7000;
select cmp_ok(private.queue_library_index_work(), '>=', 1, 'the sweep asks for work');
select is((select count(*)::integer from pgmq.q_embed where message ->> 'library_index' = (select owner::text from ids)), 1,
  'the sweep asks for the index of a library that shrank under half the threshold');
update private.search_settings set library_index_threshold = 3000;
do $$ begin execute format('drop index private.%I', private.library_index_name((select owner from ids))); end $$;
delete from pgmq.q_embed where message ? 'library_index';
select cmp_ok(private.queue_library_index_work(), '>=', 2, 'the sweep asks again');
select is(
  (select count(*)::integer from pgmq.q_embed
   where message ->> 'library_index' in ((select owner::text from ids), (select id::text from neighbour))), 2,
  'for every library over the threshold without a usable index');

-- A library whose chapters have many passages: the index is read further until enough chapters come
-- by. 20 chapters of 60 near-identical passages each; the nearest 400 passages hold only 7 or 8 chapters.
create temp table sections as select tests.create_user('sections@search.test') as id;
grant select on sections to public;
insert into public.books (id, user_id, title, status)
select '00000000-0000-4000-8000-0000000aa005', id, 'Sections', 'ready' from sections;
insert into public.chapters (id, book_id, chapter_number, title, content)
select ('00000000-0000-4000-8005-' || lpad(n::text, 12, '0'))::uuid, '00000000-0000-4000-8000-0000000aa005', n, 'S' || n, 'text'
from generate_series(1, 20) n;
create temp table section_vectors as
  select n, (select array_agg(random() - 0.5) from generate_series(1, 1536) d where n is not null)::real[] as v
  from generate_series(1, 20) n;
insert into public.chapter_passages (chapter_id, user_id, passage_index, content, content_hash, embedding, embedding_model)
select ('00000000-0000-4000-8005-' || lpad(s.n::text, 12, '0'))::uuid, (select id from sections), i, 'text', 'h',
  (select array_agg(x + (random() - 0.5) * 0.02 order by o) from unnest(s.v) with ordinality u (x, o) where i is not null)::extensions.vector(1536),
  'test'
from section_vectors s, generate_series(0, 59) i;
update private.search_settings set library_index_threshold = 1000;
do $$ begin execute replace((select s from private.library_index_work((select id from sections)) s), ' concurrently', ''); end $$;
create temp table section_query as
  select (select array_agg(x + 0.01 order by o) from unnest(v) with ordinality u (x, o))::extensions.vector(1536) as embedding
  from section_vectors where n = 1;
grant select on section_query to public;
select tests.authenticate_as((select id from sections));
select is(
  (select cardinality(private.nearest_library_chapters((select embedding::extensions.halfvec(1536) from section_query),
     (select id from sections), 15))), 15,
  'a library of long chapters still gives the asked number of chapters through its index');
select results_eq(
  $$select chapter_id from public.match_chapters((select embedding from section_query), 10)$$,
  $$select p.chapter_id from public.chapter_passages p where p.user_id = (select id from sections)
    group by p.chapter_id order by min(p.embedding operator(extensions.<=>) (select embedding from section_query)) limit 10$$,
  'and they are the exact top 10, each chapter at its nearest passage');
select tests.clear_authentication();

-- Other callers.
select tests.authenticate_as((select id from neighbour));
select is(
  (select count(*)::integer from public.match_chapters((select embedding from query), 100) m
   join public.chapters c on c.id = m.chapter_id where c.book_id <> '00000000-0000-4000-8000-0000000aa004'),
  0, 'the reader''s identical passage never reaches the neighbour');
select tests.authenticate_as((select other from ids));
select results_eq(
  $$select chapter_id from public.match_chapters((select embedding from query), 10)$$,
  $$values ('00000000-0000-4000-8002-000000000600'::uuid)$$,
  'the stranger finds only their own chapter');
select tests.authenticate_as_anon();
select throws_ok($$select * from public.match_chapters((select embedding from query), 10)$$, '42501', null,
  'anonymous callers cannot search');
select tests.authenticate_as((select owner from ids));
select throws_ok($$select private.library_index_work((select owner from ids))$$, '42501', null,
  'clients cannot ask for index work');
select tests.clear_authentication();

select throws_ok($$insert into public.chapter_passages (chapter_id, passage_index, content, content_hash, embedding, embedding_model)
    values ('00000000-0000-4000-8000-000000000001', 1, 'x', 'h', (select embedding from query), 'test')$$,
  '42501', 'passages are partitioned by owner: user_id must be the owner of the chapter''s book',
  'a passage written without its owner is refused, saying why');

select * from finish();
rollback;
