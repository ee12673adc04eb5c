-- Account deletion: the preview and the request as anon, another user, the owner, a superadmin and
-- the service role; what the request stops at once; what survives the auth user's deletion (the
-- audit row and the anonymised paid calls) and what does not; late calls; the worker's steps.
begin;
select plan(66);

create temp table ids as
  select tests.create_user('owner@deletion.test') as owner, tests.create_user('other@deletion.test') as other,
    tests.create_user('admin@deletion.test') as admin, tests.create_user('victim@deletion.test') as victim,
    tests.create_user('gone@deletion.test') as gone, tests.create_user('payer@deletion.test') as payer;
grant select on ids to public;
insert into public.user_roles (user_id, role_name) select admin, 'superadmin' from ids;
create temp table run (label text primary key, id uuid);
grant all on run to public;
-- The delete-account worker's messages, by what sent them.
create temp table msgs (label text primary key, msg_id bigint);
grant all on msgs to public;
create function pg_temp.deletion_messages(p_label text, p_visible boolean default null)
returns setof bigint
language sql
as $$
  select q.msg_id from pgmq.q_delete_account q
  where q.message ->> 'deletion_id' = (select id from run where label = p_label)::text
    and (p_visible is null or (q.vt <= clock_timestamp()) = p_visible)
$$;

-- The owner's account: a book with a chapter (its embed message), a video being made with its paid
-- call under way, a paid call logged, files in each bucket, an NFT being minted, queued work.
insert into public.books (id, user_id, title) select '00000000-0000-4000-8000-00000000d101', owner, 'Doomed' from ids;
insert into public.chapters (id, book_id, chapter_number, title, content) values
  ('00000000-0000-4000-8000-00000000d102', '00000000-0000-4000-8000-00000000d101', 1, 'One', 'Ada walked in.');
select tests.authenticate_as((select owner from ids));
insert into run select 'generation', public.start_video_generation('00000000-0000-4000-8000-00000000d102');
select tests.clear_authentication();
create temp table began as
  select private.begin_step((select id from run where label = 'generation'), 'script', 'chapter', 1) as context;
select private.record_usage((select owner from ids), null, 'gpt-4o-mini', 'plot', 'deletion-test:plot', 1000, 1000);
insert into storage.objects (bucket_id, name, metadata) select b, owner || n, jsonb_build_object('size', s)
from ids, (values ('books', '/doomed.txt', 100), ('covers', '/cover.png', 20),
                  ('media', '/generations/00000000-0000-4000-8000-00000000d103/scene-1/image.png', 3)) f (b, n, s);
insert into storage.objects (bucket_id, name, metadata) select 'books', other || '/kept.txt', '{"size": 7}'::jsonb from ids
union all select 'nfts', 'bafkreideletiontest.json', '{"size": 9}'::jsonb;
insert into public.user_badges (user_id, badge_id) select owner, (select id from public.badges where name = 'First Book') from ids;
insert into public.nfts (id, user_id, badge_id, blockchain)
select '00000000-0000-4000-8000-00000000d104', owner, (select id from public.badges where name = 'First Book'), 'polygon'
from ids;
select pgmq.send('mint', '{"nft_id": "00000000-0000-4000-8000-00000000d104"}');
select pgmq.send('ingest', '{"book_id": "00000000-0000-4000-8000-00000000d101"}');
select pgmq.send('plot', '{"book_id": "00000000-0000-4000-8000-00000000d101"}');
select pgmq.archive('plot', (select pgmq.send('plot', '{"book_id": "00000000-0000-4000-8000-00000000d101"}')));
-- Another user's queued work, which stays.
insert into public.books (id, user_id, title) select '00000000-0000-4000-8000-00000000d201', other, 'Kept' from ids;
select pgmq.send('plot', '{"book_id": "00000000-0000-4000-8000-00000000d201"}');
update public.user_subscriptions set stripe_subscription_id = 'sub_deletion_test', tier = 'standard'
where user_id = (select payer from ids);

