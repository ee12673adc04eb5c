-- Content RPCs from the outside: processing books, confirming structure, plots, and search limits.
begin;
select plan(35);

create temp table ids as
  select tests.create_user('owner@content.test') as owner, tests.create_user('other@content.test') as other;
grant select on ids to public;
insert into public.books (id, user_id, title, file_url)
select '00000000-0000-4000-8000-0000000dd001', owner, 'Draft', owner || '/draft.txt' from ids;
insert into public.books (id, user_id, title)
select '00000000-0000-4000-8000-0000000dd002', owner, 'No file' from ids;
insert into public.books (id, user_id, title, file_url)
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
-- A path that climbs out of the owner's folder is refused however it is spelled, on insert and update.
select throws_ok(format($$insert into public.books (user_id, title, file_url) values (%L, 'T', %L)$$,
    (select owner from ids), (select owner || '/../' || other || '/secret.txt' from ids)),
  '23514', null, 'a file path with a .. segment is refused');
select throws_ok(format($$insert into public.books (user_id, title, file_url) values (%L, 'T', %L)$$,
    (select owner from ids), (select owner || '/%2e%2e/' || other || '/secret.txt' from ids)),
  '23514', null, 'a percent-encoded .. is refused');
select throws_ok(format($$insert into public.books (user_id, title, file_url) values (%L, 'T', %L)$$,
    (select owner from ids), (select owner || E'\\..\\' || other || '/secret.txt' from ids)),
  '23514', null, 'a backslash path is refused');
select throws_ok(format($$insert into storage.objects (bucket_id, name) values ('books', %L)$$,
    (select owner || '/../' || other || '/x.txt' from ids)),
  '42501', null, 'storage refuses an upload whose name leaves the owner''s folder');
select lives_ok(format($$insert into storage.objects (bucket_id, name) values ('books', %L)$$,
    (select owner || '/My Book (2nd ed.).epub' from ids)), 'an ordinary name in the owner''s folder is fine');
select throws_ok($$select public.process_book('00000000-0000-4000-8000-0000000dd001')$$, 'P0002',
  format('books/%s/draft.txt is not among your uploads: upload the file, then process the book', (select owner from ids)),
  'a file that is not among the owner''s uploads is refused');
select tests.clear_authentication();
-- Uploaded by another user (its owner in storage.objects) under the owner's name: still not the owner's.
insert into storage.objects (bucket_id, name, owner, owner_id)
select 'books', owner || '/draft.txt', other, other::text from ids;
select tests.authenticate_as((select owner from ids));
select throws_ok($$select public.process_book('00000000-0000-4000-8000-0000000dd001')$$, 'P0002', null,
  'an object someone else uploaded is not read for the owner');
select tests.clear_authentication();
update storage.objects set owner = (select owner from ids), owner_id = (select owner::text from ids)
where bucket_id = 'books' and name = (select owner || '/draft.txt' from ids);
select tests.authenticate_as((select owner from ids));
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
insert into public.chapter_passages (chapter_id, user_id, passage_index, content, content_hash, embedding, embedding_model)
select '00000000-0000-4000-8000-0000000ee001', owner, 0, 'Some text.', 'h', array_fill(0.1, array[1536])::extensions.vector, 'test'
from ids;
select tests.authenticate_as((select owner from ids));
select is((select count(*)::integer from public.match_chapters(array_fill(0.1, array[1536])::extensions.vector, 5)), 1,
  'the owner finds their chapter');
select throws_ok($$select * from public.match_chapters(array_fill(0.1, array[1536])::extensions.vector, 0)$$, '22023', null,
  'match_count must be positive');
select tests.authenticate_as((select other from ids));
select is((select count(*)::integer from public.match_chapters(array_fill(0.1, array[1536])::extensions.vector, 5)), 0,
  'another user finds nothing');
select tests.clear_authentication();

