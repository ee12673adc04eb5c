-- Operator alerts: each kind raised from its source, kept to one open alert per kind and subject,
-- resolved when its condition clears, acknowledged by a superadmin; the thresholds superadmins edit;
-- who reads alerts, settings and everyone's usage; the Broadcast topic and who may join it.
begin;
select plan(81);

-- Hold the check's lock for the whole test: the every-minute cron job waits instead of touching
-- the alerts this test rolls back.
select pg_advisory_xact_lock(hashtext('private.check_operator_alerts'));
delete from public.operator_alerts where true;
create temp table earlier_messages as select id from realtime.messages where topic = 'operator:alerts';
create function pg_temp.new_broadcasts(wanted_event text default null)
returns integer
language sql
as $$
  select count(*)::integer from realtime.messages m
  where m.topic = 'operator:alerts' and m.id not in (select id from earlier_messages)
    and (wanted_event is null or m.event = wanted_event)
$$;
-- Every scheduled worker has just polled: only what a test sets up below is silent.
insert into private.worker_heartbeats (function_name, beat_at)
select function_name, now() from private.edge_function_schedules
on conflict (function_name) do update set beat_at = excluded.beat_at;

create temp table ids as
  select tests.create_user('admin@alerts.test') as admin, tests.create_user('ann@alerts.test') as ann,
    tests.create_user('ben@alerts.test') as ben, tests.create_user('second-admin@alerts.test') as admin2;
grant select on ids to public;
insert into public.user_roles (user_id, role_name)
select admin, 'superadmin'::public.app_role from ids union all select admin2, 'superadmin' from ids;

insert into public.books (id, user_id, title) select 'd0000000-0000-4000-8000-0000000000b1', ann, 'Tides' from ids;
insert into public.chapters (id, book_id, chapter_number, title, content)
values ('d0000000-0000-4000-8000-0000000000c1', 'd0000000-0000-4000-8000-0000000000b1', 1, 'Tides', 'Water moves.');
-- A generation whose images stage failed five times at ModelsLab and once on its own input.
insert into public.video_generations (id, user_id, chapter_id, script_style, pipeline_metadata)
select 'd0000000-0000-4000-8000-000000000091', ann, 'd0000000-0000-4000-8000-0000000000c1', 'cinematic',
  jsonb_build_object('stages', jsonb_build_object('images', jsonb_build_object('errors',
    (select jsonb_agg(jsonb_build_object('unit', 'scene:' || n, 'attempt', 1, 'retryable', true, 'at', now(),
       'error', case when n = 6 then 'the scene image is not a PNG or JPEG' else 'modelslab answered HTTP 503: busy' end))
     from generate_series(1, 6) n))))
from ids;
-- Ten attempts of the images stage in the last hour: three refused by the provider (released), one
-- timed out (abandoned: failed too), six settled.
insert into private.cost_reservations (key, user_id, video_generation_id, step, unit_key, model, quantity, reserved_usd,
  status, settled_at)
select 'd0000000-0000-4000-8000-000000000091:images:scene:' || n || ':1', (select ann from ids),
  'd0000000-0000-4000-8000-000000000091', 'images', 'scene:' || n, 'modelslab-flux', '{"images": 1}', 0.0047,
  case when n <= 3 then 'released' when n = 4 then 'abandoned' else 'settled' end, now()
from generate_series(1, 10) n;
-- Ben spent $40 today and has $15 of calls under way; five of his speech calls failed (logged).
insert into public.usage_logs (user_id, resource_type, provider, model_used, operation, cost_usd, tier_at_time)
select ben, 'video', 'modelslab', 'modelslab-image-to-video', 'video', 40, 'professional' from ids;
insert into private.cost_reservations (key, user_id, model, quantity, reserved_usd)
select 'alerts-test:ben-open', ben, 'modelslab-image-to-video', '{"seconds": 750}', 15 from ids;
insert into public.usage_logs (user_id, resource_type, provider, model_used, operation, tier_at_time, success, error_message)
select ben, 'audio', 'elevenlabs', 'eleven_multilingual_v2', 'speech', 'free', false,
  'elevenlabs answered HTTP 500: internal error' from ids cross join generate_series(1, 5);
