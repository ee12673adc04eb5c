-- Money: the model ladder per quality, the ceilings, and every paid call reserved before it is made
-- and settled after it, whatever happens to the rows around it.
begin;
select plan(63);

create temp table ids as
  select tests.create_user('owner@costs.test') as owner, tests.create_user('other@costs.test') as other;
grant select on ids to public;
insert into public.books (id, user_id, title) select '00000000-0000-4000-8000-00000000b301', owner, 'Costs' from ids;
insert into public.chapters (id, book_id, chapter_number, title, content) values
  ('00000000-0000-4000-8000-00000000c301', '00000000-0000-4000-8000-00000000b301', 1, 'Short', 'Ada walked in.'),
  ('00000000-0000-4000-8000-00000000c302', '00000000-0000-4000-8000-00000000b301', 2, 'Long',
   repeat('Ada walked along the river and spoke to Ben about the weather. ', 2000));
update public.user_subscriptions set video_count_limit = 20 where user_id = (select owner from ids);
create temp table started (label text primary key, id uuid);
grant all on started to public;

-- The ladder: one model per quality and capability, priced, of that capability.
select is((select count(*)::integer from private.quality_models), 30, 'five qualities times six capabilities');
select is_empty($$select q.quality_tier, q.capability from private.quality_models q
                  left join private.model_prices m on m.model = q.model and m.capability = q.capability
                  where m.model is null$$, 'every ladder model has a price of its own capability');
select throws_ok($$update private.quality_models set model = 'espeak-ng' where quality_tier = 'free' and capability = 'video'$$,
  '23503', null, 'a model of another capability cannot stand on a rung');
select results_eq($$select m.capability from private.model_prices m where m.provider = 'offline' order by 1$$,
  $$values ('audio'), ('embedding'), ('image'), ('lipsync'), ('merge'), ('text'), ('video')$$,
  'every capability has one offline model to fall back to');
select results_eq($$select models ->> 'audio', models ->> 'video', models ->> 'lipsync', frame_height
                    from public.generation_ceilings() where quality_tier in ('free', 'premium') order by quality_tier$$,
  $$values ('espeak-ng', 'offline-ffmpeg-motion', 'offline-lipsync-passthrough', 480),
           ('eleven_multilingual_v2', 'modelslab-image-to-video', 'modelslab-lipsync', 1080)$$,
  'free speaks offline at 480p; premium gets the hosted voice, video and lipsync models at 1080p');

-- Ceilings: each quality's worst case is within its per-generation ceiling, within its period budget,
-- and no lower than the quality below it.
select is_empty($$select quality_tier from public.generation_ceilings()
                  where worst_case_usd > max_generation_usd or max_generation_usd > max_period_usd$$,
  'the worst case of a video is within its ceiling, and the ceiling within the period budget');
select is_empty($$select quality_tier from (select quality_tier, worst_case_usd,
                    lag(worst_case_usd) over (order by quality_tier) as below from public.generation_ceilings()) t
                  where worst_case_usd < below$$, 'a higher quality never has a lower worst case');
select is((select worst_case_usd from public.generation_ceilings() where quality_tier = 'free'), 0.10,
  'a free video costs at most 10 cents');
select is(private.price_of('eleven_multilingual_v2', '{"characters": 1000}'), 0.3, 'speech is priced per character');
select is(private.price_of('gpt-4o-mini', '{"input_tokens": 1000, "output_tokens": 1000}'), 0.00075,
  'text is priced per token');

-- The estimate a client reads before starting: anon may not call it, another user does not see the
-- chapter, the owner gets figures within the quality's ceilings.
select tests.authenticate_as_anon();
select is(tests.try_rows($$select * from public.estimate_video_generation('00000000-0000-4000-8000-00000000c301')$$),
  'denied', 'anon cannot estimate');
select tests.authenticate_as((select other from ids));
select throws_ok($$select * from public.estimate_video_generation('00000000-0000-4000-8000-00000000c301')$$,
  'P0002', 'chapter 00000000-0000-4000-8000-00000000c301 not found among your books', 'another user''s chapter is not found');