-- Who may look and ask.
select tests.authenticate_as_anon();
select is(tests.try_rows('select * from public.account_deletion_preview()'), 'denied', 'anon cannot preview a deletion');
select is(tests.try_rows('select * from public.delete_account()'), 'denied', 'anon cannot delete an account');
select tests.authenticate_as((select other from ids));
select throws_ok(format('select * from public.account_deletion_preview(%L)', (select owner from ids)), '42501',
  'only a superadmin can see or delete another user''s account', 'another user cannot preview the owner''s deletion');
select throws_ok(format('select * from public.delete_account(%L, ''other'')', (select owner from ids)), '42501',
  'only a superadmin can see or delete another user''s account', 'another user cannot delete the owner''s account');
select throws_ok($$select * from public.account_deletion_preview('00000000-0000-4000-8000-0000000000ff')$$, '42501',
  null, 'another user learns nothing of who exists');
select tests.authenticate_as((select admin from ids));
select throws_ok($$select * from public.account_deletion_preview('00000000-0000-4000-8000-0000000000ff')$$, 'P0002',
  'no user with id 00000000-0000-4000-8000-0000000000ff', 'a superadmin is told an account does not exist');
select throws_ok(format('select * from public.delete_account(%L)', (select owner from ids)), '22023',
  'say why this account is deleted: reason', 'a superadmin says why');
select is((select user_id from public.account_deletion_preview((select owner from ids))), (select owner from ids),
  'a superadmin previews anyone''s deletion');
select tests.authenticate_as_service_role();
select throws_ok('select * from public.delete_account()', '22023', 'name the account: target_user',
  'the service role names the account');
select tests.authenticate_as((select payer from ids));
select is((select subscription_renews from public.account_deletion_preview()), true,
  'the preview says a Stripe subscription would go on charging');
select throws_ok('select * from public.delete_account()', 'LT013', null,
  'an account whose subscription renews is not deleted: cancel it first');

-- The preview, as the owner.
select tests.authenticate_as((select owner from ids));
select results_eq($$select books, chapters, generations, generations_running, files, file_bytes, nfts, usage_calls,
                    usage_cost_usd, subscription_renews, deletion_id from public.account_deletion_preview()$$,
  $$values (1, 1, 1, 1, 3, 123::bigint, 1, 1, 0.00075::numeric, false, null::uuid)$$,
  'the preview counts books, chapters, generations, files and bytes (not another user''s, not the public NFT files), NFTs and paid calls');

-- The request.
insert into run select 'deletion', (public.delete_account()).id;
select tests.clear_authentication();
select results_eq($$select requested_by::text, reason::text, status::text, books, chapters, generations, generations_stopped,
                    queued_messages, files, file_bytes, nfts from public.account_deletions where id = (select id from run where label = 'deletion')$$,
  $$values ('user', 'user_request', 'in_progress', 1, 1, 1, 1, 5, 3, 123::bigint, 1)$$,
  'the audit row: the user asked, what the account had, one generation stopped and five queued messages dropped');
select tests.authenticate_as((select owner from ids));
select is((public.delete_account()).id, (select id from run where label = 'deletion'), 'asking again returns the deletion under way');
select is((select deletion_id from public.account_deletion_preview()), (select id from run where label = 'deletion'),
  'the preview shows the deletion under way');
select is(tests.try_rows('select 1 from public.account_deletions'), '0', 'the user does not read the audit');
select is(tests.try_rows(format($$insert into storage.objects (bucket_id, name) values ('covers', '%s/late.png')$$,
  (select owner from ids))), 'denied', 'an account being deleted uploads nothing more');
select tests.authenticate_as((select other from ids));
select is(tests.try_rows(format($$insert into storage.objects (bucket_id, name) values ('covers', '%s/mine.png')$$,
  (select other from ids))), '1', 'another user still uploads into their own folder');
select tests.clear_authentication();
select results_eq($$select status::text, (pipeline_metadata ->> 'refunded')::boolean from public.video_generations
                    where id = (select id from run where label = 'generation')$$,
  $$values ('canceled', false)$$, 'its video being made is canceled (the account goes: nothing is refunded)');
