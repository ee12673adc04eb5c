-- Audiobook exports from the outside: who reads an export, the client RPC and each of its errors, what
-- it plans and queues, the ceilings and the budget, and the worker steps (closed to clients).
begin;
select plan(70);

create temp table ids as
  select tests.create_user('owner@audiobooks.test') as owner, tests.create_user('other@audiobooks.test') as other;
grant select on ids to public;
insert into public.books (id, user_id, title, status, cover_url) select '00000000-0000-4000-8000-0000000ab001', owner,
  'The Lighthouse', 'ready', owner || '/lighthouse.png' from ids;
insert into public.books (id, user_id, title, status) select '00000000-0000-4000-8000-0000000ab002', owner, 'Draft', 'draft'
  from ids;
insert into public.chapters (id, book_id, chapter_number, title, content) values
  ('00000000-0000-4000-8000-0000000ac001', '00000000-0000-4000-8000-0000000ab001', 1, 'The Harbour', 'Mara came to the harbour.'),
  ('00000000-0000-4000-8000-0000000ac002', '00000000-0000-4000-8000-0000000ab001', 2, 'The Lamp', 'Tomas lit the lamp.'),
  ('00000000-0000-4000-8000-0000000ac003', '00000000-0000-4000-8000-0000000ab001', 3, 'Blank', '   '),
  ('00000000-0000-4000-8000-0000000ac004', '00000000-0000-4000-8000-0000000ab002', 1, 'Draft', 'Not yet.');
insert into storage.objects (bucket_id, name, owner, owner_id)
select 'covers', owner || '/lighthouse.png', owner, owner::text from ids;
-- Chapter 1 has a completed video whose audio stage made two scene tracks.
insert into public.video_generations (id, user_id, chapter_id, script_style, status, video_url, completed_at)
select '00000000-0000-4000-8000-0000000ad001', owner, '00000000-0000-4000-8000-0000000ac001', 'cinematic', 'completed',
  'final.mp4', now() from ids;
insert into private.pipeline_units (generation_id, step, unit_key, status, result)
select '00000000-0000-4000-8000-0000000ad001', 'audio', 'scene:' || n, 'completed',
  jsonb_build_object('storage_path', owner || '/generations/00000000-0000-4000-8000-0000000ad001/scene-' || n || '/audio.wav',
    'duration_ms', 1500 * n)
from ids, generate_series(1, 2) n;
create temp table started (label text primary key, id uuid);
grant all on started to public;

-- Data: the queue, the rate limit and the ceilings.
select bag_has($$select queue_name from pgmq.list_queues()$$, $$values ('audiobook_export')$$, 'exports have their queue');
select is((select max_calls from private.rate_limits where action = 'audiobook_export'), 20, 'twenty exports an hour');
select is_empty($$select c.quality_tier from private.tier_ceilings c
                  where private.price_of(private.ladder_model(c.quality_tier, 'audio'), jsonb_build_object(
                    'characters', c.max_export_characters, 'seconds', c.max_export_characters / 15.0))
                    + private.price_of(private.ladder_model(c.quality_tier, 'merge'),
                      jsonb_build_object('seconds', c.max_export_seconds)) > c.max_period_usd$$,
  'the largest export of every quality costs less than its period budget');
select is_empty($$select c.quality_tier from private.tier_ceilings c cross join storage.buckets b
                  where b.id = 'media' and c.max_export_seconds * 8000 > b.file_size_limit$$,
  'the longest export at 64 kbit/s fits the media bucket''s file size');
select ok((select bool_and(c.max_export_characters >= below) from (select max_export_characters,
    lag(max_export_characters, 1, 0) over (order by quality_tier) as below from private.tier_ceilings) c),
  'a higher quality may speak at least as much');

-- Who may start, and each refusal.
select tests.authenticate_as_anon();
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001')$$, '42501', null,
  'anonymous callers cannot export');
select tests.authenticate_as((select other from ids));
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001')$$, 'P0002',
  'book 00000000-0000-4000-8000-0000000ab001 not found among yours', 'another user''s book is not found');