-- The embed worker's write: passages, and one chapter vector that is their normalised mean.
select tests.authenticate_as_service_role();
select ok(private.save_chapter_embeddings(0, '00000000-0000-4000-8000-0000000ee001',
    encode(sha256(convert_to('Some text.', 'UTF8')), 'hex'), 'test',
    jsonb_build_array(
      jsonb_build_object('passage_index', 0, 'content', 'Some', 'embedding', array_fill(0.3, array[1536])::extensions.vector::text),
      jsonb_build_object('passage_index', 1, 'content', 'text.', 'embedding', (array_fill(0.1, array[768]) || array_fill(0.5, array[768]))::extensions.vector::text))),
  'the embed worker saves a chapter''s passages');
select tests.clear_authentication();
select results_eq($$select passage_index, content, embedding_model, user_id from public.chapter_passages
                    where chapter_id = '00000000-0000-4000-8000-0000000ee001' order by passage_index$$,
  $$select 0, 'Some', 'test', owner from ids union all select 1, 'text.', 'test', owner from ids$$,
  'the passages replace the old ones in place, owned by the book''s owner');
select results_eq($$select count(*)::integer, min(passage_count), min(dimension),
                      bool_and(embedding operator(extensions.<=>)
                               (array_fill(0.2, array[768]) || array_fill(0.4, array[768]))::extensions.vector < 1e-5),
                      bool_and(abs(extensions.vector_norm(embedding) - 1) < 1e-5)
                    from public.chapter_embeddings where chapter_id = '00000000-0000-4000-8000-0000000ee001'$$,
  $$values (1, 2, 1536, true, true)$$,
  'one chapter embedding: the unit-length mean of its two passages');
select tests.authenticate_as_service_role();
select ok(not private.save_chapter_embeddings(0, '00000000-0000-4000-8000-0000000ee001', 'stale', 'test', '[]'),
  'a save for content that has since changed is skipped');
select tests.clear_authentication();

-- Saving a generated script: the new one is the active script of its chapter and style, earlier ones are archived.
select tests.authenticate_as((select owner from ids));
select throws_ok($$select private.save_generated_script(auth.uid(), '00000000-0000-4000-8000-0000000ee001', 'cinematic', '{}')$$,
  '42501', null, 'clients cannot save scripts through the worker function');
select tests.authenticate_as_service_role();
select private.save_generated_script(owner, '00000000-0000-4000-8000-0000000ee001', s.style::public.script_style,
  jsonb_build_object('title', s.title, 'script', 'INT. ROOM', 'model', 'offline-rules-v1', 'characters', '["Ada", "Bo"]'::jsonb,
    'scenes', '[{"scene_number": 1, "visual_description": "A room.", "characters": ["Ada", "Bo"], "key_actions": ["Ada sits", "Bo leaves"]}]'::jsonb))
from ids, (values (1, 'narration', 'N1'), (2, 'cinematic', 'C1'), (3, 'cinematic', 'C2')) as s (n, style, title)
order by s.n;
select tests.clear_authentication();
select results_eq($$select script_style::text, version, title, status::text from public.scripts
                    where chapter_id = '00000000-0000-4000-8000-0000000ee001' order by script_style, version$$,
  $$values ('cinematic', 1, 'C1', 'archived'), ('cinematic', 2, 'C2', 'active'), ('narration', 1, 'N1', 'active')$$,
  'a new script archives the earlier active script of its chapter and style only');
select is((select character_details::jsonb from public.scripts where title = 'C2'),
  '[{"name": "Ada", "role": null}, {"name": "Bo", "role": null}]'::jsonb,
  'character_details is a JSON array of names and roles');
select results_eq($$select d.characters, d.key_actions from public.scene_descriptions d join public.scripts s on s.id = d.script_id
                    where s.title = 'C2'$$,
  $$values ('["Ada", "Bo"]'::jsonb, E'Ada sits\nBo leaves')$$,
  'scene characters are a JSON array and key actions one per line');

select * from finish();
rollback;
