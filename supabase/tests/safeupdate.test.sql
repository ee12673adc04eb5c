-- safeupdate, as hosted Supabase loads it for the client roles: an UPDATE or DELETE without WHERE run
-- while acting as a client fails, inside functions and CTEs too; any WHERE passes. The rest of the
-- suite runs every client call under it. Skipped where this session has not loaded it (hosted loads it
-- for authenticator's sessions, not for postgres's).
begin;
select plan(9);

select ok((select setconfig from pg_db_role_setting
           where setrole = 'authenticator'::regrole and setdatabase = 0) @> array['session_preload_libraries=safeupdate'],
  'safeupdate is loaded for authenticator (PostgREST), as on hosted');

create temp table loaded as select current_setting('safeupdate.enabled', true) = 'on' as yes;
grant select on loaded to public;
create temp table ids as select tests.create_user('guarded@safeupdate.test') as owner;
grant select on ids to public;
insert into public.books (user_id, title, status) select owner, 'Guarded', 'ready' from ids;

-- A client RPC that empties a table without WHERE (as the guard sees it, a function's statement).
create function tests.safeupdate_wipe_books() returns void language plpgsql security definer set search_path = ''
as $$ begin delete from public.books; end $$;
grant execute on function tests.safeupdate_wipe_books() to authenticated;

create function pg_temp.guarded(statement text, role text) returns text language plpgsql as $$
begin
  if role = 'anon' then perform tests.authenticate_as_anon();
  else perform tests.authenticate_as((select owner from ids));
  end if;
  begin
    execute statement;
    perform tests.clear_authentication();
    return 'ran';
  exception when others then
    perform tests.clear_authentication();
    return sqlstate || ': ' || sqlerrm;
  end;
end;
$$;

create temp table where_true as
  select pg_temp.guarded('update public.books set title = ''Still guarded'' where true', 'authenticated') as outcome;

select case when not (select yes from loaded)
  then skip('safeupdate is not loaded in this session (hosted loads it for authenticator only)', 8)
  else concat_ws(E'\n',
    is(pg_temp.guarded('update public.books set title = ''x''', 'authenticated'),
      '21000: UPDATE requires a WHERE clause', 'authenticated: UPDATE without WHERE fails with safeupdate''s message'),
    is(pg_temp.guarded('delete from public.books', 'authenticated'),
      '21000: DELETE requires a WHERE clause', 'authenticated: DELETE without WHERE fails'),
    is(pg_temp.guarded('delete from public.books', 'anon'),
      '21000: DELETE requires a WHERE clause', 'anon: DELETE without WHERE fails'),
    is(pg_temp.guarded('with gone as (delete from public.books returning id) select count(*) from gone', 'authenticated'),
      '21000: DELETE requires a WHERE clause', 'a DELETE without WHERE in a CTE fails'),
    is(pg_temp.guarded('select tests.safeupdate_wipe_books()', 'authenticated'),
      '21000: DELETE requires a WHERE clause', 'a DELETE without WHERE inside a function a client calls fails'),
    is((select outcome from where_true), 'ran', 'any WHERE passes, where true too'),
    is((select title from public.books where user_id = (select owner from ids)), 'Still guarded',
      'and the update ran (RLS let the owner change their book)'),
    is(tests.try_rows('delete from loaded'), '1',
      'postgres, not acting as a client, is not guarded (as on hosted)'))
  end;

select * from finish();
rollback;