select tests.authenticate_as((select owner from ids));
select throws_ok($$select public.start_audiobook_export(null)$$, '22023', 'book_id, format and source are required',
  'a book is required');
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001', null, null)$$, '22023',
  'book_id, format and source are required', 'a format is required');
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001', null, 'wav')$$, '22P02',
  null, 'an unknown format is refused');
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001',
    '00000000-0000-4000-8000-0000000ac004')$$, 'P0002',
  'chapter 00000000-0000-4000-8000-0000000ac004 not found in book 00000000-0000-4000-8000-0000000ab001',
  'a chapter of another book is not found');
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab002')$$, 'LT006',
  'book 00000000-0000-4000-8000-0000000ab002 is draft; only a ready book can be exported', 'a draft book cannot be exported');
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001',
    '00000000-0000-4000-8000-0000000ac001', 'm4b', 'auto', 'premium')$$, 'LT005',
  'quality premium is not included in the free tier (up to free)', 'quality above the tier is refused');
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001',
    '00000000-0000-4000-8000-0000000ac002', 'm4b', 'generation')$$, 'LT014',
  'chapter 2 ("The Lamp") has no completed video whose narration can be exported: make its video, or export with source narration or auto',
  'a chapter without a video has no narration of one to export');
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001', null, 'mp3')$$, 'LT014',
  'chapter 3 ("Blank") has no text to narrate', 'a chapter without text cannot be narrated');
select tests.clear_authentication();
select is((select count(*)::integer from public.audiobook_exports), 0, 'no refused export leaves a row');
select is((select count(*)::integer from pgmq.q_audiobook_export), 0, 'nor a message');
update public.user_subscriptions set status = 'past_due' where user_id = (select owner from ids);
select tests.authenticate_as((select owner from ids));
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001',
    '00000000-0000-4000-8000-0000000ac001')$$, 'LT002',
  'your subscription is past_due: update your payment method to export audiobooks', 'a past-due subscription cannot export');
select tests.clear_authentication();
update public.user_subscriptions set status = 'active' where user_id = (select owner from ids);

-- A chapter exported from its video's narration: nothing to speak, the file is queued at once.
select tests.authenticate_as((select owner from ids));
insert into started select 'video', public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001',
  '00000000-0000-4000-8000-0000000ac001');
select results_eq($$select status::text, format::text, source::text, quality_tier::text, voice_model, total_chapters,
    completed_chapters, speech_characters, cover_path is not null from public.audiobook_exports
  where id = (select id from started where label = 'video')$$,
  $$values ('pending', 'm4b', 'auto', 'free', 'espeak-ng', 1, 1, 0, true)$$,
  'the owner reads their export: pending, M4B, the free voice, one chapter ready from its video, with the cover');
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001',
    '00000000-0000-4000-8000-0000000ac001')$$, 'LT003', 'an m4b export of this chapter is already being made',
  'one export of a chapter in a format at a time');
select tests.clear_authentication();
select results_eq($$select source, generation_id, tracks -> 1 ->> 'duration_ms', duration_ms, status::text
    from private.audiobook_export_chapters where export_id = (select id from started where label = 'video')$$,
  $$values ('generation', '00000000-0000-4000-8000-0000000ad001'::uuid, '3000', 4500, 'completed')$$,
  'its chapter takes the video''s scene tracks in order, 4.5 s in all');
select results_eq($$select message ->> 'export_id', message ->> 'assemble', message ->> 'seconds' from pgmq.q_audiobook_export$$,
  $$select id::text, 'true', '5' from started where label = 'video'$$, 'the file is queued in the same transaction');

-- Another user, anon and the service role on the export row.
create temp table export_row as select id from started where label = 'video';
grant select on export_row to public;
select tests.authenticate_as_anon();
select is(tests.try_rows($$select 1 from public.audiobook_exports where id = (select id from export_row)$$), 'denied',
  'anon cannot read exports');
select is(tests.try_rows($$update public.audiobook_exports set progress_percentage = 50 where id = (select id from export_row)$$),
  'denied', 'anon cannot update exports');
select is(tests.try_rows($$insert into public.audiobook_exports (user_id, book_id, format, source, quality_tier, voice_model,
    total_chapters) select owner, '00000000-0000-4000-8000-0000000ab001', 'mp3', 'auto', 'free', 'espeak-ng', 1 from ids$$),
  'denied', 'anon cannot insert exports');
