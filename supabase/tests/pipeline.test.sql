-- Pipeline orchestration from the outside: queues, the client RPCs and their errors, who may call
-- the worker functions, and the status guard. The workers themselves are tested in Deno.
begin;
select plan(54);

create temp table ids as
  select tests.create_user('owner@pipeline.test') as owner, tests.create_user('other@pipeline.test') as other;
grant select on ids to public;
insert into public.books (id, user_id, title) select '00000000-0000-4000-8000-0000000bb001', owner, 'Pipes' from ids;
insert into public.chapters (id, book_id, chapter_number, title, content) values
  ('00000000-0000-4000-8000-0000000cc001', '00000000-0000-4000-8000-0000000bb001', 1, 'One', 'Ada walked in.'),
  ('00000000-0000-4000-8000-0000000cc002', '00000000-0000-4000-8000-0000000bb001', 2, 'Two', 'Ada walked out.');
create temp table started (label text primary key, id uuid);
grant all on started to public;

-- Ceilings per quality: a script within them passes, one past any of them is refused with its figures.
select results_eq($$select t.quality_tier::text from private.tier_ceilings t order by t.quality_tier$$,
  $$values ('free'), ('basic'), ('standard'), ('premium'), ('professional')$$, 'every quality has its ceilings');
select is(private.script_ceiling_breach('free', (select jsonb_agg(jsonb_build_object('narration', 'A line.',
  'dialogue', '[]'::jsonb, 'estimated_duration_seconds', 5)) from generate_series(1, 8))), null,
  'a free script of 8 short scenes is within its ceilings');
select is(private.script_ceiling_breach('free', (select jsonb_agg(jsonb_build_object('narration', repeat('x', 2000),
  'dialogue', jsonb_build_array(jsonb_build_object('speaker', 'A', 'line', repeat('y', 500))),
  'estimated_duration_seconds', 600)) from generate_series(1, 60))),
  'this chapter''s script needs 60 scenes, 150000 characters of speech and 36000 seconds of video; a free-quality video '
  'may have at most 8 scenes, 2000 characters and 150 seconds: choose a shorter chapter or a higher quality',
  'the largest script the limits allow is refused for a free video, with its figures');
select is(private.script_ceiling_breach('premium', (select jsonb_agg(jsonb_build_object('narration', repeat('x', 1000),
  'dialogue', '[]'::jsonb, 'estimated_duration_seconds', 60)) from generate_series(1, 30))), null,
  'the same chapter of 30 scenes fits a premium video');
select ok((select bool_and(w < lead) from (select private.worst_case_generation_usd(quality_tier) as w,
  lead(private.worst_case_generation_usd(quality_tier), 1, 1e9) over (order by quality_tier) from private.tier_ceilings) t),
  'the worst case of a generation rises with its quality');

select tests.authenticate_as_anon();
create temp table anon_ceilings as select * from public.generation_ceilings();
select tests.clear_authentication();
select results_eq($$select quality_tier::text, max_scenes, worst_case_usd from anon_ceilings where quality_tier = 'free'$$,
  $$values ('free', 8, private.worst_case_generation_usd('free'))$$,
  'anyone can read the ceilings and the worst case per quality');

-- Queues and schedules.
select bag_has($$select queue_name from pgmq.list_queues()$$,
  $$values ('script'), ('images'), ('audio'), ('video'), ('lipsync'), ('merge')$$, 'one queue per stage');
select set_eq($$select function_name from private.edge_function_schedules where function_name like 'pipeline-%'$$,
  $$values ('pipeline-script'), ('pipeline-images')$$,
  'the Edge-placed stages are invoked on a schedule; the worker service reads the others itself');

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
  'LT005', 'quality premium is not included in the free tier (up to free)', 'quality above the tier is refused');
insert into started select 'first', public.start_video_generation('00000000-0000-4000-8000-0000000cc001');
select tests.clear_authentication();

select results_eq(
  $$select status::text, user_id, script_style::text, quality_tier::text from public.video_generations
    where id = (select id from started where label = 'first')$$,
  $$select 'pending', owner, 'cinematic', 'free' from ids$$, 'the generation is pending for its owner, at the free quality');
select is((select current_step::text from public.video_generations where id = (select id from started where label = 'first')),
  'script', 'its first stage is the script');
