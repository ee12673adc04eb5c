-- Rewards: progress from real events, XP and levels, badges, quizzes, and what clients may touch.
begin;
select plan(63);

create temp table ids as
  select tests.create_user('ria@rewards.test') as ria, tests.create_user('sam@rewards.test') as sam,
    tests.create_user('one@rewards.test') as one, tests.create_user('fay@rewards.test') as fay;
grant select on ids to public;

-- The level curve.
select is(array[private.level_for_xp(0), private.level_for_xp(99), private.level_for_xp(100), private.level_for_xp(299),
                private.level_for_xp(300), private.level_for_xp(600), private.level_for_xp(1000)],
  array[1, 1, 2, 2, 3, 4, 5], 'levels start at 0, 100, 300, 600, 1000 XP');

-- A book reaching ready counts once, by its text, with its XP and the First Book badge.
insert into public.books (id, user_id, title) select 'e0000000-0000-4000-8000-0000000000b1', ria, 'Tides' from ids;
insert into public.chapters (id, book_id, chapter_number, title, content, ai_content)
values ('e0000000-0000-4000-8000-0000000000c1', 'e0000000-0000-4000-8000-0000000000b1', 1, 'Tides', 'Water moves.',
  '{"kind": "learning", "quiz": [
    {"question": "q1", "options": ["a", "b", "c", "d"], "answer_index": 0, "explanation": "e1"},
    {"question": "q2", "options": ["a", "b", "c", "d"], "answer_index": 1, "explanation": "e2"},
    {"question": "q3", "options": ["a", "b", "c", "d"], "answer_index": 2, "explanation": "e3"},
    {"question": "q4", "options": ["a", "b", "c", "d"], "answer_index": 3, "explanation": "e4"},
    {"question": "q5", "options": ["a", "b", "c", "d"], "answer_index": 0, "explanation": "e5"}]}');
update public.books set status = 'processing' where id = 'e0000000-0000-4000-8000-0000000000b1';
update public.books set status = 'ready' where id = 'e0000000-0000-4000-8000-0000000000b1';
select results_eq($$select books_uploaded, total_xp, level, achievements ? 'first_book' from public.user_progress
                    where user_id = (select ria from ids)$$,
  $$values (1, 60, 1, true)$$, 'a ready book: counted, 50 XP plus the First Book badge''s 10');
select is((select earning_context ->> 'event' from public.user_badges u join public.badges b on b.id = u.badge_id
           where u.user_id = (select ria from ids) and b.name = 'First Book'), 'book_ready',
  'the badge says what earned it');
select is((select content_hash from public.books where id = 'e0000000-0000-4000-8000-0000000000b1'),
  private.text_fingerprint('Water moves.'), 'a ready book carries the fingerprint of its text');
update public.books set status = 'failed' where id = 'e0000000-0000-4000-8000-0000000000b1';
update public.books set status = 'processing' where id = 'e0000000-0000-4000-8000-0000000000b1';
update public.books set status = 'ready' where id = 'e0000000-0000-4000-8000-0000000000b1';
select results_eq($$select books_uploaded, total_xp from public.user_progress where user_id = (select ria from ids)$$,
  $$values (1, 60)$$, 'the same book ready again counts nothing twice');
-- A second book of the same text, cased and spaced otherwise.
insert into public.books (id, user_id, title) select 'e0000000-0000-4000-8000-0000000000b2', ria, 'Tides again' from ids;
insert into public.chapters (id, book_id, chapter_number, title, content)
values ('e0000000-0000-4000-8000-0000000000c3', 'e0000000-0000-4000-8000-0000000000b2', 1, 'Tides', E'WATER\n\n  moves. ');
update public.books set status = 'processing' where id = 'e0000000-0000-4000-8000-0000000000b2';
update public.books set status = 'ready' where id = 'e0000000-0000-4000-8000-0000000000b2';
select results_eq($$select books_uploaded, total_xp from public.user_progress where user_id = (select ria from ids)$$,
  $$values (1, 60)$$, 'another book of the same text, cased and spaced otherwise, counts nothing');