select is(tests.try_rows($$delete from public.audiobook_exports where id = (select id from export_row)$$), 'denied',
  'anon cannot delete exports');
select tests.authenticate_as((select other from ids));
select is(tests.try_rows($$select 1 from public.audiobook_exports where id = (select id from export_row)$$), '0',
  'another user cannot read the owner''s export');
select is(tests.try_rows($$update public.audiobook_exports set progress_percentage = 50 where id = (select id from export_row)$$),
  'denied', 'another user cannot update it');
select is(tests.try_rows($$insert into public.audiobook_exports (user_id, book_id, format, source, quality_tier, voice_model,
    total_chapters) select other, '00000000-0000-4000-8000-0000000ab001', 'mp3', 'auto', 'free', 'espeak-ng', 1 from ids$$),
  'denied', 'another user cannot insert one');
select is(tests.try_rows($$delete from public.audiobook_exports where id = (select id from export_row)$$), 'denied',
  'another user cannot delete it');
select tests.authenticate_as((select owner from ids));
select is(tests.try_rows($$select 1 from public.audiobook_exports where id = (select id from export_row)$$), '1',
  'the owner reads it');
select is(tests.try_rows($$update public.audiobook_exports set status = 'completed', storage_path = 'x' where id = (select id from export_row)$$),
  'denied', 'the owner cannot write its status');
select is(tests.try_rows($$insert into public.audiobook_exports (user_id, book_id, format, source, quality_tier, voice_model,
    total_chapters) select owner, '00000000-0000-4000-8000-0000000ab001', 'mp3', 'auto', 'free', 'espeak-ng', 1 from ids$$),
  'denied', 'the owner starts exports only through the RPC');
select is(tests.try_rows($$delete from public.audiobook_exports where id = (select id from export_row)$$), 'denied',
  'the owner cannot delete it');
select tests.authenticate_as_service_role();
select is(tests.try_rows($$select 1 from public.audiobook_exports where id = (select id from export_row)$$), '1',
  'the service role reads it');
select is(tests.try_rows($$update public.audiobook_exports set progress_percentage = 50 where id = (select id from export_row)$$),
  '1', 'the service role updates it');
select is(tests.try_rows($$delete from public.audiobook_exports where id = (select id from export_row)$$), '1',
  'the service role deletes it');
select tests.authenticate_as((select owner from ids));
select ok(not has_function_privilege('private.begin_audiobook_chapter(uuid, integer)', 'execute')
  and not has_function_privilege('private.complete_audiobook_export(bigint, uuid, text, text, integer, bigint, jsonb, boolean)', 'execute')
  and not has_function_privilege('private.fail_audiobook_step(bigint, uuid, integer, text, boolean)', 'execute'),
  'clients cannot call the worker steps');

-- The whole book spoken for the export (chapter 3 given a text first).
update public.chapters set content = 'The keeper slept.' where id = '00000000-0000-4000-8000-0000000ac003';
insert into started select 'book', public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001', null, 'mp3',
  'narration');
select tests.clear_authentication();
select results_eq($$select position, source, characters, status::text from private.audiobook_export_chapters
    where export_id = (select id from started where label = 'book') order by position$$,
  $$values (1, 'narration', char_length(E'The Harbour\n\nMara came to the harbour.'), 'pending'),
           (2, 'narration', char_length(E'The Lamp\n\nTomas lit the lamp.'), 'pending'),
           (3, 'narration', char_length(E'Blank\n\nThe keeper slept.'), 'pending')$$,
  'every chapter is spoken for the export: its title, then its text');
select results_eq($$select speech_characters, completed_chapters, total_chapters from public.audiobook_exports
    where id = (select id from started where label = 'book')$$,
  $$values (char_length(E'The Harbour\n\nMara came to the harbour.') + char_length(E'The Lamp\n\nTomas lit the lamp.')
    + char_length(E'Blank\n\nThe keeper slept.'), 0, 3)$$, 'the export counts what it will speak');
select results_eq($$select (message ->> 'position')::integer from pgmq.q_audiobook_export
    where message ->> 'export_id' = (select id::text from started where label = 'book') order by msg_id$$,
  $$values (1), (2), (3)$$, 'one message per chapter to speak');