-- A call whose worker stopped before its answer came.
insert into private.cost_reservations (key, user_id, model, quantity, reserved_usd, status)
select 'alerts-test:ann-abandoned', ann, 'gpt-4o', '{"input_tokens": 1000}', 0.0025, 'abandoned' from ids;
-- A queue whose oldest message has waited 20 minutes.
select pgmq.create('alerts_test');
select pgmq.send('alerts_test', '{"n": 1}');
update pgmq.q_alerts_test set enqueued_at = now() - interval '20 minutes' where true;
-- plot last polled 10 minutes ago; mint never did; the audio worker (worker service) stopped an hour ago.
update private.worker_heartbeats set beat_at = now() - interval '10 minutes' where function_name = 'plot';
delete from private.worker_heartbeats where function_name = 'mint';
insert into private.worker_heartbeats (function_name, beat_at, instance)
values ('pipeline-audio', now() - interval '1 hour', 'worker:host:1')
on conflict (function_name) do update set beat_at = excluded.beat_at, instance = excluded.instance;

create temp view open_alerts as
  select kind::text, subject, value, message, details, user_id from public.operator_alerts where status = 'open';
grant select on open_alerts to public;

-- Raised --------------------------------------------------------------------------------------------
select results_eq($$select raised, still_open, resolved from private.check_operator_alerts()$$,
  $$values (9, 0, 0)$$, 'the first check raises nine alerts');
select results_eq($$select value from open_alerts where kind = 'stage_failure_rate' and subject = 'images'$$,
  $$values (0.4)$$, 'a stage failing 4 of 10 attempts passes the 20% threshold');
select matches((select message from open_alerts where kind = 'stage_failure_rate'),
  '^the images stage: 4 of 10 attempts failed in the last 1 hour \(40%, threshold 20%\); last error: ',
  'its message says how many attempts failed, and the last error');
select results_eq($$select value, details ->> 'provider' from open_alerts where kind = 'model_failure_rate'$$,
  $$values (0.4, 'modelslab')$$, 'so does the model those attempts called (its failing speech model has fewer calls than min_events)');
select results_eq($$select subject, value from open_alerts where kind = 'provider_errors' order by subject$$,
  $$values ('elevenlabs', 5::numeric), ('modelslab', 5::numeric)$$,
  'providers with five errors: failed usage (elevenlabs) and stage errors naming the provider (modelslab, not the input error)');
select results_eq($$select subject, value, user_id, (details ->> 'reserved_usd')::numeric from open_alerts where kind = 'user_daily_cost'$$,
  $$select ben::text, 55::numeric, ben, 15::numeric from ids$$,
  'a user past $50 a day, counting the calls under way');
select matches((select message from open_alerts where kind = 'user_daily_cost'),
  '^user ben@alerts\.test spent \$55\.00 in the last 24 hours \(threshold \$50; \$15\.00 of it reserved',
  'its message names the user and the figures');
select is((select count(*)::integer from open_alerts where kind = 'system_daily_cost'), 0,
  'the system''s $55 stays under its $500');
select results_eq($$select value >= 1200, details ->> 'messages' from open_alerts where kind = 'queue_backlog' and subject = 'alerts_test'$$,
  $$values (true, '1')$$, 'a queue whose oldest message waited 20 minutes');
select results_eq($$select subject, value >= 600 from open_alerts where kind = 'worker_silent' order by subject$$,
  $$values ('mint', null::boolean), ('plot', true)$$,
  'scheduled workers silent for 10 minutes or never seen; the audio worker, with nothing waiting, may sleep');
select is((select message from open_alerts where subject = 'mint'), 'worker mint has never polled although it is invoked on a schedule',
  'a worker never seen says so');
select results_eq($$select value, (details ->> 'reserved_usd')::numeric, details -> 'models' from open_alerts where kind = 'abandoned_reservations'$$,
  $$values (2::numeric, 0.0072::numeric, '{"gpt-4o": 1, "modelslab-flux": 1}'::jsonb)$$,
  'calls that got no answer: a dead worker''s and a timed-out one''s');
select is(pg_temp.new_broadcasts('INSERT'), 9, 'each raised alert is broadcast on operator:alerts');
select results_eq(
  $$select private.provider_of_error(e) from unnest(array['modelslab: rate limited', 'openrouter unreachable: reset',
    'gpt-4o wrote no scenes for the chapter', 'eleven_multilingual_v2 x', 'elevenlabsx answered', 'ffmpeg timed out']) e$$,
  $$values ('modelslab'), ('openrouter'), ('openai'), ('elevenlabs'), (null), (null)$$,
  'an error is the provider''s when it begins with the provider''s or a model''s name');

-- Seen again: updated, not added ------------------------------------------------------------------
create temp table before as select id, kind, subject, first_seen_at, last_seen_at from public.operator_alerts;
insert into private.cost_reservations (key, user_id, video_generation_id, step, unit_key, model, quantity, reserved_usd,
  status, settled_at)