select is((select video_count_used from public.user_subscriptions where user_id = (select owner from ids)), 1,
  'starting counts the video against the quota');
select is((select (message ->> 'generation_id')::uuid from pgmq.q_script order by msg_id desc limit 1),
  (select id from started where label = 'first'), 'the script stage is enqueued in the same transaction');
select is((select videos_created from public.user_progress where user_id = (select owner from ids)), 0,
  'progress counts a video when it is made, not when it is started');

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

-- Cancel refunds the video; canceled and pending generations cannot be retried.
select is(public.cancel_video_generation((select id from started where label = 'first')),
  (select id from started where label = 'first'), 'the owner cancels a pending generation');
select tests.clear_authentication();
select is((select status::text from public.video_generations where id = (select id from started where label = 'first')),
  'canceled', 'the canceled generation says so');
select is((select video_count_used from public.user_subscriptions where user_id = (select owner from ids)), 1,
  'cancelling gives the video back to the quota');
select tests.authenticate_as((select owner from ids));
select throws_ok(format('select public.cancel_video_generation(%L)', (select id from started where label = 'first')),
  'LT004', 'only a pending or running generation can be canceled; this one is canceled', 'a canceled one stays canceled');
select throws_ok(format('select public.retry_video_generation(%L)', (select id from started where label = 'second')),
  'LT004', 'only a failed generation can be retried; this one is pending', 'only failed generations can be retried');
select tests.clear_authentication();
-- Once media was made (here an image was paid for), canceling keeps the video counted: the user keeps the media.
select tests.authenticate_as((select owner from ids));
insert into started select 'third', public.start_video_generation('00000000-0000-4000-8000-0000000cc002');
select tests.clear_authentication();
select private.record_usage((select owner from ids), (select id from started where label = 'third'), 'offline-card-renderer',
  'image', 'cancel-test:image', 0, 0, 1);
select tests.authenticate_as((select owner from ids));
select lives_ok(format('select public.cancel_video_generation(%L)', (select id from started where label = 'third')),
  'the owner cancels a generation that has made an image');
select tests.clear_authentication();
select results_eq($$select s.video_count_used, (g.pipeline_metadata ->> 'refunded')::boolean
                    from public.user_subscriptions s join public.video_generations g on g.user_id = s.user_id
                    where g.id = (select id from started where label = 'third')$$,
  $$values (2, false)$$, 'a cancel after media was made is not refunded, and says so');

-- A unit in flight (begun, nothing logged yet: its paid call is under way) is enough to keep the video counted.
update public.user_subscriptions set video_count_limit = 10 where user_id = (select owner from ids);
select tests.authenticate_as((select owner from ids));
insert into started select 'fourth', public.start_video_generation('00000000-0000-4000-8000-0000000cc002');
select tests.clear_authentication();
select is(private.begin_step((select id from started where label = 'fourth'), 'script', 'chapter', 1) ->> 'max_video_seconds',
  '150', 'a worker begins the script unit, told the longest video of its quality (stages hold what they read to it)');
select is((select count(*)::integer from public.usage_logs where video_generation_id = (select id from started where label = 'fourth')),
  0, 'nothing is logged while the call is under way');
select tests.authenticate_as((select owner from ids));
select lives_ok(format('select public.cancel_video_generation(%L)', (select id from started where label = 'fourth')),
  'the owner cancels while the unit is in flight');
select tests.clear_authentication();
select results_eq($$select s.video_count_used, (g.pipeline_metadata ->> 'refunded')::boolean
                    from public.user_subscriptions s join public.video_generations g on g.user_id = s.user_id
                    where g.id = (select id from started where label = 'fourth')$$,
  $$values (3, false)$$, 'a cancel with a paid call in flight is not refunded');

-- A billing period's model costs past the tier's budget stop new videos until the next period.
select private.record_usage((select owner from ids), null, 'eleven_multilingual_v2', 'audio', 'budget-test:speech', 0, 0, 10000);
update public.usage_logs set created_at = now() - interval '1 hour' where idempotency_key = 'budget-test:speech';
update public.user_subscriptions set current_period_start = now() - interval '2 hours' where user_id = (select owner from ids);
select tests.authenticate_as((select owner from ids));
select throws_like($$select public.start_video_generation('00000000-0000-4000-8000-0000000cc002')$$,
  'this billing period''s model costs ($3.__ so far, and about $%) would pass the free tier''s budget of $2.00: videos can start again on %',
  'past the period''s budget no video starts, and the message says until when');