-- The worker steps: begin, a segment, completion, the file queued once.
create temp table step (label text primary key, value jsonb);
insert into step select 'begin', private.begin_audiobook_chapter((select id from started where label = 'book'), 1);
select results_eq($$select value ->> 'text', value ->> 'model', (value ->> 'attempt')::integer from step where label = 'begin'$$,
  $$values (E'The Harbour\n\nMara came to the harbour.', 'espeak-ng', 1)$$, 'beginning a chapter gives its text and voice');
select is((select status::text from public.audiobook_exports where id = (select id from started where label = 'book')),
  'processing', 'the export is processing once a worker begins it');
select private.save_audiobook_segment((select id from started where label = 'book'), 1, 0, 'a/exports/x/parts/chapter-1-0.flac', 2000, 36);
select private.save_audiobook_segment((select id from started where label = 'book'), 1, 0, 'a/exports/x/parts/chapter-1-0.flac', 2000, 36);
select is((select jsonb_array_length(segments) from private.audiobook_export_chapters
           where export_id = (select id from started where label = 'book') and position = 1), 1,
  'a segment saved twice is kept once');
select is(private.complete_audiobook_chapter(0, (select id from started where label = 'book'), 1, 2000), 'completed',
  'the first chapter completes');
select is(private.complete_audiobook_chapter(0, (select id from started where label = 'book'), 1, 2000), 'stale',
  'its completion replayed changes nothing');
select is(private.begin_audiobook_chapter((select id from started where label = 'book'), 1), null,
  'a spoken chapter is not begun again');
select private.begin_audiobook_chapter((select id from started where label = 'book'), 2);
select is(private.complete_audiobook_chapter(0, (select id from started where label = 'book'), 2, 1000), 'completed',
  'the second chapter completes');
update public.chapters set content = 'The keeper woke.' where id = '00000000-0000-4000-8000-0000000ac003';
select throws_ok($$select private.begin_audiobook_chapter((select id from started where label = 'book'), 3)$$, 'P0001',
  'the chapter''s text changed after the export began: start a new export', 'a chapter edited since the export began is not spoken');
update public.chapters set content = 'The keeper slept.' where id = '00000000-0000-4000-8000-0000000ac003';
select private.begin_audiobook_chapter((select id from started where label = 'book'), 3);
select is(private.begin_audiobook_assembly((select id from started where label = 'book')), null,
  'the file is not begun while a chapter is still being spoken');
select is(private.complete_audiobook_chapter(0, (select id from started where label = 'book'), 3, 1000), 'chapters_completed',
  'the last chapter spoken queues the file');
select is((select count(*)::integer from pgmq.q_audiobook_export where message ->> 'export_id' = (select id::text from started where label = 'book')
           and message ? 'assemble'), 1, 'once');
select results_eq($$select completed_chapters, progress_percentage from public.audiobook_exports
    where id = (select id from started where label = 'book')$$, $$values (3, 89)$$,
  'every chapter is ready; progress stops short of the file');
select results_eq($$select jsonb_array_length(value -> 'chapters'), value -> 'chapters' -> 0 -> 'files' -> 0 ->> 'storage_path',
    value ->> 'format', (value ->> 'attempt')::integer from (select private.begin_audiobook_assembly(
    (select id from started where label = 'book')) as value) v$$,
  $$values (3, 'a/exports/x/parts/chapter-1-0.flac', 'mp3', 1)$$, 'the file begins with every chapter''s files in order');

-- A final failure: the export failed with the message, its other messages dropped; nothing resumes it.
select private.fail_audiobook_step(0, (select id from started where label = 'book'), null, 'ffmpeg could not encode', false);
select is((select status::text from public.audiobook_exports where id = (select id from started where label = 'book')),
  'processing', 'a failed attempt that will be retried leaves the export processing');
select private.fail_audiobook_step(0, (select id from started where label = 'book'), null, 'ffmpeg could not encode', true);
select results_eq($$select status::text, error_message from public.audiobook_exports where id = (select id from started where label = 'book')$$,
  $$values ('failed', 'making the audiobook file: ffmpeg could not encode')$$, 'a final failure fails the export, saying why');
select is((select count(*)::integer from pgmq.q_audiobook_export where message ->> 'export_id' = (select id::text from started where label = 'book')),
  0, 'its messages are dropped');