select 'd0000000-0000-4000-8000-000000000091:images:scene:' || n || ':2', (select ann from ids),
  'd0000000-0000-4000-8000-000000000091', 'images', 'scene:' || n, 'modelslab-flux', '{"images": 1}', 0.0047, 'released', now()
from generate_series(1, 2) n;
select results_eq($$select raised, still_open, resolved from private.check_operator_alerts()$$,
  $$values (0, 9, 0)$$, 'the second check raises nothing and sees the nine again');
select is((select count(*)::integer from public.operator_alerts), 9, 'still one alert per kind and subject');
select results_eq($$select value from open_alerts where kind = 'stage_failure_rate'$$, $$values (0.5)$$,
  'the open alert carries the new figure (6 of 12)');
select ok((select a.last_seen_at > b.last_seen_at and a.first_seen_at = b.first_seen_at and a.id = b.id
           from public.operator_alerts a join before b using (id) where a.kind = 'stage_failure_rate'),
  'the same row: first seen kept, last seen moved on');
select is(pg_temp.new_broadcasts(), 9, 'seeing an alert again broadcasts nothing');
select throws_ok($$insert into public.operator_alerts (kind, subject, message, threshold) values ('queue_backlog', 'alerts_test', 'x', 1)$$,
  '23505', null, 'a second open alert for the same kind and subject is refused');

-- Resolved, kept, raised afresh -------------------------------------------------------------------
update private.cost_reservations set status = 'settled'
where key like 'd0000000-0000-4000-8000-000000000091:images:%';
select pgmq.purge_queue('alerts_test');
update private.worker_heartbeats set beat_at = now() where function_name = 'plot';
select results_eq($$select raised, still_open, resolved from private.check_operator_alerts()$$,
  $$values (0, 4, 5)$$, 'conditions that cleared resolve their alerts: stage, model, provider (modelslab), queue, worker');
select results_eq(
  $$select kind::text, subject from public.operator_alerts where status = 'resolved' order by 1, 2$$,
  $$values ('model_failure_rate', 'modelslab-flux'), ('provider_errors', 'modelslab'), ('queue_backlog', 'alerts_test'),
    ('stage_failure_rate', 'images'), ('worker_silent', 'plot')$$,
  'the resolved alerts are kept');
select is((select count(*)::integer from public.operator_alerts where status = 'resolved' and resolved_at is null), 0,
  'each says when it was resolved');
select is(pg_temp.new_broadcasts('UPDATE'), 5, 'each resolution is broadcast');
select is((select payload -> 'record' ->> 'status' from realtime.messages m
           where m.topic = 'operator:alerts' and m.event = 'UPDATE' and m.id not in (select id from earlier_messages)
             and m.payload -> 'record' ->> 'subject' = 'plot'),
  'resolved', 'with the resolved row');
update private.cost_reservations set status = 'released'
where key like 'd0000000-0000-4000-8000-000000000091:images:scene:1:%';
update private.cost_reservations set status = 'released', updated_at = now()
where key = 'd0000000-0000-4000-8000-000000000091:images:scene:3:1';
select results_eq($$select raised, resolved from private.check_operator_alerts()$$, $$values (3, 0)$$,
  'the stage failing again raises new alerts (stage, model, and the provider its errors name)');
select results_eq(
  $$select status::text, count(*)::integer from public.operator_alerts where kind = 'stage_failure_rate' group by 1 order by 1$$,
  $$values ('open', 1), ('resolved', 1)$$, 'beside the resolved one');

-- Acknowledged ----------------------------------------------------------------------------------------
create temp table stage_alert as
  select id from public.operator_alerts where kind = 'stage_failure_rate' and status = 'open';
grant select on stage_alert to public;
select tests.authenticate_as((select ann from ids));
select throws_ok($$select public.acknowledge_operator_alert((select id from stage_alert))$$, '42501',
  'only a superadmin can acknowledge operator alerts', 'a user cannot acknowledge an alert');
select tests.authenticate_as_anon();
select throws_ok($$select public.acknowledge_operator_alert((select id from stage_alert))$$, '42501', null,
  'nor can anonymous callers');
select tests.authenticate_as_service_role();
select throws_ok($$select public.acknowledge_operator_alert((select id from stage_alert))$$, '42501', null,
  'nor the service role: an acknowledgement names a person');
select tests.authenticate_as((select admin from ids));
select results_eq($$select acknowledged_by, acknowledged_at is not null, status::text
                    from public.acknowledge_operator_alert((select id from stage_alert))$$,
  $$select admin, true, 'open' from ids$$, 'a superadmin acknowledges an alert: who and when');
