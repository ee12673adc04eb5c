-- Scheduled jobs and quotas: rollups against hand-computed sums, idempotent re-runs, who reads the
-- aggregates, the billing-period reset, the stuck-generation reaper and archive cleanup.
begin;
select plan(35);

create temp table ids as
  select tests.create_user('ann@billing.test') as ann, tests.create_user('bob@billing.test') as bob,
         tests.create_user('root@billing.test') as root;
grant select on ids to public;
insert into public.user_roles (user_id, role_name) select root, 'superadmin' from ids;

-- A fixture of usage across two days and two users (costs chosen to sum exactly).
insert into public.usage_logs (user_id, resource_type, provider, model_used, operation, cost_usd, duration_seconds, tier_at_time, success, created_at)
select u, r::public.resource_type, 'openai', m, 'op', c, d, 'free', ok, ts::timestamptz
from (values
  ((select ann from ids), 'script', 'gpt-4o-mini', 0.010, 0.1, true, '2026-03-01 08:00+00'),
  ((select ann from ids), 'script', 'gpt-4o-mini', 0.020, 0.3, true, '2026-03-01 23:59+00'),
  ((select ann from ids), 'image', 'modelslab-flux', 0.500, 2.0, true, '2026-03-01 12:00+00'),
  ((select bob from ids), 'plot', 'gpt-4o-mini', 0.040, 0.2, false, '2026-03-01 09:00+00'),
  ((select ann from ids), 'audio', 'eleven_multilingual_v2', 0.300, 1.0, true, '2026-03-02 00:00+00')
) as f (u, r, m, c, d, ok, ts);

select is(private.rollup_daily_costs('2026-03-01'), 2, 'the daily rollup writes one row per user with usage');
select results_eq(
  $$select total_cost, request_count, breakdown from public.cost_aggregations
    where user_id = (select ann from ids) and period_start = '2026-03-01' and period_end = '2026-03-01'$$,
  $$values (0.530000::numeric(14, 6), 3, '{"script": 0.030000, "image": 0.500000}'::jsonb)$$,
  'ann''s day (period_start = period_end): 0.01 + 0.02 + 0.50, three requests, split by resource type');
select is((select total_cost from public.cost_aggregations where user_id = (select bob from ids) and period_start = '2026-03-01'),
  0.040000::numeric(14, 6), 'bob''s day');
select is((select count(*)::integer from public.cost_aggregations where period_start = '2026-03-02' or period_end = '2026-03-02'), 0,
  'the next day is not touched (the 00:00 row belongs to 2 March)');
select lives_ok($$select private.rollup_daily_costs('2026-03-01')$$, 'a day can be rolled up again');
select is((select count(*)::integer from public.cost_aggregations where period_start = '2026-03-01'), 2,
  're-running replaces, never duplicates');
delete from public.usage_logs where user_id = (select bob from ids);
select private.rollup_daily_costs('2026-03-01');
select is((select count(*)::integer from public.cost_aggregations where user_id = (select bob from ids)), 0,
  'a user whose usage disappeared loses the stale row');

select is(private.rollup_model_metrics('2026-03-01'), 2, 'model metrics: one row per model used that day');
select results_eq(
  $$select request_count, success_count, failure_count, avg_latency_ms, total_cost_usd from public.model_metrics
    where model_name = 'gpt-4o-mini' and date = '2026-03-01'$$,
  $$values (2, 2, 0, 200::double precision, 0.030000::numeric(14, 6))$$,
  'gpt-4o-mini on 1 March: two calls averaging 200 ms');
select private.rollup_model_metrics('2026-03-01');
select is((select count(*)::integer from public.model_metrics where date = '2026-03-01'), 2, 'model rollup is idempotent');

-- Who reads the aggregates.
select tests.authenticate_as((select ann from ids));
select is((select count(*)::integer from public.cost_aggregations), 1, 'a user reads their own aggregates');
select is((select count(*)::integer from public.model_metrics), 0, 'users do not read model metrics');
select is(tests.try_rows($$update public.cost_aggregations set total_cost = 0 where true$$), 'denied',
  'users cannot write aggregates'); -- where true: past safeupdate, to the privilege check
select tests.authenticate_as((select bob from ids));
select is((select count(*)::integer from public.cost_aggregations), 0, 'another user reads none of them');
select tests.authenticate_as((select root from ids));
select is((select count(*)::integer from public.model_metrics where date = '2026-03-01'), 2, 'superadmins read model metrics');
select tests.authenticate_as_anon();
select is((select count(*)::integer from public.cost_aggregations), 0, 'anonymous callers read nothing');
select tests.clear_authentication();