select is(private.begin_audiobook_assembly((select id from started where label = 'book')), null, 'a failed export is not begun');
select throws_ok($$update public.audiobook_exports set status = 'processing' where id = (select id from started where label = 'book')$$,
  '23514', 'an audiobook export cannot go from failed to processing', 'nothing leaves failed');

-- Ceilings and the budget, before anything is queued.
select pgmq.purge_queue('audiobook_export');
-- 'The Lamp', a blank line and 8,000 sentences of 13 characters (less the last space): 104,009 characters.
update public.chapters set content = repeat('Mara walked. ', 8000) where id = '00000000-0000-4000-8000-0000000ac002';
select tests.authenticate_as((select owner from ids));
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001',
    '00000000-0000-4000-8000-0000000ac002')$$, 'LT015',
  'this export would speak 104009 characters; a free-quality export may speak at most 100000: export fewer chapters, use their videos'' narration, or choose a higher quality',
  'past the characters a free export may speak');
select tests.clear_authentication();
update private.pipeline_units set result = jsonb_set(result, '{duration_ms}', '9000000')
where generation_id = '00000000-0000-4000-8000-0000000ad001' and unit_key = 'scene:1';
select tests.authenticate_as((select owner from ids));
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001',
    '00000000-0000-4000-8000-0000000ac001', 'mp3')$$, 'LT015',
  'this export would last about 9003 s; a free-quality export may last at most 9000 s: export fewer chapters or choose a higher quality',
  'past the length a free export may last');
select tests.clear_authentication();
insert into public.usage_logs (user_id, resource_type, provider, model_used, operation, cost_usd, tier_at_time)
select owner, 'script', 'openai', 'gpt-4o-mini', 'script', 1.9999, 'free' from ids;
select tests.authenticate_as((select owner from ids));
select throws_like($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001',
    '00000000-0000-4000-8000-0000000ac003', 'mp3')$$,
  'this billing period''s model costs ($2.00 so far, and about $0.00 for this export) would pass the free tier''s budget of $2.00: more can be made from %',
  'past the period''s budget the export is refused');
select throws_ok($$select public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001',
    '00000000-0000-4000-8000-0000000ac003', 'mp3')$$, 'LT010', null, 'with LT010');
select tests.clear_authentication();
select is((select count(*)::integer from pgmq.q_audiobook_export), 0, 'nothing refused was queued');

-- A cover that is not the owner's is not carried.
update public.books set cover_url = (select other from ids) || '/theirs.png' where id = '00000000-0000-4000-8000-0000000ab001';
delete from public.usage_logs where user_id = (select owner from ids);
select tests.authenticate_as((select owner from ids));
insert into started select 'no cover', public.start_audiobook_export('00000000-0000-4000-8000-0000000ab001',
  '00000000-0000-4000-8000-0000000ac003', 'mp3');
select is((select cover_path from public.audiobook_exports where id = (select id from started where label = 'no cover')), null,
  'another user''s cover is not used');

-- An export's files are the backend's: the owner reads them and cannot add, replace or delete them.
select tests.clear_authentication();
insert into storage.objects (bucket_id, name, owner_id)
select 'media', owner || '/exports/' || (select id from started where label = 'no cover') || '/audiobook.mp3', owner::text
from ids;
select tests.authenticate_as((select owner from ids));
select is(tests.try_rows($$select 1 from storage.objects where name like '%/exports/%'$$), '1', 'the owner reads their export''s file');
select is(tests.try_rows($$insert into storage.objects (bucket_id, name) select 'media', owner || '/exports/x/audiobook.m4b' from ids$$),
  'denied', 'the owner cannot add a file to an export''s folder');
select is(tests.try_rows($$update storage.objects set metadata = '{"size": 1}' where name like '%/exports/%'$$), '0',
  'the owner cannot replace an export''s file');
select is(tests.try_rows($$delete from storage.objects where name like '%/exports/%'$$), '0',
  'the owner cannot delete an export''s file');
select tests.authenticate_as((select other from ids));
select is(tests.try_rows($$select 1 from storage.objects where name like '%/exports/%'$$), '0',
  'another user cannot see it');

select * from finish();
rollback;