select tests.authenticate_as((select owner from ids));
create temp table estimates as
  select 'short' as chapter, * from public.estimate_video_generation('00000000-0000-4000-8000-00000000c301')
  union all
  select 'long', * from public.estimate_video_generation('00000000-0000-4000-8000-00000000c302', 'free');
select tests.clear_authentication();
select results_eq($$select scenes, within_ceilings, note is null from estimates where chapter = 'short'$$,
  $$values (1, true, true)$$, 'a short chapter: one scene, within the ceilings, nothing to note');
select results_eq($$select scenes, speech_characters, within_ceilings, note like 'the chapter is long for free quality%'
                    from estimates where chapter = 'long'$$,
  $$values (8, 2000, false, true)$$, 'a long chapter at free quality: shortened to the ceilings, and said so');
select ok((select expected_usd <= worst_case_usd and worst_case_usd <= max_generation_usd from estimates where chapter = 'long'),
  'the expected cost is within the worst case, and that within the ceiling');
select tests.authenticate_as_service_role();
select throws_ok($$select * from public.estimate_video_generation('00000000-0000-4000-8000-00000000c301')$$,
  '42501', 'sign in to estimate videos', 'the service role is no user to estimate for');
select tests.clear_authentication();

-- A unit's begin reserves its call at the quality's model, and gives the worker the model and frame.
select tests.authenticate_as((select owner from ids));
insert into started select 'a', public.start_video_generation('00000000-0000-4000-8000-00000000c301');
select tests.clear_authentication();
create temp table contexts as
  select private.begin_step((select id from started where label = 'a'), 'script', 'chapter', 1) as context;
select results_eq($$select context ->> 'model', (context ->> 'frame_height')::integer, (context -> 'limits' ->> 'scenes')::integer,
                    (context ->> 'unit_attempt')::integer from contexts$$,
  $$values ('gpt-4o-mini', 480, 8, 1)$$, 'the script unit calls the free ladder''s text model, within free''s limits');
select results_eq($$select model, status, reserved_usd > 0 from private.cost_reservations
                    where video_generation_id = (select id from started where label = 'a')$$,
  $$values ('gpt-4o-mini', 'open', true)$$, 'its call is reserved before it is made');
select is(private.reserve_cost((select id from started where label = 'a') || ':script:chapter:1', (select owner from ids),
    'gpt-4o', '{"input_tokens": 99999}', (select id from started where label = 'a'), 'script', 'chapter'),
  (select reserved_usd from private.cost_reservations where video_generation_id = (select id from started where label = 'a')),
  'the same key again reserves nothing more');

-- Cancel while that call is under way: not refunded, the reservation still counts.
select tests.authenticate_as((select owner from ids));
select lives_ok(format('select public.cancel_video_generation(%L)', (select id from started where label = 'a')),
  'the owner cancels with the script call in flight');
select tests.clear_authentication();
select results_eq($$select s.video_count_used, (g.pipeline_metadata ->> 'refunded')::boolean
                    from public.user_subscriptions s join public.video_generations g on g.user_id = s.user_id
                    where g.id = (select id from started where label = 'a')$$,
  $$values (1, false)$$, 'a cancel with a paid call in flight is not refunded');
-- The call answers after the cancel: logged to its user, the reservation settled.
select is(private.complete_step(0, (select id from started where label = 'a'), 'script', 'chapter', '{}',
    '[{"model": "gpt-4o-mini", "input_tokens": 1000, "output_tokens": 2000}]', (select owner from ids), 1),
  'stale', 'the answer after the cancel changes nothing in the generation');
select results_eq($$select r.status, l.cost_usd, l.idempotency_key like '%:script:chapter:1:0'
                    from private.cost_reservations r join public.usage_logs l on l.video_generation_id = r.video_generation_id
                    where r.video_generation_id = (select id from started where label = 'a')$$,
  $$values ('settled', 0.001350::numeric(12, 6), true)$$, 'its real cost is logged under the attempt, and the reservation settled');