select is((select count(*)::integer from (
  select message from pgmq.q_script union all select message from pgmq.q_embed union all select message from pgmq.q_ingest
  union all select message from pgmq.q_plot union all select message from pgmq.q_mint union all select message from pgmq.a_plot) m
  where m.message ->> 'generation_id' = (select id from run where label = 'generation')::text
     or m.message ->> 'chapter_id' = '00000000-0000-4000-8000-00000000d102'
     or m.message ->> 'book_id' = '00000000-0000-4000-8000-00000000d101'
     or m.message ->> 'nft_id' = '00000000-0000-4000-8000-00000000d104'), 0,
  'none of its messages is left in any queue or archive');
select is((select count(*)::integer from pgmq.q_plot where message ->> 'book_id' = '00000000-0000-4000-8000-00000000d201'), 1,
  'another user''s queued work stays');
insert into msgs select 'request', pg_temp.deletion_messages('deletion');
select is((select count(*)::integer from msgs where label = 'request'), 1, 'the delete-account worker has a round queued');
select throws_ok(format($$select private.reserve_cost('deletion-test:new', %L, 'gpt-4o-mini', '{"input_tokens": 10}')$$,
  (select owner from ids)), 'LT012', 'this account is being deleted: no more paid work is started for it',
  'no paid call starts for an account being deleted');

-- The worker's first round sees the account's files, not anyone else's.
select tests.authenticate_as_service_role();
select results_eq(format('select bucket_id, name from private.account_deletion_objects(%L, 10)', (select id from run where label = 'deletion')),
  format($$values ('books', '%1$s/doomed.txt'), ('covers', '%1$s/cover.png'),
    ('media', '%1$s/generations/00000000-0000-4000-8000-00000000d103/scene-1/image.png')$$, (select owner from ids)),
  'the round removes the account''s files in books, covers and media');
select is((select private.begin_account_deletion_round((select id from run where label = 'deletion')) ->> 'auth_user_exists'),
  'true', 'and its auth user is still there to delete');
select is(private.finish_account_deletion_round((select msg_id from msgs where label = 'request'),
    (select id from run where label = 'deletion')), 'again', 'a round that leaves files is followed by another');
select tests.clear_authentication();
insert into msgs select 'again', pg_temp.deletion_messages('deletion', true);
select ok((select count(*) = 1 and min(label) = 'again' from msgs m where m.msg_id in (select pg_temp.deletion_messages('deletion'))),
  'a fresh message, visible at once, takes the round''s place');

-- Its files removed (as the Storage API removes them) and then its auth user deleted (as Auth's
-- admin API does): every row goes, the money survives anonymised.
delete from storage.objects where name like (select owner from ids)::text || '/%';
select throws_ok(format('select private.finish_account_deletion_round(%s, %L)', (select msg_id from msgs where label = 'again'),
  (select id from run where label = 'deletion')), '55000', null, 'the deletion is not finished while its auth user is there');
delete from auth.users where id = (select owner from ids);
select results_eq($$select usage_calls, usage_cost_usd, in_flight_reserved_usd > 0 from public.account_deletions
                    where id = (select id from run where label = 'deletion')$$,
  $$values (1, 0.00075::numeric, true)$$, 'the audit row sums its paid calls and the call still under way');
select results_eq($$select model_used, operation, input_tokens, output_tokens, cost_usd, tier_at_time::text
                    from private.deleted_account_usage where deletion_id = (select id from run where label = 'deletion')$$,
  $$values ('gpt-4o-mini', 'plot', 1000, 1000, 0.00075::numeric, 'free')$$, 'each paid call is kept, without the account');
select is((select count(*)::integer from (
    select user_id from public.profiles p cross join lateral (select p.id as user_id) x
    union all select user_id from public.books union all select user_id from public.video_generations
    union all select user_id from public.usage_logs union all select user_id from public.nfts
    union all select user_id from public.user_subscriptions union all select user_id from public.user_progress
    union all select user_id from public.user_roles union all select user_id from public.user_badges
    union all select user_id from private.cost_reservations) r where r.user_id = (select owner from ids)), 0,
  'no row of the account is left: profile, books, generations, usage, NFTs, subscription, progress, roles, reservations');
select is((select count(*)::integer from public.chapters where id = '00000000-0000-4000-8000-00000000d102'), 0,
  'its chapters went with its books, its video in production too');
select is((select count(*)::integer from realtime.messages
           where topic in ('user:' || (select owner from ids), 'generation:' || (select id from run where label = 'generation'))), 0,
  'its Broadcast messages are gone, those of its generation too, and the cascade sent none of its rows');
