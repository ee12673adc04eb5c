-- Pipeline orchestration from the outside: queues, the client RPCs and their errors, who may call
-- the worker functions, and the status guard. The workers themselves are tested in Deno.
begin;
select plan(31);

create temp table ids as
  select tests.create_user('owner@pipeline.test') as owner, tests.create_user('other@pipeline.test') as other;
grant select on ids to public;
insert into public.books (id, user_id, title) select '00000000-0000-4000-8000-0000000bb001', owner, 'Pipes' from ids;
insert into public.chapters (id, book_id, chapter_number, title, content) values
  ('00000000-0000-4000-8000-0000000cc001', '00000000-0000-4000-8000-0000000bb001', 1, 'One', 'Ada walked in.'),
  ('00000000-0000-4000-8000-0000000cc002', '00000000-0000-4000-8000-0000000bb001', 2, 'Two', 'Ada walked out.');
create temp table started (label text primary key, id uuid);
grant all on started to public;

-- Queues and schedules.
select bag_has($$select queue_name from pgmq.list_queues()$$,
  $$values ('script'), ('images'), ('audio'), ('video'), ('lipsync'), ('merge')$$, 'one queue per stage');
select is((select count(*)::integer from private.edge_function_schedules where function_name like 'pipeline-%'), 6,
  'every stage function has a schedule');

-- Who may start.
select tests.authenticate_as_anon();
select throws_ok($$select public.start_video_generation('00000000-0000-4000-8000-0000000cc001')$$, '42501', null,
  'anonymous callers cannot start a generation');
select tests.authenticate_as((select other from ids));
select throws_ok($$select public.start_video_generation('00000000-0000-4000-8000-0000000cc001')$$, 'P0002',
  'chapter 00000000-0000-4000-8000-0000000cc001 not found among your books', 'another user''s chapter is not found');
select throws_ok($$select public.start_video_generation('00000000-0000-4000-8000-00000000dead')$$, 'P0002', null,
  'an unknown chapter is not found');

select tests.authenticate_as((select owner from ids));
select throws_ok($$select public.start_video_generation('00000000-0000-4000-8000-0000000cc001', 'cinematic', 'premium')$$,
  'LT005', 'quality premium is not included in the free tier (up to basic)', 'quality above the tier is refused');
insert into started select 'first', public.start_video_generation('00000000-0000-4000-8000-0000000cc001');
select tests.clear_authentication();

select results_eq(
  $$select status::text, user_id, script_style::text, quality_tier::text from public.video_generations
    where id = (select id from started where label = 'first')$$,
  $$select 'queued', owner, 'cinematic', 'basic' from ids$$, 'the generation is queued for its owner');
select is((select video_count_used from public.user_subscriptions where user_id = (select owner from ids)), 1,
  'starting counts the video against the quota');
select is((select (message ->> 'generation_id')::uuid from pgmq.q_script order by msg_id desc limit 1),
  (select id from started where label = 'first'), 'the script stage is enqueued in the same transaction');
select is((select videos_generated from public.user_progress where user_id = (select owner from ids)), 1,
  'progress counts the video');

select tests.authenticate_as((select owner from ids));
select throws_ok($$select public.start_video_generation('00000000-0000-4000-8000-0000000cc001')$$, 'LT003',
  'a cinematic video of this chapter is already being generated', 'one running generation per chapter and style');
insert into started select 'second', public.start_video_generation('00000000-0000-4000-8000-0000000cc001', 'narration');
select throws_ok($$select public.start_video_generation('00000000-0000-4000-8000-0000000cc002')$$, 'LT001',
  'video quota used up: 2 of 2 videos this period (tier free)', 'the free tier''s two videos are the limit');

-- The owner sees their generations; others and anonymous callers do not.
select is((select count(*)::integer from public.video_generations), 2, 'the owner sees their generations');
select tests.authenticate_as((select other from ids));
select is((select count(*)::integer from public.video_generations), 0, 'another user sees none of them');
select throws_ok(format('select public.cancel_video_generation(%L)', (select id from started where label = 'first')),
  'P0002', null, 'another user cannot cancel it');
select throws_ok(format('select public.retry_video_generation(%L)', (select id from started where label = 'first')),
  'P0002', null, 'another user cannot retry it');
select tests.authenticate_as_anon();
select is((select count(*)::integer from public.video_generations), 0, 'anonymous callers see none');

-- Clients cannot reach the worker functions or write status and cost.
select tests.authenticate_as((select owner from ids));
select throws_ok(format($$select private.begin_step(%L, 'script', 'script', 1)$$,
  (select id from started where label = 'first')), '42501', null, 'clients cannot call the worker functions');
select is(tests.try_rows(format($$update public.video_generations set status = 'completed', total_cost_usd = 0
  where id = %L$$, (select id from started where label = 'first'))), 'denied', 'clients cannot write status or cost');

-- Cancel refunds the video; cancelled and queued generations cannot be retried.
select is(public.cancel_video_generation((select id from started where label = 'first')),
  (select id from started where label = 'first'), 'the owner cancels a queued generation');
select tests.clear_authentication();
select is((select status::text from public.video_generations where id = (select id from started where label = 'first')),
  'cancelled', 'the cancelled generation says so');
select is((select video_count_used from public.user_subscriptions where user_id = (select owner from ids)), 1,
  'cancelling gives the video back to the quota');
select tests.authenticate_as((select owner from ids));
select throws_ok(format('select public.cancel_video_generation(%L)', (select id from started where label = 'first')),
  'LT004', 'only a queued or running generation can be cancelled; this one is cancelled', 'a cancelled one stays cancelled');
select throws_ok(format('select public.retry_video_generation(%L)', (select id from started where label = 'second')),
  'LT004', 'only a failed generation can be retried; this one is queued', 'only failed generations can be retried');
select tests.clear_authentication();

-- A subscription that is not active blocks new generations.
update public.user_subscriptions set status = 'past_due' where user_id = (select owner from ids);
select tests.authenticate_as((select owner from ids));
select throws_ok($$select public.start_video_generation('00000000-0000-4000-8000-0000000cc002')$$, 'LT002',
  'your subscription is past_due: update your payment method to generate videos', 'a past-due subscription is refused');
select tests.clear_authentication();

-- The status guard and progress that never goes down.
select throws_ok(format($$update public.video_generations set status = 'queued' where id = %L$$,
  (select id from started where label = 'first')), '23514', null, 'a cancelled generation cannot be queued again');
update public.video_generations set status = 'processing', progress_percentage = 40
where id = (select id from started where label = 'second');
update public.video_generations set progress_percentage = 10 where id = (select id from started where label = 'second');
select is((select progress_percentage::integer from public.video_generations where id = (select id from started where label = 'second')),
  40, 'progress never goes down');
select lives_ok(format($$update public.video_generations set status = 'failed', error_message = 'boom' where id = %L$$,
  (select id from started where label = 'second')), 'processing may fail');
select throws_ok(format($$update public.video_generations set status = 'completed' where id = %L$$,
  (select id from started where label = 'second')), '23514', null, 'a failed generation cannot jump to completed');

-- Retry of a failed generation queues it again from where it stopped.
update public.user_subscriptions set status = 'active' where user_id = (select owner from ids);
select tests.authenticate_as((select owner from ids));
select lives_ok(format('select public.retry_video_generation(%L)', (select id from started where label = 'second')),
  'the owner retries a failed generation');
select tests.clear_authentication();
select is((select status::text from public.video_generations where id = (select id from started where label = 'second')),
  'queued', 'the retried generation is queued again');

select * from finish();
rollback;