-- A call that failed is released, and a cancel after only failed calls is refunded.
select tests.authenticate_as((select owner from ids));
insert into started select 'b', public.start_video_generation('00000000-0000-4000-8000-00000000c301');
select tests.clear_authentication();
select isnt(private.begin_step((select id from started where label = 'b'), 'script', 'chapter', 1), null, 'a unit begins');
select is(private.fail_step(0, (select id from started where label = 'b'), 'script', 'chapter',
    'openai answered HTTP 503: overloaded', true, 1, null, null, 1, true),
  'retry', 'the provider refuses its call, and it will be retried');
select is((select status from private.cost_reservations where video_generation_id = (select id from started where label = 'b')),
  'released', 'a call the provider refused is released: nothing was billed');
select tests.authenticate_as((select owner from ids));
select lives_ok(format('select public.cancel_video_generation(%L)', (select id from started where label = 'b')),
  'the owner cancels between attempts');
select tests.clear_authentication();
select is((select (pipeline_metadata ->> 'refunded')::boolean from public.video_generations
           where id = (select id from started where label = 'b')), true, 'no paid call began: the video is refunded');

-- A call that failed after the provider may have billed it (a timeout, an answer our checks refused)
-- stays counted, and a cancel then is not refunded.
select tests.authenticate_as((select owner from ids));
insert into started select 'b2', public.start_video_generation('00000000-0000-4000-8000-00000000c301', 'educational');
select tests.clear_authentication();
select isnt(private.begin_step((select id from started where label = 'b2'), 'script', 'chapter', 1), null, 'a unit begins');
select is(private.fail_step(0, (select id from started where label = 'b2'), 'script', 'chapter',
    'gave up after 300 s (the step''s time limit)', true, 1, null, null, 1, false),
  'retry', 'its call times out');
select results_eq($$select status, private.generation_spend_usd(video_generation_id) = reserved_usd from private.cost_reservations
                    where video_generation_id = (select id from started where label = 'b2')$$,
  $$values ('abandoned', true)$$, 'a call that may have been billed is abandoned and still counted');
select tests.authenticate_as((select owner from ids));
select lives_ok(format('select public.cancel_video_generation(%L)', (select id from started where label = 'b2')),
  'the owner cancels after the timeout');
select tests.clear_authentication();
select is((select (pipeline_metadata ->> 'refunded')::boolean from public.video_generations
           where id = (select id from started where label = 'b2')), false, 'a call that may have been billed is not refunded');

-- A worker killed mid-call: its reservation is abandoned by the next attempt and still counts.
select tests.authenticate_as((select owner from ids));
insert into started select 'c', public.start_video_generation('00000000-0000-4000-8000-00000000c301');
select tests.clear_authentication();
select isnt(private.begin_step((select id from started where label = 'c'), 'script', 'chapter', 1), null, 'attempt 1 begins');
select isnt(private.begin_step((select id from started where label = 'c'), 'script', 'chapter', 2), null,
  'attempt 2 begins after attempt 1''s worker died');
select results_eq($$select status from private.cost_reservations where video_generation_id = (select id from started where label = 'c')
                    order by key$$, $$values ('abandoned'), ('open')$$, 'attempt 1 is abandoned, attempt 2 open');
select is(private.generation_spend_usd((select id from started where label = 'c')),
  (select sum(reserved_usd) from private.cost_reservations where video_generation_id = (select id from started where label = 'c')),
  'both count as spent: a call whose answer never came may have been paid');
update private.cost_reservations set created_at = now() - interval '2 hours'
where video_generation_id = (select id from started where label = 'c') and status = 'open';
select is(private.abandon_stale_reservations(), 1, 'the reaper abandons calls open longer than an hour');

-- A call past the video's ceiling is not made: the unit and the generation fail, saying why.
update private.tier_ceilings set max_generation_usd = 0.01 where quality_tier = 'free';
select tests.authenticate_as((select owner from ids));
insert into started select 'd', public.start_video_generation('00000000-0000-4000-8000-00000000c302');
select tests.clear_authentication();
select is(private.begin_step((select id from started where label = 'd'), 'script', 'chapter', 1), null,
  'the script call would pass the ceiling: no context, no call');
