-- match_chapters over a library large enough for the ANN path (3,000 passages or more), and for a caller
-- whose few passages are a small fraction of the index (exact search), from the outside. A neighbour
-- hashed to the reader's partition holds more passages than the reader, all nearer the query.
begin;
select plan(19);

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

create temp table query as
  select embedding from vectors where chapter_id = '00000000-0000-4000-8000-000000000600';
grant select on query to public;

select tests.authenticate_as((select owner from ids));
select results_eq(
  $$select chapter_id, count(*) over () from private.nearest_passages((select embedding from query), null, 40) limit 1$$,
  $$values ('00000000-0000-4000-8000-000000000600'::uuid, 40::bigint)$$,
  'the ANN half (nearest_passages) returns the asked number of the caller''s passages, nearest first');
select results_eq(
  $$select chapter_id, round(similarity::numeric, 6) from public.match_chapters((select embedding from query), 10) limit 1$$,
  $$values ('00000000-0000-4000-8000-000000000600'::uuid, 1.000000)$$,
  'the chapter whose passage equals the query comes first, with similarity 1');
select is((select count(*)::integer from public.match_chapters((select embedding from query), 10)), 10,
  'ten chapters are returned when ten are asked for');
select is(
  (select bool_and(ordered) from (
     select similarity <= lag(similarity, 1, 2.0) over (order by ordinality) as ordered
     from public.match_chapters((select embedding from query), 25) with ordinality) s),
  true, 'results come best first');
select is(
  (select count(*)::integer from public.match_chapters((select embedding from query), 25) m
   where abs(m.similarity - (1 - (select v.embedding operator(extensions.<=>) (select embedding from query)
                                  from vectors v where v.chapter_id = m.chapter_id))) > 1e-6),
  0, 'similarities are the exact cosine similarities of the chapters'' passages');
select is(
  (select count(*)::integer from public.match_chapters((select embedding from query), 100) m
   where m.chapter_id = '00000000-0000-4000-8002-000000000600'),
  0, 'another user''s identical passage is never returned');
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
      (select embedding from vectors where chapter_id = '00000000-0000-4000-8001-000000000002'), 1,
      '00000000-0000-4000-8000-0000000aa002')$$,
  $$values ('00000000-0000-4000-8001-000000000002'::uuid, 1.000000)$$,
  'a small book of a large library is searched exactly: its own passage first, with similarity 1');

select ok((select count(distinct p.tableoid) = 1 from public.chapter_passages p
            where p.user_id in ((select owner from ids), (select id from neighbour))),
  'the reader and the neighbour share a partition');
select results_eq(
  $$select count(*)::integer, (array_agg(chapter_id order by similarity desc))[1] from public.match_chapters((select embedding from query), 10)$$,
  $$values (10, '00000000-0000-4000-8000-000000000600'::uuid)$$,
  'a reader whose passages are a third of the partition gets ten chapters, the identical one first');
-- Chapters 1 to 9 sit inside the neighbour's cluster of 6,000 near-duplicates: the index walk ranks
-- what it finds exactly, and recall in such a partition is what the tenants benchmark measures.
select ok((select bool_and(similarity <= previous) from (
    select similarity, lag(similarity, 1, 2.0) over (order by ordinality) as previous
    from public.match_chapters((select embedding from query), 10) with ordinality) ranked),
  'and they come best first');
select ok((select count(*) >= 7 from (select chapter_id from public.match_chapters((select embedding from query), 10)
    intersect
    select chapter_id from (select p.chapter_id from public.chapter_passages p where p.user_id = (select owner from ids)
      order by p.embedding operator(extensions.<=>) (select embedding from query) limit 10) exact) found),
  'at least 7 of the exact top 10 are found even through another user''s cluster of near-duplicates');
select is(
  (select count(*)::integer from public.match_chapters((select embedding from query), 100) m
   join public.chapters c on c.id = m.chapter_id where c.book_id <> '00000000-0000-4000-8000-0000000aa001'),
  0, 'the neighbour''s nearer passages never appear');
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
  'searching one large book (3,200 passages) of a large library is complete and exactly ranked');

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
select tests.clear_authentication();

select throws_ok($$insert into public.chapter_passages (chapter_id, passage_index, content, content_hash, embedding, embedding_model)
    values ('00000000-0000-4000-8000-000000000001', 1, 'x', 'h', (select embedding from query), 'test')$$,
  '42501', 'passages are partitioned by owner: user_id must be the owner of the chapter''s book',
  'a passage written without its owner is refused, saying why');

select * from finish();
rollback;
