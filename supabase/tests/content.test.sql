-- Content RPCs from the outside: processing books, confirming structure, plots, and search limits.
begin;
select plan(20);

create temp table ids as
  select tests.create_user('owner@content.test') as owner, tests.create_user('other@content.test') as other;
grant select on ids to public;
insert into public.books (id, user_id, title, source_file_path)
select '00000000-0000-4000-8000-0000000dd001', owner, 'Draft', owner || '/draft.txt' from ids;
insert into public.books (id, user_id, title)
select '00000000-0000-4000-8000-0000000dd002', owner, 'No file' from ids;
insert into public.books (id, user_id, title, source_file_path)
select '00000000-0000-4000-8000-0000000dd003', owner, 'Elsewhere', other || '/stolen.txt' from ids;

select bag_has($$select queue_name from pgmq.list_queues()$$, $$values ('ingest'), ('embed'), ('plot')$$,
  'ingest, embed and plot queues exist');

-- process_book
select tests.authenticate_as_anon();
select throws_ok($$select public.process_book('00000000-0000-4000-8000-0000000dd001')$$, '42501', null,
  'anonymous callers cannot process books');
select tests.authenticate_as((select other from ids));
select throws_ok($$select public.process_book('00000000-0000-4000-8000-0000000dd001')$$, 'P0002', null,
  'another user''s book is not found');
select tests.authenticate_as((select owner from ids));
select throws_ok($$select public.process_book('00000000-0000-4000-8000-0000000dd002')$$, '22023', null,
  'a book without an uploaded file cannot be processed');
select throws_ok($$select public.process_book('00000000-0000-4000-8000-0000000dd003')$$, '42501', null,
  'a file outside the owner''s folder is refused');
select lives_ok($$select public.process_book('00000000-0000-4000-8000-0000000dd001')$$, 'the owner processes a draft');
select throws_ok($$select public.process_book('00000000-0000-4000-8000-0000000dd001')$$, 'LT006', null,
  'a book already processing is not queued twice');
select tests.clear_authentication();
select results_eq($$select status::text, progress_percentage::integer, processing_started_at is not null
                   from public.books where id = '00000000-0000-4000-8000-0000000dd001'$$,
  $$values ('processing', 0, true)$$, 'processing starts with a timestamp and zero progress');
select is((select count(*)::integer from pgmq.q_ingest where message ->> 'book_id' = '00000000-0000-4000-8000-0000000dd001'),
  1, 'one ingest message is queued');

-- Clients cannot write processing state or call the worker functions.
select tests.authenticate_as((select owner from ids));
select is(tests.try_rows($$update public.books set status = 'ready' where id = '00000000-0000-4000-8000-0000000dd001'$$),
  'denied', 'clients cannot set a book''s status');
select throws_ok($$select private.complete_book_ingest(1, '00000000-0000-4000-8000-0000000dd001', '{}', '[]')$$, '42501', null,
  'clients cannot complete an ingest');
select throws_ok($$select private.save_chapter_embeddings(1, gen_random_uuid(), 'x', 'm', '[]')$$, '42501', null,
  'clients cannot write embeddings through the worker function');

-- confirm_book_structure and generate_plot_overview need a ready book of the caller's.
select throws_ok($$select public.confirm_book_structure('00000000-0000-4000-8000-0000000dd001', '[{"title": "A", "chapters": [1]}]')$$,
  'LT006', null, 'the structure of a book still processing cannot be confirmed');
select throws_ok($$select public.generate_plot_overview('00000000-0000-4000-8000-0000000dd001')$$, 'LT006', null,
  'a plot needs a ready book');
select tests.authenticate_as((select other from ids));
select throws_ok($$select public.generate_plot_overview('00000000-0000-4000-8000-0000000dd001')$$, 'P0002', null,
  'another user cannot generate a plot for the book');
select tests.clear_authentication();

-- Embedding on change, and search limits.
update public.books set status = 'ready' where id = '00000000-0000-4000-8000-0000000dd002';
insert into public.chapters (id, book_id, chapter_number, title, content)
values ('00000000-0000-4000-8000-0000000ee001', '00000000-0000-4000-8000-0000000dd002', 1, 'One', 'Some text.');
select is((select count(*)::integer from pgmq.q_embed where message ->> 'chapter_id' = '00000000-0000-4000-8000-0000000ee001'),
  1, 'a new chapter is queued for embedding');
update public.chapters set title = 'Renamed' where id = '00000000-0000-4000-8000-0000000ee001';
select is((select count(*)::integer from pgmq.q_embed where message ->> 'chapter_id' = '00000000-0000-4000-8000-0000000ee001'),
  1, 'a title change does not re-embed');
insert into public.chapter_embeddings (chapter_id, content, content_hash, embedding, model)
values ('00000000-0000-4000-8000-0000000ee001', 'Some text.', 'h', array_fill(0.1, array[1536])::extensions.vector, 'test');
select tests.authenticate_as((select owner from ids));
select is((select count(*)::integer from public.match_chapters(array_fill(0.1, array[1536])::extensions.vector, 5)), 1,
  'the owner finds their chapter');
select throws_ok($$select * from public.match_chapters(array_fill(0.1, array[1536])::extensions.vector, 0)$$, '22023', null,
  'match_count must be positive');
select tests.authenticate_as((select other from ids));
select is((select count(*)::integer from public.match_chapters(array_fill(0.1, array[1536])::extensions.vector, 5)), 0,
  'another user finds nothing');
select tests.clear_authentication();

select * from finish();
rollback;