select results_eq($$select g.status::text, g.error_message like 'this video has cost $0.00 so far and its next call (gpt-4o-mini for $0.0%) would pass the $0.01 a free-quality video may cost%',
                      u.status::text
                    from public.video_generations g join private.pipeline_units u on u.generation_id = g.id
                    where g.id = (select id from started where label = 'd')$$,
  $$values ('failed', true, 'failed')$$, 'the generation and its unit fail with the figures');
select is_empty($$select 1 from pgmq.q_script where message ->> 'generation_id' = (select id::text from started where label = 'd')$$,
  'its queued work is dropped');
select is((select count(*)::integer from private.cost_reservations where video_generation_id = (select id from started where label = 'd')),
  0, 'nothing was reserved');
update private.tier_ceilings set max_generation_usd = 0.25 where quality_tier = 'free';

-- The script itself past the ceiling in dollars (its units within) fails at the script, before media.
update private.tier_ceilings set max_generation_usd = 5 where quality_tier = 'standard';
select is(private.script_ceiling_breach('standard', (select jsonb_agg(jsonb_build_object('narration', repeat('x', 800),
    'estimated_duration_seconds', 60)) from generate_series(1, 30))),
  'this chapter''s script (30 scenes, 24000 characters of speech, 1800 seconds) would cost about $10.46 to make at standard quality, over the $5.00 a standard-quality video may cost: choose a shorter chapter or a higher quality',
  'a script whose media would pass the ceiling is refused with its cost');

-- One scene's speech longer than a scene may last is refused at the script, before any media.
select is(private.script_ceiling_breach('professional', jsonb_build_array(
    jsonb_build_object('narration', 'A line.', 'dialogue', '[]'::jsonb),
    jsonb_build_object('narration', repeat('x', 2000),
      'dialogue', (select jsonb_agg(jsonb_build_object('speaker', 'Mara', 'line', repeat('y', 500))) from generate_series(1, 12)))
  )),
  'scene 2 of this chapter''s script has 8000 characters of speech; a scene may have at most 7200 (600 seconds spoken): choose a shorter chapter',
  'a scene whose speech would pass 600 s is refused with its number');

-- A scene with nothing to say has its description read: that counts as speech too.
select alike(private.script_ceiling_breach('free', (select jsonb_agg(jsonb_build_object('narration', '', 'dialogue', '[]'::jsonb,
    'visual_description', repeat('v', 2000))) from generate_series(1, 8))),
  'this chapter''s script needs 8 scenes, 2400 characters of speech%', 'a silent scene''s description read aloud counts');

-- The scenes of a script in production are frozen for clients.
create temp table frozen as select private.save_generated_script((select owner from ids), '00000000-0000-4000-8000-00000000c301',
  'cinematic', '{"title": "T", "script": "S", "characters": [], "scenes": [{"scene_number": 1, "location": "Dock",
  "time_of_day": "night", "characters": [], "key_actions": [], "visual_description": "The dock.", "audio_requirements": "",
  "narration": "A line.", "dialogue": [], "estimated_duration_seconds": 5}]}') as script_id;
grant select on frozen to public;
update public.video_generations set script_id = (select script_id from frozen) where id = (select id from started where label = 'c');
select tests.authenticate_as((select owner from ids));
select throws_like($$update public.scene_descriptions set narration = repeat('x', 9000) where script_id = (select script_id from frozen)$$,
  'this script has a video being made (generation %): its scenes cannot change until it finishes or is canceled',
  'the owner cannot lengthen a scene of a video being made');
select throws_ok($$insert into public.scene_descriptions (script_id, scene_number, location, visual_description)
                   values ((select script_id from frozen), 2, 'Dock', 'More.')$$, 'LT009', null, 'nor add one');
select lives_ok(format('select public.cancel_video_generation(%L)', (select id from started where label = 'c')),
  'the owner cancels');
select is(tests.try_rows($$update public.scene_descriptions set narration = 'Another line.' where script_id = (select script_id from frozen)$$),
  '1', 'after the cancel the script is the owner''s to edit again');