-- Quota and the billing-period reset.
insert into public.books (id, user_id, title) select '00000000-0000-4000-8000-0000000ff001', ann, 'Q' from ids;
insert into public.chapters (id, book_id, chapter_number, title, content)
values ('00000000-0000-4000-8000-0000000ff101', '00000000-0000-4000-8000-0000000ff001', 1, 'One', 'Ada.');
update public.user_subscriptions set video_count_used = 2, current_period_start = now() - interval '40 days',
  current_period_end = now() - interval '10 days' where user_id = (select ann from ids);
select tests.authenticate_as((select ann from ids));
select throws_ok($$select public.start_video_generation('00000000-0000-4000-8000-0000000ff101')$$, 'LT001',
  'video quota used up: 2 of 2 videos this period (tier free)', 'usage past the tier limit is refused');
select tests.clear_authentication();
-- A paid plan set to end with its period is left for Stripe to end: no new period, no new quota.
update public.user_subscriptions set tier = 'standard', video_count_limit = 30, video_count_used = 5,
  cancel_at_period_end = true, current_period_start = now() - interval '31 days', current_period_end = now() - interval '1 day'
where user_id = (select bob from ids);
select is(private.reset_billing_periods() >= 1, true, 'the reset renews periods that ended');
select results_eq($$select video_count_used, current_period_end < now() from public.user_subscriptions where user_id = (select bob from ids)$$,
  $$values (5, true)$$, 'a paid plan canceled at its period end gets no new period from the reset');
update public.user_subscriptions set tier = 'free', video_count_limit = 2, video_count_used = 0, cancel_at_period_end = false,
  current_period_start = now(), current_period_end = now() + interval '1 month' where user_id = (select bob from ids);
select results_eq($$select video_count_used, current_period_end > now() from public.user_subscriptions where user_id = (select ann from ids)$$,
  $$values (0, true)$$, 'the count is back to zero in a period that contains now');
select tests.authenticate_as((select ann from ids));
select lives_ok($$select public.start_video_generation('00000000-0000-4000-8000-0000000ff101')$$, 'the reset gives the quota back');
select tests.clear_authentication();

-- The reaper: a generation whose message was lost is queued again; one stuck too long fails.
-- (Triggers off while ageing the rows: the updated_at trigger would stamp them with now.)
set local session_replication_role = replica;
update public.video_generations set updated_at = now() - interval '2 hours' where user_id = (select ann from ids);
set local session_replication_role = origin;
delete from pgmq.q_script where message ->> 'generation_id' = (select id::text from public.video_generations where user_id = (select ann from ids));
select results_eq($$select action from private.reap_stuck_generations() where generation_id in
                    (select id from public.video_generations where user_id = (select ann from ids))$$,
  $$values ('requeued 1 units')$$, 'a stuck generation without a message is queued again');
select is((select status::text from public.video_generations where user_id = (select ann from ids)), 'pending',
  'a requeued generation no worker has begun stays pending');
