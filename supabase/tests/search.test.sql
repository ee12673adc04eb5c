-- match_chapters over a library large enough for the ANN path (3,000 passages or more), and for a caller
-- whose few passages are a small fraction of the index (exact search), from the outside.
begin;
select plan(11);

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
insert into public.chapter_passages (chapter_id, passage_index, content, content_hash, embedding, embedding_model)
select chapter_id, 0, 'text', 'h', embedding, 'test' from vectors;
insert into public.chapter_passages (chapter_id, passage_index, content, content_hash, embedding, embedding_model)
select '00000000-0000-4000-8002-000000000600', 0, 'text', 'h', embedding, 'test'
from vectors where chapter_id = '00000000-0000-4000-8000-000000000600';

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

select tests.authenticate_as((select other from ids));
select results_eq(
  $$select chapter_id from public.match_chapters((select embedding from query), 10)$$,
  $$values ('00000000-0000-4000-8002-000000000600'::uuid)$$,
  'the stranger finds only their own chapter');

select tests.authenticate_as_anon();
select throws_ok($$select * from public.match_chapters((select embedding from query), 10)$$, '42501', null,
  'anonymous callers cannot search');
select tests.clear_authentication();

select * from finish();
rollback;
