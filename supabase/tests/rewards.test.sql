-- Rewards: progress from real events, XP and levels, badges, quizzes, and what clients may touch.
begin;
select plan(47);

create temp table ids as
  select tests.create_user('ria@rewards.test') as ria, tests.create_user('sam@rewards.test') as sam;
grant select on ids to public;

-- The level curve.
select is(array[private.level_for_xp(0), private.level_for_xp(99), private.level_for_xp(100), private.level_for_xp(299),
                private.level_for_xp(300), private.level_for_xp(600), private.level_for_xp(1000)],
  array[1, 1, 2, 2, 3, 4, 5], 'levels start at 0, 100, 300, 600, 1000 XP');

-- A book reaching ready counts once, with its XP and the First Book badge.
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
update public.books set status = 'failed' where id = 'e0000000-0000-4000-8000-0000000000b1';
update public.books set status = 'processing' where id = 'e0000000-0000-4000-8000-0000000000b1';
update public.books set status = 'ready' where id = 'e0000000-0000-4000-8000-0000000000b1';
select results_eq($$select books_uploaded, total_xp from public.user_progress where user_id = (select ria from ids)$$,
  $$values (1, 60)$$, 'the same book ready again counts nothing twice');

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

-- Quizzes.
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
                          r -> 'questions' -> 1 ->> 'explanation', (r -> 'questions' -> 1 ->> 'correct')::boolean
                   from public.submit_quiz('e0000000-0000-4000-8000-0000000000c1', '[0,0,0,0,0]') r$$,
  $$values (false, 40.00, 0, 'e2', false)$$, 'two of five: not passed, no XP, explanations returned');
select results_eq($$select (r ->> 'passed')::boolean, (r ->> 'xp_awarded')::integer
                   from public.submit_quiz('e0000000-0000-4000-8000-0000000000c1', '[0,1,2,0,0]') r$$,
  $$values (true, 40)$$, 'four of five: a first pass gives 30 XP, and First Steps Scholar its 10');
select results_eq($$select (r ->> 'passed')::boolean, (r ->> 'xp_awarded')::integer
                   from public.submit_quiz('e0000000-0000-4000-8000-0000000000c1', '[0,1,2,3,0]') r$$,
  $$values (true, 60)$$, 'a first perfect score gives 20 more and Flawless its 40, not the pass again');
select is((select (r ->> 'xp_awarded')::integer from public.submit_quiz('e0000000-0000-4000-8000-0000000000c1', '[0,1,2,3,0]') r),
  0, 'a resubmission gives nothing');
select tests.clear_authentication();
select results_eq($$select quizzes_completed, achievements ? 'first_perfect_quiz' from public.user_progress
                    where user_id = (select ria from ids)$$,
  $$values (1, true)$$, 'one quiz completed, the perfect flag set');
select is((select count(*)::integer from public.quiz_attempts where user_id = (select ria from ids)), 4,
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
                          values ('e0000000-0000-4000-8000-0000000000b1', 2, 'Forged', '{"quiz": []}')$$), 'denied',
  'not even in a new chapter');
select is(tests.try_rows($$insert into public.chapters (book_id, chapter_number, title, content)
                          values ('e0000000-0000-4000-8000-0000000000b1', 2, 'Mine', 'My own text.')$$), '1',
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

select is((select count(*)::integer from private.xp_rules), 5, 'the XP table has a row per kind of event');
select bag_has($$select tablename::text from pg_publication_tables where pubname = 'supabase_realtime'$$,
  $$values ('user_progress'), ('user_badges')$$, 'progress and badges stream through Realtime');
select ok((select count(distinct category) = 3 and count(distinct rarity) >= 4 and bool_and(icon_url is not null)
           from public.badges where is_active), 'the seeded badges span the categories and rarities, each with an icon');

select * from finish();
rollback;