-- A generation whose message is waiting (here hidden, as by a retry's backoff) is left alone.
update pgmq.q_script set vt = now() + interval '1 day'
where message ->> 'generation_id' = (select id::text from public.video_generations where user_id = (select ann from ids));
set local session_replication_role = replica;
update public.video_generations set updated_at = now() - interval '2 hours' where user_id = (select ann from ids);
set local session_replication_role = origin;
select is((select count(*)::integer from private.reap_stuck_generations() where generation_id in
            (select id from public.video_generations where user_id = (select ann from ids))),
  0, 'a generation whose message is waiting is not touched');
select is((select status::text from public.video_generations where user_id = (select ann from ids)), 'pending',
  'and keeps its state');
-- After the stage's attempt limit of requeues without progress, a generation whose message is lost fails.
delete from pgmq.q_script where message ->> 'generation_id' = (select id::text from public.video_generations where user_id = (select ann from ids));
set local session_replication_role = replica;
update public.video_generations set updated_at = now() - interval '2 hours',
  pipeline_metadata = pipeline_metadata || jsonb_build_object('reaped', (select max_attempts from private.pipeline_stages
                                                                         where step = 'script'))
where user_id = (select ann from ids);
set local session_replication_role = origin;
select results_eq($$select action from private.reap_stuck_generations() where generation_id in
                    (select id from public.video_generations where user_id = (select ann from ids))$$,
  $$values ('failed')$$, 'after the attempt limit of requeues it fails');
select matches((select error_message from public.video_generations where user_id = (select ann from ids)),
  '^stuck in the script step: no progress since .* queued again 5 times; retry to resume$', 'with a message saying where it was stuck');

-- A change of plan within a billing period keeps the videos used; only a new period resets them.
update public.user_subscriptions set tier = 'standard', video_count_limit = 30, video_count_used = 7,
  stripe_customer_id = 'cus_billing_root', stripe_subscription_id = 'sub_billing_root', last_synced_at = null,
  current_period_start = '2026-05-01', current_period_end = '2026-05-31'
where user_id = (select root from ids);
select private.apply_stripe_subscription('evt_plan_1', '2026-05-10', root, 'cus_billing_root', 'sub_billing_root',
  'price_basic', 'litinkai_basic_monthly', 'active', '2026-05-01', '2026-05-31', false) from ids;
select private.apply_stripe_subscription('evt_plan_2', '2026-05-11', root, 'cus_billing_root', 'sub_billing_root',
  'price_std', 'litinkai_standard_monthly', 'active', '2026-05-01', '2026-05-31', false) from ids;
select results_eq($$select tier::text, video_count_used, video_count_limit from public.user_subscriptions
                    where user_id = (select root from ids)$$,
  $$values ('standard', 7, 30)$$, 'standard, basic and standard again within one period: 7 videos used stay used');
select private.apply_stripe_subscription('evt_plan_3', '2026-06-01', root, 'cus_billing_root', 'sub_billing_root',
  'price_std', 'litinkai_standard_monthly', 'active', '2026-05-31', '2026-06-30', false) from ids;
select is((select video_count_used from public.user_subscriptions where user_id = (select root from ids)), 0,
  'a new period starts from zero');
select results_eq($$select from_tier::text || '->' || to_tier::text || ':' || change_reason from public.subscription_history
                    where user_id = (select root from ids) order by effective_date$$,
  $$values ('standard->basic:downgrade'), ('basic->standard:upgrade'), ('standard->standard:renewal')$$,
  'each change is in the history');

-- A subscription Stripe deleted: back on the free tier with status canceled; the free allowance stays usable.
insert into public.books (id, user_id, title) select '00000000-0000-4000-8000-0000000ff002', bob, 'C' from ids;
insert into public.chapters (id, book_id, chapter_number, title, content)
values ('00000000-0000-4000-8000-0000000ff102', '00000000-0000-4000-8000-0000000ff002', 1, 'One', 'Bo.');
select private.apply_stripe_subscription('evt_billing_1', now() - interval '2 hours', bob, 'cus_billing_bob', 'sub_billing_bob',
  'price_basic', 'litinkai_basic_monthly', 'active', now() - interval '1 day', now() + interval '29 days', false) from ids;
-- Three videos of the paid plan's allowance used, more than the free tier's two.
update public.user_subscriptions set video_count_used = 3 where user_id = (select bob from ids);
select private.apply_stripe_subscription('evt_billing_2', now() - interval '1 hour', bob, 'cus_billing_bob', 'sub_billing_bob',
  'price_basic', 'litinkai_basic_monthly', 'canceled', null, null, false, true) from ids;
select results_eq($$select tier::text, status::text, video_count_limit, video_count_used, stripe_subscription_id,
                           current_period_start > now() - interval '1 minute'
                    from public.user_subscriptions where user_id = (select bob from ids)$$,
  $$values ('free', 'canceled', 2, 0, null::text, true)$$,
  'a deleted Stripe subscription leaves the free tier, status canceled, in a new free period with its allowance unused');
select results_eq($$select from_tier::text, to_tier::text, change_reason::text from public.subscription_history
                    where user_id = (select bob from ids) order by effective_date$$,
  $$values ('free', 'basic', 'upgrade'), ('basic', 'free', 'cancel')$$, 'the history records the upgrade and the cancellation');
select tests.authenticate_as((select bob from ids));
select lives_ok($$select public.start_video_generation('00000000-0000-4000-8000-0000000ff102')$$,
  'a canceled user still generates within the free allowance');
select tests.clear_authentication();

-- Archive cleanup and the schedules.
select pgmq.send('plot', '{"old": true}');
select pgmq.archive('plot', (select max(msg_id) from pgmq.q_plot));
update pgmq.a_plot set archived_at = now() - interval '31 days' where message ->> 'old' = 'true';
select is(private.purge_queue_archives() >= 1, true, 'archived messages older than 30 days are deleted');
select bag_has($$select jobname from cron.job$$,
  $$values ('daily-rollups'), ('billing-period-reset'), ('reap-stuck-generations'), ('purge-queue-archives'),
    ('purge-rate-limit-windows'), ('purge-cost-reservations'), ('library-search-indexes')$$,
  'the pg_cron jobs are scheduled');

select * from finish();
rollback;
