-- Runs first: pgTAP and the helpers every test file uses. Committed, idempotent.
create extension if not exists pgtap with schema extensions;
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- A user as GoTrue would create one; the auth trigger adds profile, subscription, progress.
create or replace function tests.create_user(email text, metadata jsonb default '{}')
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  new_id uuid;
begin
  insert into auth.users (id, email, raw_user_meta_data, email_confirmed_at)
  values (pg_catalog.gen_random_uuid(), email, metadata, pg_catalog.now())
  returning id into new_id;
  return new_id;
end;
$$;

-- Act as PostgREST does for a signed-in user: role authenticated plus JWT claims.
create or replace function tests.authenticate_as(user_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform pg_catalog.set_config('role', 'none', true);
  perform pg_catalog.set_config('request.jwt.claims',
    pg_catalog.json_build_object('sub', user_id, 'role', 'authenticated',
      'email', (select email from auth.users where id = user_id))::text, true);
  perform pg_catalog.set_config('role', 'authenticated', true);
end;
$$;

create or replace function tests.authenticate_as_anon()
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform pg_catalog.set_config('request.jwt.claims', '{"role": "anon"}', true);
  perform pg_catalog.set_config('role', 'anon', true);
end;
$$;

create or replace function tests.authenticate_as_service_role()
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform pg_catalog.set_config('request.jwt.claims', '{"role": "service_role"}', true);
  perform pg_catalog.set_config('role', 'service_role', true);
end;
$$;

-- Back to the session's own role (the superuser running the tests).
create or replace function tests.clear_authentication()
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform pg_catalog.set_config('role', 'none', true);
  perform pg_catalog.set_config('request.jwt.claims', '', true);
end;
$$;

-- Runs a statement as the current role and always rolls it back. Returns the number of rows it
-- touched, 'denied' when privileges or RLS refuse it, or the SQLSTATE of any other error.
create or replace function tests.try_rows(statement text)
returns text
language plpgsql
set search_path = ''
as $$
declare
  touched bigint;
begin
  begin
    execute statement;
    get diagnostics touched = row_count;
    raise exception using errcode = 'TSRB0', message = touched::text;
  exception
    when sqlstate 'TSRB0' then return sqlerrm;
    when insufficient_privilege then return 'denied';
    when others then return sqlstate || ': ' || sqlerrm;
  end;
end;
$$;

-- A connection string for dblink to this database, or null. dblink lets a non-superuser (hosted's
-- postgres) connect only with a password it sends: npm test passes the database URL to pg_prove
-- (--set dblink_conninfo=...), and a test file hands it over with tests.use_dblink_conninfo. A
-- superuser without it connects through the socket.
create or replace function tests.dblink_conninfo()
returns text
language sql
stable
set search_path = ''
as $$
  select coalesce(nullif(pg_catalog.current_setting('tests.dblink_conninfo', true), ''),
    case when (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
      pg_catalog.format('host=%s port=%s dbname=%s user=%s',
        pg_catalog.split_part(pg_catalog.current_setting('unix_socket_directories'), ',', 1),
        pg_catalog.current_setting('port'), pg_catalog.current_database(), current_user)
    end)
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;

begin;
select plan(5);
select has_function('tests', 'create_user', array['text', 'jsonb'], 'tests.create_user exists');
select has_function('tests', 'authenticate_as', array['uuid'], 'tests.authenticate_as exists');
select has_function('tests', 'clear_authentication', 'tests.clear_authentication exists');
select is(tests.try_rows('select 1 union all select 2'), '2', 'try_rows counts the rows a statement touched');
select is(tests.try_rows('select 1/0'), '22012: division by zero', 'try_rows reports other errors with their SQLSTATE');
select * from finish();
rollback;