-- A completed video counts once; a started one does not.
insert into public.video_generations (id, user_id, chapter_id, script_style, status)
select 'e0000000-0000-4000-8000-000000000091', ria, 'e0000000-0000-4000-8000-0000000000c1', 'cinematic', 'pending' from ids;
select is((select videos_created from public.user_progress where user_id = (select ria from ids)), 0, 'a started video is not counted');
update public.video_generations set status = 'merge' where id = 'e0000000-0000-4000-8000-000000000091';
update public.video_generations set status = 'completed', video_url = 'https://example.test/v.mp4' where id = 'e0000000-0000-4000-8000-000000000091';
select results_eq($$select videos_created, total_xp, achievements ? 'first_video' from public.user_progress
                    where user_id = (select ria from ids)$$,
  $$values (1, 180, true)$$, 'a completed video: counted, 100 XP plus Director''s Chair''s 20');
select is((select level from public.user_progress where user_id = (select ria from ids)), 2, 'and the level follows the XP');

-- A paid invoice counts its amount once, even delivered twice or late.
update public.user_subscriptions set stripe_subscription_id = 'sub_rewards_ria', current_period_start = '2026-01-01'
where user_id = (select ria from ids);
select private.apply_stripe_invoice_paid('evt_rw_1', now(), 'sub_rewards_ria', '2026-01-01', '2026-02-01', 'in_rw_1', 29.99);
select private.apply_stripe_invoice_paid('evt_rw_2', now(), 'sub_rewards_ria', '2026-01-01', '2026-02-01', 'in_rw_1', 29.99);
select private.apply_stripe_invoice_paid('evt_rw_0', now() - interval '1 day', 'sub_rewards_ria', '2025-12-01', '2026-01-01', 'in_rw_0', 29.99);
select is((select total_spent_usd from public.user_progress where user_id = (select ria from ids)), 59.98::numeric,
  'two invoices paid: counted once each, the late one too');

-- Quizzes: the answers are kept apart, and only the first attempt at a chapter text earns XP.
select is((select count(*)::integer from public.chapters c, jsonb_array_elements(c.ai_content -> 'quiz') q
           where q ? 'answer_index' or q ? 'explanation'), 0, 'no stored quiz holds its answers or explanations');
select results_eq($$select ai_content -> 'quiz' -> 1 from public.chapters where id = 'e0000000-0000-4000-8000-0000000000c1'$$,
  $$values ('{"question": "q2", "options": ["a", "b", "c", "d"]}'::jsonb)$$, 'the quiz keeps its questions and options');
select results_eq($$select content_hash = private.text_fingerprint('Water moves.'), answers -> 1 from private.quiz_answer_keys
                    where chapter_id = 'e0000000-0000-4000-8000-0000000000c1'$$,
  $$values (true, '{"answer_index": 1, "explanation": "e2"}'::jsonb)$$,
  'its answer key is kept apart, with the fingerprint of the text it was written from');

-- Who reads answer keys: no client, and the service role only through grading.
select tests.authenticate_as_anon();
select is(tests.try_rows('select * from private.quiz_answer_keys'), 'denied', 'anonymous callers cannot read answer keys');
select tests.authenticate_as((select sam from ids));
select is(tests.try_rows('select * from private.quiz_answer_keys'), 'denied', 'nor can another user');
select tests.authenticate_as((select ria from ids));
select is(tests.try_rows('select * from private.quiz_answer_keys'), 'denied', 'nor the chapter''s owner');
select results_eq($$select count(*)::integer, count(*) filter (where q ? 'answer_index' or q ? 'explanation')::integer
                    from public.chapters c, jsonb_array_elements(c.ai_content -> 'quiz') q$$,
  $$values (5, 0)$$, 'the owner reads their quiz (5 questions) without answers');