select tests.clear_authentication();

-- A call retried under its key (plot, ingest and embed key theirs by message) reserves again: the
-- first attempt's reservation, released when it failed, is no pass past the budget for the next.
select private.reserve_cost('plot:retried', owner, 'gpt-4o-mini', '{"input_tokens": 1000}') from ids;
select private.fail_cost('plot:retried', true);
select private.reserve_cost('plot:retried', owner, 'gpt-4o-mini', '{"input_tokens": 1000}') from ids;
select is((select status from private.cost_reservations where key = 'plot:retried'), 'open',
  'the retry''s call is reserved again, and counts while it is under way');
select private.fail_cost('plot:retried', true);

-- A period budget reached: the next paid call is refused, whatever calls it.
select private.record_usage((select owner from ids), null, 'eleven_multilingual_v2', 'audio', 'costs-test:speech', 0, 0, 7000);
select throws_like(format($$select private.reserve_cost('plot:x', %L, 'gpt-4o-mini', '{"input_tokens": 1000}')$$, (select owner from ids)),
  'this billing period''s model costs ($%) would pass the free tier''s budget of $2.00 with a gpt-4o-mini call%',
  'past the period budget no paid call is reserved');
select throws_ok(format($$select private.reserve_cost('plot:x', %L, 'gpt-4o-mini', '{"input_tokens": 1000}')$$, (select owner from ids)),
  'LT010', null, 'with the period code');
select throws_ok(format($$select private.reserve_cost('plot:retried', %L, 'gpt-4o-mini', '{"input_tokens": 1000}')$$, (select owner from ids)),
  'LT010', null, 'a retry under a released key is refused past the budget too');

-- A deleted generation's reservations and usage stay with its user.
delete from public.usage_logs where idempotency_key = 'costs-test:speech';
select tests.authenticate_as((select owner from ids));
insert into started select 'e', public.start_video_generation('00000000-0000-4000-8000-00000000c301', 'narration');
select tests.clear_authentication();
select isnt(private.begin_step((select id from started where label = 'e'), 'script', 'chapter', 1), null, 'a unit begins');
delete from public.video_generations where id = (select id from started where label = 'e');
select results_eq($$select video_generation_id, status, user_id = (select owner from ids) from private.cost_reservations
                    where key like (select id::text from started where label = 'e') || ':%'$$,
  $$values (null::uuid, 'open', true)$$, 'the reservation outlives its generation, still its user''s');

-- Old reservations whose calls answered or were refused are purged; abandoned ones stay.
update private.cost_reservations set settled_at = now() - interval '41 days'
where video_generation_id = (select id from started where label = 'a') or key like (select id::text from started where label = 'c') || ':%';
select is(private.purge_cost_reservations(), 1, 'the settled reservation older than 40 days goes');
select is((select count(*)::integer from private.cost_reservations where key like (select id::text from started where label = 'c') || ':%'),
  2, 'the abandoned ones stay, the only record of calls whose outcome is unknown');

-- Nobody but the backend reads or writes reservations.
select tests.authenticate_as((select owner from ids));
select is(tests.try_rows('select * from private.cost_reservations'), 'denied', 'a user cannot read reservations');
select is(tests.try_rows($$select private.settle_cost('x')$$), 'denied', 'a user cannot settle a reservation');
select is(tests.try_rows($$update private.quality_models set model = 'offline-ffmpeg-motion' where capability = 'video'$$),
  'denied', 'a user cannot move their quality''s rung of the ladder');
select is(tests.try_rows($$update private.model_prices set usd_per_unit = 0 where true$$), 'denied',
  'nor make a model free');
select is(tests.try_rows($$update private.tier_ceilings set max_generation_usd = 1000 where true$$), 'denied',
  'nor raise a ceiling');
select tests.authenticate_as_anon();
select is(tests.try_rows($$select private.reserve_cost('x', null, 'gpt-4o', '{}')$$), 'denied', 'anon cannot reserve');
select tests.clear_authentication();

select * from finish();
rollback;