select throws_ok($$select public.acknowledge_operator_alert('d0000000-0000-4000-8000-0000000000ff')$$, 'P0002',
  'no operator alert with id d0000000-0000-4000-8000-0000000000ff', 'an unknown alert is not found');
select tests.authenticate_as((select admin2 from ids));
select results_eq($$select acknowledged_by from public.acknowledge_operator_alert((select id from stage_alert))$$,
  $$select admin from ids$$, 'a second acknowledgement keeps the first');
select tests.clear_authentication();
select is(pg_temp.new_broadcasts('UPDATE'), 6, 'the acknowledgement is broadcast once');
select results_eq($$select raised, resolved from private.check_operator_alerts()$$, $$values (0, 0)$$,
  'the next check changes nothing');
select results_eq($$select status::text, acknowledged_by from public.operator_alerts where id = (select id from stage_alert)$$,
  $$select 'open', admin from ids$$, 'an acknowledged alert stays open and acknowledged while its condition lasts');

-- Thresholds ----------------------------------------------------------------------------------------
select set_eq($$select kind::text from public.operator_alert_settings$$,
  $$select unnest(enum_range(null::public.operator_alert_kind))::text$$, 'one setting per kind');
select tests.authenticate_as((select admin from ids));
select is(tests.try_rows($$update public.operator_alert_settings set threshold = 50 where kind = 'system_daily_cost'$$), '1',
  'a superadmin edits a threshold');
update public.operator_alert_settings set threshold = 50 where kind = 'system_daily_cost';
update public.operator_alert_settings set enabled = false where kind = 'abandoned_reservations';
select is(tests.try_rows($$update public.operator_alert_settings set description = 'x' where kind = 'queue_backlog'$$),
  'denied', 'but not a kind''s description');
select throws_ok($$update public.operator_alert_settings set threshold = 1.5 where kind = 'model_failure_rate'$$, '23514', null,
  'a failure rate is a share of at most 1');
select throws_ok($$update public.operator_alert_settings set window_minutes = 5 where kind = 'queue_backlog'$$, '23514', null,
  'a kind that looks at the present has no window');
select throws_ok($$update public.operator_alert_settings set threshold = 0 where kind = 'queue_backlog'$$, '23514', null,
  'a threshold is positive');
select is(tests.try_rows($$insert into public.operator_alert_settings (kind, threshold, description) values ('queue_backlog', 1, 'x')$$),
  'denied', 'a superadmin adds no kind');
select is(tests.try_rows($$delete from public.operator_alert_settings where kind = 'queue_backlog'$$), 'denied',
  'and removes none');
select tests.clear_authentication();
select results_eq($$select threshold, updated_by from public.operator_alert_settings where kind = 'system_daily_cost'$$,
  $$select 50::numeric, admin from ids$$, 'the setting says who edited it');
select results_eq($$select raised, resolved from private.check_operator_alerts()$$, $$values (1, 1)$$,
  'the next check holds the figures to the edited thresholds');
select results_eq($$select subject, value from open_alerts where kind = 'system_daily_cost'$$,
  $$values ('system', 55.0025::numeric)$$, 'the system''s spend passes the lowered threshold');
select is((select status::text from public.operator_alerts where kind = 'abandoned_reservations'), 'resolved',
  'a disabled kind''s alert is resolved');

-- Worker service functions are watched while work waits for them.
select pgmq.send('audio', '{"generation_id": "d0000000-0000-4000-8000-000000000091", "unit": "scene:1"}');
select private.check_operator_alerts();
select matches((select message from open_alerts where kind = 'worker_silent' and subject = 'pipeline-audio'),
  '^worker pipeline-audio has not polled for 3600 s \(threshold 360 s\) while 1 messages wait in its queue$',
  'a worker service stopped while messages wait in its queue');

-- Who reads what --------------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select ok(tests.try_rows('select 1 from public.operator_alerts') in ('0', 'denied'), 'anon reads no alerts');
select ok(tests.try_rows('select 1 from public.operator_alert_settings') in ('0', 'denied'), 'anon reads no settings');
select ok(tests.try_rows($$update public.operator_alert_settings set threshold = 1 where true$$) in ('0', 'denied'),
  'anon edits no settings');
select ok(tests.try_rows('select 1 from public.usage_logs') in ('0', 'denied'), 'anon reads no usage');
select tests.authenticate_as((select ann from ids));
select is(tests.try_rows('select 1 from public.operator_alerts'), '0', 'a user reads no alerts');
select is(tests.try_rows('select 1 from public.operator_alert_settings'), '0', 'a user reads no settings');
select is(tests.try_rows($$update public.operator_alert_settings set threshold = 1 where true$$), '0',
  'a user edits no settings');