select tests.authenticate_as_service_role();
select is(tests.try_rows('select * from private.quiz_answer_keys'), 'denied', 'the service role reads keys only through grading');
-- The copy's quiz (other questions, the same text), written as the backend writes one.
update public.chapters set ai_content = '{"kind": "learning", "quiz": [
    {"question": "Q1", "options": ["a", "b"], "answer_index": 1, "explanation": "x1"},
    {"question": "Q2", "options": ["a", "b"], "answer_index": 1, "explanation": "x2"}]}'
where id = 'e0000000-0000-4000-8000-0000000000c3';
select tests.clear_authentication();
select results_eq($$select c.ai_content -> 'quiz' -> 0, k.answers -> 0, k.content_hash = private.text_fingerprint('Water moves.')
                    from public.chapters c join private.quiz_answer_keys k on k.chapter_id = c.id
                    where c.id = 'e0000000-0000-4000-8000-0000000000c3'$$,
  $$values ('{"question": "Q1", "options": ["a", "b"]}'::jsonb, '{"answer_index": 1, "explanation": "x1"}'::jsonb, true)$$,
  'the service role writes quizzes: the answers move to the key as the row is stored');

select tests.authenticate_as_anon();
select is(tests.try_rows($$select public.submit_quiz('e0000000-0000-4000-8000-0000000000c1', '[0,1,2,3,0]')$$), 'denied',
  'anonymous callers cannot take quizzes');
select tests.authenticate_as((select sam from ids));
select throws_ok($$select public.submit_quiz('e0000000-0000-4000-8000-0000000000c1', '[0,1,2,3,0]')$$, 'P0002', null,
  'another user''s chapter is not found');
select tests.authenticate_as((select ria from ids));
select throws_ok($$select public.submit_quiz('e0000000-0000-4000-8000-0000000000c1', '[0,1]')$$, '22023', null,
  'answers must match the questions');
select results_eq($$select (r ->> 'passed')::boolean, (r ->> 'score')::numeric, (r ->> 'xp_awarded')::integer,
                          (r ->> 'first_attempt')::boolean, (r -> 'questions' -> 1 ->> 'correct_answer')::integer,
                          r -> 'questions' -> 1 ->> 'explanation', (r -> 'questions' -> 1 ->> 'correct')::boolean
                   from public.submit_quiz('e0000000-0000-4000-8000-0000000000c1', '[0,0,0,0,0]') r$$,
  $$values (false, 40.00, 0, true, 1, 'e2', false)$$,
  'a first attempt with two of five: not passed, no XP; the reply shows the answers and explanations');
select results_eq($$select (r ->> 'passed')::boolean, (r ->> 'xp_awarded')::integer, (r ->> 'first_attempt')::boolean
                   from public.submit_quiz('e0000000-0000-4000-8000-0000000000c1', '[0,1,2,3,0]') r$$,
  $$values (true, 0, false)$$, 'the answers that reply showed earn nothing: only the first attempt can');
select results_eq($$select (r ->> 'passed')::boolean, (r ->> 'xp_awarded')::integer, (r ->> 'first_attempt')::boolean
                   from public.submit_quiz('e0000000-0000-4000-8000-0000000000c3', '[1,1]') r$$,
  $$values (true, 0, false)$$, 'nor does the quiz of the same text in another book');
select tests.clear_authentication();
select results_eq($$select quizzes_completed, achievements ? 'first_quiz_passed' from public.user_progress
                    where user_id = (select ria from ids)$$,
  $$values (0, false)$$, 'no quiz completed');

-- Another text: a first attempt without a mistake.
insert into public.chapters (id, book_id, chapter_number, title, content, ai_content)
values ('e0000000-0000-4000-8000-0000000000c2', 'e0000000-0000-4000-8000-0000000000b1', 2, 'Winds', 'Air moves.',
  '{"kind": "learning", "quiz": [
    {"question": "w1", "options": ["a", "b", "c"], "answer_index": 2, "explanation": "f1"},
    {"question": "w2", "options": ["a", "b", "c"], "answer_index": 0, "explanation": "f2"},
    {"question": "w3", "options": ["a", "b", "c"], "answer_index": 1, "explanation": "f3"}]}');
