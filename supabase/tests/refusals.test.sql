-- What an RPC's refusal tells another user: every client RPC called by an intruder with the owner's
-- ids is refused in the same words as for an id that does not exist, and the words name nothing of
-- the owner (their id, email, titles). PostgREST hands these messages to clients as they are.
begin;
select plan(27);

create temp table ids as
  select tests.create_user('owner@refusals.test') as owner, tests.create_user('intruder@refusals.test') as intruder,
    '00000000-0000-4000-8000-00000000e9b1'::uuid as book, '00000000-0000-4000-8000-00000000e9c1'::uuid as chapter,
    pg_catalog.gen_random_uuid() as missing;
grant select on ids to public;
insert into public.books (id, user_id, title, status)
select book, owner, 'The Owner''s Unpublished Memoir', 'ready' from ids;
insert into public.chapters (id, book_id, chapter_number, title, content, ai_content)
select chapter, book, 1, 'Chapter Only The Owner Knows', 'Private text.',
  '{"quiz": [{"question": "Q?", "options": ["a", "b"], "answer": 0}]}' from ids;
create temp table generation as select null::uuid as id;
grant all on generation to public;
select tests.authenticate_as((select owner from ids));
update generation set id = public.start_video_generation((select chapter from ids)) where true;
select tests.clear_authentication();
create temp table token as select private.issue_email_verification((select owner from ids)) as value;
grant select on token to public;

-- Each call's SQLSTATE and message, as the current role, with the id it is given (`%s`).
create function tests.refusal(statement text, id uuid)
returns text
language plpgsql
set search_path = ''
as $$
begin
  execute pg_catalog.format(statement, pg_catalog.quote_nullable(id));
  return 'no refusal';
exception when others then
  return sqlstate || ': ' || pg_catalog.replace(sqlerrm, coalesce(id::text, '<none>'), '<id>');
end;
$$;
grant execute on function tests.refusal(text, uuid) to authenticated;

create temp table calls (label text primary key, statement text, of_owner text);
grant select on calls to public;
insert into calls (label, statement, of_owner) values
  ('process_book', 'select public.process_book(%s)', 'book'),
  ('confirm_book_structure', 'select public.confirm_book_structure(%s, ''[]'')', 'book'),
  ('generate_plot_overview', 'select public.generate_plot_overview(%s)', 'book'),
  ('start_video_generation', 'select public.start_video_generation(%s)', 'chapter'),
  ('estimate_video_generation', 'select * from public.estimate_video_generation(%s)', 'chapter'),
  ('submit_quiz', 'select public.submit_quiz(%s, ''[0]'')', 'chapter'),
  ('retry_video_generation', 'select public.retry_video_generation(%s)', 'generation'),
  ('cancel_video_generation', 'select public.cancel_video_generation(%s)', 'generation'),
  ('grant_role', 'select public.grant_role(%s, ''superadmin'')', 'user'),
  ('revoke_role', 'select public.revoke_role(%s, ''superadmin'')', 'user'),
  ('request_badge_nft', 'select public.request_badge_nft(%s, ''polygon'', ''0x000000000000000000000000000000000000dEaD'')', 'badge'),
  ('chapter insert', 'insert into public.chapters (book_id, chapter_number, title, content) values (%s, 9, ''x'', ''y'')', 'book');

create temp table answers as select null::text as label, null::text as for_owner, null::text as for_missing limit 0;
grant all on answers to public;
select tests.authenticate_as((select intruder from ids));
insert into answers
select c.label,
  tests.refusal(c.statement, case c.of_owner when 'book' then i.book when 'chapter' then i.chapter
    when 'generation' then (select id from generation) when 'user' then i.owner
    when 'badge' then (select b.id from public.badges b order by b.name limit 1) end),
  tests.refusal(c.statement, i.missing)
from calls c cross join ids i;
-- The owner's email verification token, and one made up.
insert into answers
select 'verify_email', tests.refusal(pg_catalog.format('select public.verify_email(%L)', t.value) || ' -- %s', null),
  tests.refusal('select public.verify_email(''0123456789abcdef'') -- %s', null)
from token t;
select tests.clear_authentication();

select matches(a.for_owner, '^(P0002|42501): ', a.label || ' is refused to another user as not found or not allowed')
from answers a order by a.label;
select is(a.for_owner, a.for_missing, a.label || ': the owner''s is refused as one that does not exist')
from answers a order by a.label;
select is_empty($$select a.label, a.for_owner from answers a cross join ids i
                  where a.for_owner ~* (i.owner::text || '|owner@refusals|Memoir|Only The Owner')$$,
  'no refusal names the owner, their email or their titles');

select * from finish();
rollback;
