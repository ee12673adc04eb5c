-- Progress on private Broadcast channels: what the triggers send, and who may join which channel
-- (Realtime authorizes a join with a select on realtime.messages under the channel as realtime.topic()).
begin;
select plan(10);

create temp table ids as
  select tests.create_user('ann@realtime.test') as ann, tests.create_user('ben@realtime.test') as ben;
grant select on ids to public;
insert into public.books (id, user_id, title) select 'c0000000-0000-4000-8000-0000000000b1', ann, 'Tides' from ids;
insert into public.chapters (id, book_id, chapter_number, title, content)
values ('c0000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-0000000000b1', 1, 'Tides', 'Water moves.');
insert into public.video_generations (id, user_id, chapter_id, script_style)
select 'c0000000-0000-4000-8000-000000000091', ann, 'c0000000-0000-4000-8000-0000000000c1', 'cinematic' from ids;
update public.video_generations set status = 'script', progress_percentage = 10
where id = 'c0000000-0000-4000-8000-000000000091';

update public.video_generations set pipeline_metadata = '{"note": "not shown"}'
where id = 'c0000000-0000-4000-8000-000000000091';

select is((select count(*)::integer from realtime.messages where topic = 'generation:c0000000-0000-4000-8000-000000000091'),
  2, 'the generation''s channel got its insert and its update');
select is((select count(*)::integer from realtime.messages where payload -> 'record' -> 'pipeline_metadata' ? 'note'),
  0, 'an update no progress bar shows sends nothing');
select results_eq(
  $$select event, payload -> 'record' ->> 'status', payload -> 'old_record' ->> 'status', payload ->> 'table'
    from realtime.messages where topic = 'generation:c0000000-0000-4000-8000-000000000091' and event = 'UPDATE'$$,
  $$values ('UPDATE', 'script', 'pending', 'video_generations')$$,
  'an update carries the new and the old row');
select is((select count(*)::integer from realtime.messages where topic = 'user:' || (select ann from ids)), 3,
  'the owner''s channel got the book and the generation''s changes');

-- Joining: the owner, another user, anonymous callers.
select tests.authenticate_as((select ann from ids));
select set_config('realtime.topic', 'generation:c0000000-0000-4000-8000-000000000091', true);
select is((select count(*)::integer from realtime.messages), 2, 'the owner may join the generation''s channel');
select set_config('realtime.topic', 'user:' || (select ann from ids), true);
select is((select count(*)::integer from realtime.messages), 3, 'and their own user channel');
select tests.authenticate_as((select ben from ids));
select set_config('realtime.topic', 'generation:c0000000-0000-4000-8000-000000000091', true);
select is((select count(*)::integer from realtime.messages), 0, 'another user may not join the generation''s channel');
select set_config('realtime.topic', 'user:' || (select ann from ids), true);
select is((select count(*)::integer from realtime.messages), 0, 'nor the owner''s user channel');
select set_config('realtime.topic', 'user:' || (select ben from ids), true);
select is((select count(*)::integer from realtime.messages where topic <> 'user:' || (select ben from ids)), 0,
  'on their own channel they see nothing of anyone else');
select tests.authenticate_as_anon();
select set_config('realtime.topic', 'user:' || (select ann from ids), true);
select is((select count(*)::integer from realtime.messages), 0, 'anonymous callers join no private channel');
select tests.clear_authentication();

select * from finish();
rollback;