select tests.authenticate_as((select ria from ids));
select results_eq($$select (r ->> 'passed')::boolean, (r ->> 'xp_awarded')::integer, (r ->> 'first_attempt')::boolean
                   from public.submit_quiz('e0000000-0000-4000-8000-0000000000c2', '[2,0,1]') r$$,
  $$values (true, 100, true)$$, 'a first attempt without a mistake: 30 and 20 XP, and First Steps Scholar''s 10 and Flawless''s 40');
select is((select (r ->> 'xp_awarded')::integer from public.submit_quiz('e0000000-0000-4000-8000-0000000000c2', '[2,0,1]') r),
  0, 'a resubmission gives nothing');
select tests.clear_authentication();
select results_eq($$select quizzes_completed, achievements ? 'first_perfect_quiz' from public.user_progress
                    where user_id = (select ria from ids)$$,
  $$values (1, true)$$, 'one quiz completed, the perfect flag set');
select is((select count(*)::integer from public.quiz_attempts where user_id = (select ria from ids)), 5,
  'every graded attempt is recorded');

-- Badges: each exactly once, combinations and achievements as criteria.
select is(private.criteria_met((select p from public.user_progress p where user_id = (select ria from ids)),
  '{"all": [{"metric": "books_uploaded", "threshold": 1}, {"metric": "achievements.first_perfect_quiz", "threshold": 1}]}'),
  true, 'all-of criteria with an achievement flag hold');
select is(private.criteria_met((select p from public.user_progress p where user_id = (select ria from ids)),
  '{"any": [{"metric": "books_uploaded", "operator": ">=", "threshold": 5}, {"metric": "level", "operator": ">", "threshold": 9}]}'),
  false, 'any-of criteria that do not hold');
select private.record_progress_event((select sam from ids), 'book_ready', 'sam-book-' || n) from generate_series(1, 12) n;
select results_eq($$select b.name from public.user_badges u join public.badges b on b.id = u.badge_id
                    where u.user_id = (select sam from ids) order by b.name$$,
  $$values ('First Book'), ('Librarian')$$, 'twelve books: First Book and Librarian, once each');
select is((select total_xp from public.user_progress where user_id = (select sam from ids)), 12 * 50 + 10 + 100,
  'XP: the events plus each badge''s reward once');
select is(private.record_progress_event((select sam from ids), 'book_ready', 'sam-book-3'), 0, 'a replayed event gives 0 XP');

-- What clients may touch (`where true`: hosted's safeupdate refuses a client's UPDATE without WHERE first).
select tests.authenticate_as((select ria from ids));
select is(tests.try_rows($$update public.user_progress set total_xp = 99999 where true$$), 'denied', 'no one writes their own progress');
select is(tests.try_rows($$insert into public.user_badges (user_id, badge_id) select auth.uid(), id from public.badges where name = 'Librarian'$$),
  'denied', 'no one awards themselves a badge');
select is(tests.try_rows($$update public.user_badges set earning_context = '{}' where true$$), 'denied', 'nor rewrites how it was earned');
select is(tests.try_rows($$update public.user_badges set displayed = false where true$$), '5',
  'the owner hides their badges (First Book, Director''s Chair, Patron, First Steps Scholar, Flawless)');
select is(tests.try_rows($$update public.user_badges set displayed = false where user_id = (select sam from ids)$$), '0',
  'but not another user''s');
select is(tests.try_rows($$insert into public.nfts (user_id, badge_id, blockchain) select auth.uid(), badge_id, 'polygon' from public.user_badges$$),
  'denied', 'no one writes NFT rows');
select is(tests.try_rows($$insert into public.quiz_attempts (user_id, chapter_id, answers, correct, total, score, passed)
                          values (auth.uid(), 'e0000000-0000-4000-8000-0000000000c1', '[0]', 1, 1, 100, true)$$),
  'denied', 'quiz attempts are written only by grading');