select tests.clear_authentication();
update public.user_subscriptions set current_period_start = now() - interval '1 minute', current_period_end = now() + interval '1 month'
where user_id = (select owner from ids);
select tests.authenticate_as((select owner from ids));
select lives_ok($$select public.start_video_generation('00000000-0000-4000-8000-0000000cc002')$$,
  'a new period starts with a new budget');
select tests.clear_authentication();

-- A subscription that is not active blocks new generations.
update public.user_subscriptions set status = 'past_due' where user_id = (select owner from ids);
select tests.authenticate_as((select owner from ids));
select throws_ok($$select public.start_video_generation('00000000-0000-4000-8000-0000000cc002')$$, 'LT002',
  'your subscription is past_due: update your payment method to generate videos', 'a past-due subscription is refused');
select tests.clear_authentication();

-- The status guard: pending -> a stage -> later stages -> merge -> completed; a stage -> failed;
-- failed -> pending (retry). Progress never goes down.
select throws_ok(format($$update public.video_generations set status = 'pending' where id = %L$$,
  (select id from started where label = 'first')), '23514', null, 'a canceled generation cannot be made pending again');
select lives_ok(format($$update public.video_generations set status = 'script', progress_percentage = 40 where id = %L$$,
  (select id from started where label = 'second')), 'a pending generation enters its first stage');
update public.video_generations set progress_percentage = 10 where id = (select id from started where label = 'second');
select is((select progress_percentage::integer from public.video_generations where id = (select id from started where label = 'second')),
  40, 'progress never goes down');
select lives_ok(format($f$do $x$ begin
    update public.video_generations set status = 'images' where id = %1$L;
    update public.video_generations set status = 'audio' where id = %1$L;
    update public.video_generations set status = 'video' where id = %1$L;
    update public.video_generations set status = 'lipsync' where id = %1$L;
    update public.video_generations set status = 'merge' where id = %1$L;
  end $x$$f$, (select id from started where label = 'second')), 'a running generation moves forward stage by stage');
select throws_ok(format($$update public.video_generations set status = 'images' where id = %L$$,
  (select id from started where label = 'second')), '23514', null, 'a generation cannot go back to an earlier stage');
select throws_ok(format($$update public.video_generations set status = 'pending' where id = %L$$,
  (select id from started where label = 'second')), '23514', null, 'a running generation cannot go back to pending');
select lives_ok(format($$update public.video_generations set status = 'failed', error_message = 'boom' where id = %L$$,
  (select id from started where label = 'second')), 'a running generation may fail');
select throws_ok(format($$update public.video_generations set status = 'completed' where id = %L$$,
  (select id from started where label = 'second')), '23514', null, 'a failed generation cannot jump to completed');
select throws_ok(format($$update public.video_generations set status = 'script' where id = %L$$,
  (select id from started where label = 'second')), '23514', null, 'a failed generation resumes only through pending');

-- Retry of a failed generation queues it again from where it stopped.
update public.user_subscriptions set status = 'active' where user_id = (select owner from ids);
select tests.authenticate_as((select owner from ids));
select lives_ok(format('select public.retry_video_generation(%L)', (select id from started where label = 'second')),
  'the owner retries a failed generation');
select tests.clear_authentication();
select is((select status::text from public.video_generations where id = (select id from started where label = 'second')),
  'pending', 'the retried generation is pending again');

-- Only the merge stage completes a generation, and a completed one is final.
select throws_ok(format($$update public.video_generations set status = 'completed', video_url = 'v.mp4' where id = %L$$,
  (select id from started where label = 'second')), '23514', null, 'a pending generation cannot complete');
select lives_ok(format($f$do $x$ begin
    update public.video_generations set status = 'merge' where id = %1$L;
    update public.video_generations set status = 'completed', video_url = 'v.mp4' where id = %1$L;
  end $x$$f$, (select id from started where label = 'second')), 'merge completes a generation that has its video');
select throws_ok(format($$update public.video_generations set status = 'failed', error_message = 'late' where id = %L$$,
  (select id from started where label = 'second')), '23514', null, 'a completed generation stays completed');

select * from finish();
rollback;