select is(tests.try_rows($$update public.operator_alerts set acknowledged_at = now() where true$$), 'denied',
  'a user writes no alert');
select is(tests.try_rows($$select 1 from public.usage_logs where user_id = (select ben from ids)$$), '0',
  'a user reads no one else''s usage');
select tests.authenticate_as((select ben from ids));
select is(tests.try_rows('select 1 from public.usage_logs'), '6', 'a user reads their own usage');
select tests.clear_authentication();
insert into public.cost_aggregations (user_id, period_start, period_end, total_cost)
select ben, current_date, current_date, 40 from ids;
insert into public.model_metrics (model_name, provider, date, request_count, success_count)
values ('alerts-test-model', 'offline', current_date, 1, 1);
create temp table alert_count as select count(*)::text as n from public.operator_alerts;
grant select on alert_count to public;
select tests.authenticate_as((select ann from ids));
select is(tests.try_rows($$select 1 from public.cost_aggregations where user_id = (select ben from ids)$$), '0',
  'a user reads no one else''s cost rollups');
select is(tests.try_rows($$select 1 from public.model_metrics where model_name = 'alerts-test-model'$$), '0',
  'nor model metrics');
select tests.authenticate_as((select admin from ids));
select is(tests.try_rows('select 1 from public.operator_alerts'), (select n from alert_count),
  'a superadmin reads every alert');
select is(tests.try_rows('select 1 from public.operator_alert_settings'), '8', 'and every setting');
select is(tests.try_rows($$update public.operator_alerts set acknowledged_at = now() where true$$), 'denied',
  'but writes alerts only through the acknowledgement');
select is(tests.try_rows($$select 1 from public.usage_logs where user_id = (select ben from ids)$$), '6',
  'a superadmin reads every user''s usage');
select is(tests.try_rows($$select 1 from public.cost_aggregations where user_id = (select ben from ids)$$), '1',
  'and cost rollups');
select is(tests.try_rows($$select 1 from public.model_metrics where model_name = 'alerts-test-model'$$), '1',
  'and model metrics');
select is(tests.try_rows($$update public.usage_logs set cost_usd = 0 where true$$), 'denied',
  'reading everyone''s usage is not writing it');
select tests.authenticate_as_service_role();
select ok(tests.try_rows('select 1 from public.operator_alerts')::integer > 0, 'the service role reads alerts');
select is(tests.try_rows('select 1 from public.operator_alert_settings'), '8', 'and settings');
select is(tests.try_rows($$update public.operator_alert_settings set threshold = 600 where kind = 'queue_backlog'$$), '1',
  'and edits them');
select is(tests.try_rows($$select private.check_operator_alerts()$$), '1', 'and may run the check');
select tests.authenticate_as((select ann from ids));
select throws_ok($$select private.check_operator_alerts()$$, '42501', null, 'a user may not');

-- Joining the Broadcast topic ------------------------------------------------------------------------
select tests.authenticate_as((select admin from ids));
select set_config('realtime.topic', 'operator:alerts', true);
select ok((select count(*) from realtime.messages) > 0, 'a superadmin may join operator:alerts');
select set_config('realtime.topic', 'user:' || (select ann from ids), true);
select is((select count(*)::integer from realtime.messages), 0, 'but not a user''s own channel');
select tests.authenticate_as((select ann from ids));
select set_config('realtime.topic', 'operator:alerts', true);
select is((select count(*)::integer from realtime.messages), 0, 'a user may not join operator:alerts');
select tests.authenticate_as_anon();
select is((select count(*)::integer from realtime.messages), 0, 'nor may anonymous callers');
select tests.clear_authentication();

-- The schedule -------------------------------------------------------------------------------------------
select results_eq($$select schedule, command from cron.job where jobname = 'operator-alerts'$$,
  $$values ('* * * * *'::text, 'select private.check_operator_alerts()'::text)$$, 'the check runs every minute');
select is((select r.rolsuper from cron.job j join pg_roles r on r.rolname = j.username where j.jobname = 'operator-alerts'),
  false, 'as a role that is not a superuser (hosted''s postgres)');
select is((select count(*)::integer from public.operator_alerts where user_id = (select ben from ids)), 1,
  'a user''s cost alert names them');
delete from auth.users where id = (select ben from ids);
select is((select count(*)::integer from public.operator_alerts where subject = (select ben::text from ids)), 0,
  'and goes with their account');

select * from finish();
rollback;