select is(tests.try_rows($$select private.record_progress_event(auth.uid(), 'book_ready', 'fake')$$), 'denied',
  'and progress events only by the backend');
select is(tests.try_rows($$update public.chapters set ai_content = '{"quiz": []}' where true$$), 'denied',
  'no one writes a chapter''s learning content (its quiz and answers)');
select is(tests.try_rows($$insert into public.chapters (book_id, chapter_number, title, ai_content)
                          values ('e0000000-0000-4000-8000-0000000000b1', 3, 'Forged', '{"quiz": []}')$$), 'denied',
  'not even in a new chapter');
select is(tests.try_rows($$insert into public.chapters (book_id, chapter_number, title, content)
                          values ('e0000000-0000-4000-8000-0000000000b1', 3, 'Mine', 'My own text.')$$), '1',
  'while the chapter''s text is the owner''s to write');
select tests.clear_authentication();

-- Minting a badge as an NFT.
create temp table first_book as select id from public.badges where name = 'First Book';
grant select on first_book to public;
select tests.authenticate_as_anon();
select is(tests.try_rows($$select public.request_badge_nft((select id from first_book), 'polygon')$$), 'denied',
  'anonymous callers cannot mint');
select tests.authenticate_as((select sam from ids));
select throws_ok($$select public.request_badge_nft((select id from public.badges where name = 'Flawless'), 'polygon')$$,
  'P0002', null, 'a badge the caller did not earn cannot be minted (Flawless is Ria''s)');
select tests.authenticate_as((select ria from ids));
select throws_ok($$select public.request_badge_nft((select id from first_book), 'polygon', 'not-a-wallet')$$, '22023', null,
  'a wallet address the chain would not accept is refused');
create temp table minted as select public.request_badge_nft((select id from first_book), 'polygon',
  '0x90f8bf6a479f320ead074411a4b0e7944ea8c9c1') as id;
select results_eq($$select status::text, blockchain::text, wallet_address from public.nfts where id = (select id from minted)$$,
  $$values ('pending', 'polygon', '0x90f8bf6a479f320ead074411a4b0e7944ea8c9c1')$$, 'the owner''s request: a pending NFT to their wallet');
select is(public.request_badge_nft((select id from first_book), 'polygon'), (select id from minted),
  'asking again returns the same NFT');
select tests.clear_authentication();
select is((select count(*)::integer from pgmq.q_mint where message ->> 'nft_id' = (select id::text from minted)), 1,
  'one mint message, not two');
select is(tests.try_rows(format($$select private.begin_mint(%L)$$, (select id from minted))), '1', 'the worker begins it');
select private.fail_mint((select msg_id from pgmq.q_mint where message ->> 'nft_id' = (select id::text from minted)),
  (select id from minted), 'chain unreachable', true, 5);
select results_eq($$select status::text, error_message from public.nfts where id = (select id from minted)$$,
  $$values ('failed', 'chain unreachable')$$, 'a final failure leaves the reason');
select tests.authenticate_as((select ria from ids));
select is(public.request_badge_nft((select id from first_book), 'polygon'), (select id from minted), 'a failed NFT is asked for again');
select is(tests.try_rows(format($$select private.complete_mint(1, %L, '{}')$$, (select id from minted))), 'denied',
  'clients cannot complete a mint themselves');
select tests.clear_authentication();
select is((select status::text from public.nfts where id = (select id from minted)), 'pending', 'and it is pending again');

select is((select count(*)::integer from private.xp_rules), 6, 'the XP table has a row per kind of event');
select bag_has($$select tablename::text from pg_publication_tables where pubname = 'supabase_realtime'$$,
  $$values ('user_progress'), ('user_badges')$$, 'progress and badges stream through Realtime');