select is((select count(*)::integer from public.account_deletions a, ids
           where a::text like '%' || ids.owner || '%'), 0, 'the audit row does not name the account');

-- A call that answers after the account went (its worker was in flight): kept, counted as late, no error.
select is(private.record_usage((select owner from ids), null, 'gpt-4o-mini', 'plot', 'deletion-test:late', 2000, 0),
  0.0003::numeric, 'a late call is logged without an error');
select private.record_usage((select owner from ids), null, 'gpt-4o-mini', 'plot', 'deletion-test:late', 2000, 0);
select results_eq($$select late_calls, late_cost_usd from public.account_deletions where id = (select id from run where label = 'deletion')$$,
  $$values (1, 0.0003::numeric)$$, 'it is counted as late on the audit row, once');
select is(private.complete_step(0, (select id from run where label = 'generation'), 'script', 'chapter', '{}',
    '[{"model": "gpt-4o-mini", "input_tokens": 1000}]', (select owner from ids), 1),
  'stale', 'the unit in flight completes stale: its generation went with the account');
select is((select late_calls from public.account_deletions where id = (select id from run where label = 'deletion')), 2,
  'and its call is kept too');
select is((select count(*)::integer from public.usage_logs where user_id = (select owner from ids)), 0,
  'no usage row names the deleted account');

-- The worker finishes: files gone, auth user gone, the audit row completed, the last sweep an hour later.
select tests.authenticate_as_service_role();
select is(private.finish_account_deletion_round((select msg_id from msgs where label = 'again'),
    (select id from run where label = 'deletion')), 'completed',
  'the deletion completes once its files and its auth user are gone');
select tests.clear_authentication();
select results_eq($$select status::text, completed_at is not null from public.account_deletions
                    where id = (select id from run where label = 'deletion')$$,
  $$values ('completed', true)$$, 'the audit row says completed, and when');
insert into msgs select 'last sweep', pg_temp.deletion_messages('deletion');
select results_eq($$select w.step, w.sweep_at > clock_timestamp() + interval '59 minutes',
                    (select q.vt from pgmq.q_delete_account q where q.msg_id = (select msg_id from msgs where label = 'last sweep'))
                      > clock_timestamp() + interval '59 minutes'
                    from private.account_deletion_work w where w.deletion_id = (select id from run where label = 'deletion')$$,
  $$values ('sweep', true, true)$$, 'the last sweep of its folders, its only message, is queued for an hour later');
-- A unit that stored its file anyway and completes now brings a sweep forward.
select private.complete_step(0, (select id from run where label = 'generation'), 'script', 'chapter', '{}', '[]',
  (select owner from ids), 2);
insert into msgs select 'sweep now', pg_temp.deletion_messages('deletion', true);
select is((select count(*)::integer from msgs where label = 'sweep now'), 1,
  'a late completion queues a sweep of the deleted account''s folders now');
select is(private.finish_account_deletion_round((select msg_id from msgs where label = 'sweep now'),
    (select id from run where label = 'deletion')), 'swept', 'that sweep ends');
select results_eq($$select count(*)::integer from private.account_deletion_work where deletion_id = (select id from run where label = 'deletion')
                    union all select count(*)::integer from pg_temp.deletion_messages('deletion')$$,
  $$values (1), (1)$$, 'the last one is still due, its message waiting');
update private.account_deletion_work set sweep_at = clock_timestamp() - interval '1 second'
where deletion_id = (select id from run where label = 'deletion');
select is(private.finish_account_deletion_round((select msg_id from msgs where label = 'last sweep'),
    (select id from run where label = 'deletion')), 'swept', 'the last sweep ends');
select results_eq($$select count(*)::integer from private.account_deletion_work where user_id = (select owner from ids)
                    union all select count(*)::integer from pg_temp.deletion_messages('deletion')$$,
  $$values (0), (0)$$, 'and the account''s id goes with its work row; no message is left');
select is(private.begin_account_deletion_round((select id from run where label = 'deletion')), null,
  'a round of a finished deletion has nothing to do');
select is(private.finish_account_deletion_round(0, (select id from run where label = 'deletion')), 'stale',
  'and ends stale');
