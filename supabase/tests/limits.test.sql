-- Per-user rate limits of the expensive actions, counted in SQL whatever client calls them.
begin;
select plan(13);

create temp table ids as
  select tests.create_user('ann@limits.test') as ann, tests.create_user('bob@limits.test') as bob;
grant select on ids to public;
update private.rate_limits set max_calls = 2 where action = 'search';

-- The mechanism: two calls in the window, the third refused with when to try again.
select tests.authenticate_as((select ann from ids));
select lives_ok($$select private.take_rate_limit('search'); select private.take_rate_limit('search')$$,
  'two searches within the limit');
select throws_like($$select private.take_rate_limit('search')$$,
  'too many search requests: at most 2 per 60 s; try again in % s', 'the third in the window is refused, saying when to retry');
select is(tests.try_rows($$select private.take_rate_limit('search')$$) like 'LT008:%', true,
  'with SQLSTATE LT008 (the functions answer 429)');
select tests.authenticate_as((select bob from ids));
select lives_ok($$select private.take_rate_limit('search')$$, 'another user has a limit of their own');
select tests.authenticate_as_anon();
select is(tests.try_rows($$select private.take_rate_limit('search')$$), 'denied',
  'anonymous callers have no limit to take (nothing limited is theirs to call)');
select tests.clear_authentication();

-- Every limited entry point takes from its limit: with the window used up, each is refused.
insert into private.rate_limit_windows (user_id, action, window_start, calls)
select (select ann from ids), r.action,
  to_timestamp(floor(extract(epoch from now()) / r.per_seconds) * r.per_seconds), r.max_calls
from private.rate_limits r where r.action in ('process_book', 'plot', 'script')
on conflict (user_id, action, window_start) do update set calls = excluded.calls;
select tests.authenticate_as((select ann from ids));
select throws_ok($$select public.process_book(gen_random_uuid())$$, 'LT008', null, 'process_book is rate limited');
select throws_ok($$select public.generate_plot_overview(gen_random_uuid())$$, 'LT008', null, 'plot generation is rate limited');
select throws_ok($$select * from public.match_chapters(array_fill(0.1, array[1536])::extensions.vector)$$, 'LT008', null,
  'search (match_chapters) is rate limited');
select throws_ok($$select private.take_rate_limit('script')$$, 'LT008', null,
  'script generation (the generate-script function takes it as the user) is rate limited');
select tests.authenticate_as((select bob from ids));
select ok(tests.try_rows($$select public.generate_plot_overview(gen_random_uuid())$$) not like 'LT008%',
  'another user is not held back by it');
select tests.clear_authentication();

-- Clients cannot see or reset the counters (`where true`: past safeupdate); old windows are purged.
select tests.authenticate_as((select ann from ids));
select is(tests.try_rows($$delete from private.rate_limit_windows where true$$), 'denied', 'a user cannot reset their counters');
select tests.clear_authentication();
insert into private.rate_limit_windows (user_id, action, window_start, calls)
values ((select ann from ids), 'search', now() - interval '2 hours', 5);
select ok(private.purge_rate_limit_windows() >= 1, 'the purge drops ended windows');
select is((select count(*)::integer from private.rate_limit_windows where user_id = (select ann from ids)), 4,
  'and keeps the current ones');

select * from finish();
rollback;