select ok((select count(distinct category) = 3 and count(distinct rarity) >= 4 and bool_and(icon_url is not null)
           from public.badges where is_active), 'the seeded badges span the categories and rarities, each with an icon');

-- Farming: one reader processes a learning book and answers its two quizzes without a mistake; another
-- does the same ten times, deleting the book after each round. Both end where one round ends.
create function pg_temp.read_book_and_quizzes(reader uuid)
returns void
language plpgsql
as $$
declare
  book uuid;
  chapter uuid;
  quiz jsonb := '{"kind": "learning", "quiz": [
    {"question": "q1", "options": ["a", "b", "c", "d"], "answer_index": 0, "explanation": "e1"},
    {"question": "q2", "options": ["a", "b", "c", "d"], "answer_index": 1, "explanation": "e2"},
    {"question": "q3", "options": ["a", "b", "c", "d"], "answer_index": 2, "explanation": "e3"},
    {"question": "q4", "options": ["a", "b", "c", "d"], "answer_index": 3, "explanation": "e4"},
    {"question": "q5", "options": ["a", "b", "c", "d"], "answer_index": 0, "explanation": "e5"}]}';
begin
  perform tests.authenticate_as(reader);
  insert into public.books (title, book_type) values ('Lighthouses', 'learning') returning id into book;
  perform tests.clear_authentication();
  update public.books set status = 'processing' where id = book;
  perform private.complete_book_ingest(0, book,
    '{"format": "txt", "extraction_method": "ai", "structure_type": "chapters"}',
    jsonb_build_array(
      jsonb_build_object('chapter_number', 1, 'title', 'Lamps', 'content', 'A lamp burns in the lens.',
        'summary', 'Lamps.', 'word_count', 6, 'duration', 1, 'ai_content', quiz),
      jsonb_build_object('chapter_number', 2, 'title', 'Keepers', 'content', 'Keepers trim the wick.',
        'summary', 'Keepers.', 'word_count', 4, 'duration', 1, 'ai_content', quiz)));
  perform tests.authenticate_as(reader);
  for chapter in select c.id from public.chapters c where c.book_id = book loop
    perform public.submit_quiz(chapter, '[0,1,2,3,0]');
  end loop;
  delete from public.books where id = book;
  perform tests.clear_authentication();
end;
$$;
select pg_temp.read_book_and_quizzes((select one from ids));
select pg_temp.read_book_and_quizzes((select fay from ids)) from generate_series(1, 10);
create temp view reader_progress as
  select p.user_id, p.books_uploaded, p.videos_created, p.quizzes_completed, p.total_xp, p.level,
    (select array_agg(k order by k) from jsonb_object_keys(p.achievements) k) as achievements,
    (select array_agg(b.name order by b.name) from public.user_badges u join public.badges b on b.id = u.badge_id
     where u.user_id = p.user_id) as badges
  from public.user_progress p;
select results_eq($$select books_uploaded, videos_created, quizzes_completed, total_xp, level, achievements, badges
                    from reader_progress where user_id = (select fay from ids)$$,
  $$select books_uploaded, videos_created, quizzes_completed, total_xp, level, achievements, badges
    from reader_progress where user_id = (select one from ids)$$,
  'ten rounds of the same book earn what one round does: counters, XP, level, achievements, badges');
select results_eq($$select books_uploaded, quizzes_completed, total_xp, level, badges from reader_progress
                    where user_id = (select fay from ids)$$,
  $$values (1, 2, 210, 2, array['First Book', 'First Steps Scholar', 'Flawless'])$$,
  'which is one book, two quizzes, 210 XP, level 2, and no Librarian or Centurion to mint');
select results_eq($$select event_kind, count(*)::integer from private.progress_events
                    where user_id = (select fay from ids) group by event_kind order by event_kind$$,
  $$values ('book_ready', 1), ('quiz_attempted', 2), ('quiz_passed', 2), ('quiz_perfect', 2)$$,
  'the ledger holds one round''s events; the ten books are gone');

select * from finish();
rollback;