select is(private.record_usage((select owner from ids), null, 'gpt-4o-mini', 'plot', 'deletion-test:later', 1000, 0),
  0.00015::numeric, 'a call answering later still is kept');
select is((select deletion_id from private.deleted_account_usage where key_hash = private.usage_key_hash('deletion-test:later')),
  null, 'without a deletion to count it on');

-- The model rollup counts the calls of deleted accounts.
select private.rollup_model_metrics(current_date);
select is((select request_count from public.model_metrics where model_name = 'gpt-4o-mini' and date = current_date),
  (select count(*)::integer from (select 1 from public.usage_logs where model_used = 'gpt-4o-mini' and created_at::date = current_date
    union all select 1 from private.deleted_account_usage where model_used = 'gpt-4o-mini' and called_at::date = current_date) c),
  'the model metrics count the deleted accounts'' calls');
select ok((select count(*) from private.deleted_account_usage where called_at::date = current_date) >= 4,
  'which are there to count');

-- A superadmin deletes another user's account.
select tests.authenticate_as((select admin from ids));
insert into run select 'by admin', (public.delete_account((select victim from ids), 'terms_violation')).id;
select results_eq($$select requested_by::text, reason::text, status::text from public.account_deletions
                    where id = (select id from run where label = 'by admin')$$,
  $$values ('superadmin', 'terms_violation', 'in_progress')$$, 'a superadmin deletes another user''s account, saying why');
select is(tests.try_rows('select 1 from public.account_deletions where id in (select id from run)'), '2', 'and reads the audit');
select tests.authenticate_as((select other from ids));
select is(tests.try_rows('select 1 from public.account_deletions where id in (select id from run)'), '0', 'another user does not');
select tests.authenticate_as_anon();
select ok(tests.try_rows('select 1 from public.account_deletions where id in (select id from run)') in ('0', 'denied'), 'nor does anon');
select tests.authenticate_as_service_role();
select is(tests.try_rows('select 1 from public.account_deletions where id in (select id from run)'), '2', 'the service role does');

-- A user deleted outside delete_account (Auth's dashboard): audited all the same, its files queued.
select tests.clear_authentication();
insert into storage.objects (bucket_id, name, metadata) select 'books', gone || '/left.txt', '{"size": 5}' from ids;
delete from auth.users where id = (select gone from ids);
insert into run select 'by operator', w.deletion_id from private.account_deletion_work w where w.user_id = (select gone from ids);
select results_eq($$select requested_by::text, reason::text, status::text, files from public.account_deletions
                    where id = (select id from run where label = 'by operator')$$,
  $$values ('operator', 'other', 'in_progress', 1)$$, 'a user deleted elsewhere is audited as an operator''s deletion');
select is((select count(*)::integer from pgmq.q_delete_account
           where message ->> 'deletion_id' = (select id from run where label = 'by operator')::text), 1,
  'and the worker is asked to remove its files');
select is((select private.begin_account_deletion_round((select id from run where label = 'by operator')) ->> 'auth_user_exists'),
  'false', 'the worker does not call Auth for an auth user that is gone');

-- A round that fails is tried again after the backoff, and says why.
select private.account_deletion_failed(0, (select id from run where label = 'by operator'), 'storage answered HTTP 503');
select results_eq($$select attempts, last_error from private.account_deletion_work where deletion_id = (select id from run where label = 'by operator')$$,
  $$values (1, 'storage answered HTTP 503')$$, 'a failed round is recorded on the work row');
select is((select count(*)::integer from pgmq.q_delete_account
           where message ->> 'deletion_id' = (select id from run where label = 'by operator')::text and vt > clock_timestamp()), 1,
  'and queued again after the backoff');

-- Clients cannot reach the worker's steps or the work rows.
select tests.authenticate_as((select other from ids));
select is(tests.try_rows(format('select private.finish_account_deletion_round(0, %L)', (select id from run where label = 'by operator'))),
  'denied', 'a user cannot run the worker''s steps');
select is(tests.try_rows('select 1 from private.account_deletion_work'), 'denied', 'nor read the deletions under way');
select is(tests.try_rows('select 1 from private.deleted_account_usage'), 'denied', 'nor the anonymised calls');

select * from finish();
rollback;
