-- What hosted Supabase (or `supabase start`) provides before any migration runs,
-- recreated for a plain PostgreSQL. Applied only by the local stack; idempotent.

-- Run as the cluster's superuser, supabase_admin, as hosted Supabase's own setup is. Everything after
-- it (migrations, seed, tests, the local API) connects as postgres, which is not a superuser.

-- Roles PostgREST switches to for each request, and the owners of the auth and storage schemas.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'postgres') then
    create role postgres login;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin login noinherit createrole;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_storage_admin') then
    create role supabase_storage_admin login noinherit createrole;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_realtime_admin') then
    create role supabase_realtime_admin nologin noinherit;
  end if;
end
$$;
-- postgres as hosted has it: no superuser; the API roles, the auth and storage owners, monitoring.
alter role postgres login nosuperuser createrole createdb replication bypassrls;
grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;
grant supabase_auth_admin, supabase_storage_admin to postgres;
grant pg_monitor, pg_read_all_data, pg_signal_backend to postgres;
-- Hosted lets postgres write policies on realtime.messages (supautils policy_grants); here, membership.
grant supabase_realtime_admin to postgres;
do $$ begin execute format('grant all on database %I to postgres', current_database()); end $$;
grant all on schema public to postgres;
-- Settings hosted lets postgres change (supautils' privileged_role_allowed_configs), the ones we use.
grant set on parameter session_replication_role, track_io_timing, log_lock_waits, log_min_messages to postgres;

-- safeupdate, as hosted loads it for the client roles: an UPDATE or DELETE without WHERE fails while a
-- session acts as anon, authenticated, service_role or authenticator (scripts/safeupdate). Loaded for
-- postgres too, whose sessions act as those roles in the tests and the local API (SET ROLE).
do $$
begin
  if pg_catalog.pg_stat_file((select setting from pg_catalog.pg_config where name = 'PKGLIBDIR') || '/safeupdate.so', true)
      is null then
    raise exception 'the safeupdate library is not installed: run npm run stack -- install';
  end if;
end
$$;
alter role authenticator set session_preload_libraries = 'safeupdate';
alter role anon set session_preload_libraries = 'safeupdate';
alter role authenticated set session_preload_libraries = 'safeupdate';
alter role postgres set session_preload_libraries = 'safeupdate';

create schema if not exists extensions;
create schema if not exists auth authorization supabase_auth_admin;
create schema if not exists storage authorization supabase_storage_admin;
grant usage on schema extensions, auth, storage to anon, authenticated, service_role;
grant all on schema extensions, auth, storage to postgres;

-- The extensions the migrations and tests create, created here by the superuser as supautils does on
-- hosted when postgres asks for a "privileged extension": the migrations' own `create extension if
-- not exists` then finds them. Same schemas as the migrations use.
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists vector with schema extensions;
-- pg_cron only in the database it serves (a scratch database, as the pgflow benchmark makes, has none).
do $$
begin
  if pg_catalog.current_database() = pg_catalog.current_setting('cron.database_name', true) then
    create extension if not exists pg_cron with schema pg_catalog;
  end if;
end
$$;
create extension if not exists pg_stat_statements with schema extensions;
create extension if not exists pgtap with schema extensions;
create extension if not exists dblink with schema extensions;
-- pgmq: hosted's after-create script hands the extension and its objects to postgres, which creates
-- the queues (tables added to the extension).
create schema if not exists pgmq authorization postgres;
create extension if not exists pgmq with schema pgmq;
do $$
declare
  member record;
begin
  update pg_catalog.pg_extension set extowner = 'postgres'::regrole where extname = 'pgmq';
  for member in
    select d.classid, d.objid from pg_catalog.pg_depend d
    where d.refclassid = 'pg_catalog.pg_extension'::regclass
      and d.refobjid = (select oid from pg_catalog.pg_extension where extname = 'pgmq') and d.deptype = 'e'
  loop
    if member.classid = 'pg_catalog.pg_proc'::regclass then
      execute format('alter routine %s owner to postgres', member.objid::regprocedure);
    elsif member.classid = 'pg_catalog.pg_class'::regclass
        and (select relkind from pg_catalog.pg_class where oid = member.objid) in ('r', 'p') then
      execute format('alter table %s owner to postgres', member.objid::regclass);
    elsif member.classid = 'pg_catalog.pg_type'::regclass
        and (select typtype from pg_catalog.pg_type where oid = member.objid) = 'c'
        and (select typrelid from pg_catalog.pg_type where oid = member.objid) in
          (select oid from pg_catalog.pg_class where relkind = 'c') then
      execute format('alter type %s owner to postgres', member.objid::regtype);
    end if;
  end loop;
end
$$;
-- What hosted grants postgres on extension objects (extensions schema, pg_cron); dblink_connect_u stays the superuser's.
grant all on all tables in schema extensions to postgres with grant option;
grant all on all routines in schema extensions to postgres with grant option;
grant all on all sequences in schema extensions to postgres with grant option;
alter default privileges in schema extensions grant all on tables to postgres with grant option;
alter default privileges in schema extensions grant all on routines to postgres with grant option;
alter default privileges in schema extensions grant all on sequences to postgres with grant option;
revoke all on function extensions.dblink_connect_u(text), extensions.dblink_connect_u(text, text) from postgres;
do $$
begin
  if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    grant usage on schema cron to postgres with grant option;
    grant all on all functions in schema cron to postgres with grant option;
    grant all privileges on all tables in schema cron to postgres with grant option;
    revoke all on table cron.job from postgres;
    grant select on table cron.job to postgres with grant option;
  end if;
end
$$;

-- Supabase's search path: extension types and operators resolve without a schema.
do $$ begin execute format('alter database %I set search_path = "$user", public, extensions', current_database()); end $$;
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- auth, owned by GoTrue's role as on hosted: the columns of GoTrue's users table that application code
-- reads, and GoTrue's only email key, partial (an SSO account may share an email with another account).
set role supabase_auth_admin;
create table if not exists auth.users (
  instance_id uuid,
  id uuid primary key default gen_random_uuid(),
  aud varchar(255) default 'authenticated',
  role varchar(255) default 'authenticated',
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  phone text,
  phone_confirmed_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb default '{}'::jsonb,
  raw_user_meta_data jsonb default '{}'::jsonb,
  is_super_admin boolean,
  is_sso_user boolean not null default false,
  is_anonymous boolean not null default false,
  banned_until timestamptz,
  deleted_at timestamptz,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);
create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false);
-- Auth's token columns, which seeds that insert users write as empty strings.
alter table auth.users
  add column if not exists confirmation_token varchar(255),
  add column if not exists recovery_token varchar(255),
  add column if not exists email_change_token_new varchar(255),
  add column if not exists email_change varchar(255);

-- auth: sessions and their rotating refresh tokens (the local Auth service), GoTrue's names and types.
create table if not exists auth.sessions (
  id uuid primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz,
  updated_at timestamptz,
  not_after timestamptz,
  refreshed_at timestamp without time zone,
  user_agent text,
  ip inet,
  tag text
);
create index if not exists sessions_user_id_idx on auth.sessions (user_id);

create table if not exists auth.refresh_tokens (
  instance_id uuid,
  id bigserial primary key,
  token varchar(255) constraint refresh_tokens_token_unique unique,
  user_id varchar(255),
  revoked boolean,
  created_at timestamptz,
  updated_at timestamptz,
  parent varchar(255),
  session_id uuid references auth.sessions (id) on delete cascade
);
create index if not exists refresh_tokens_parent_idx on auth.refresh_tokens (parent);
create index if not exists refresh_tokens_session_id_revoked_idx on auth.refresh_tokens (session_id, revoked);

-- JWT helpers, reading the claims PostgREST sets for each request.
create or replace function auth.jwt()
returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

create or replace function auth.uid()
returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role()
returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.email()
returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;
grant execute on function auth.jwt(), auth.uid(), auth.role(), auth.email() to anon, authenticated, service_role;

reset role;

-- storage: buckets and objects as Supabase Storage keeps them, owned by Storage's role as on hosted.
set role supabase_storage_admin;
create table if not exists storage.buckets (
  id text primary key,
  name text not null unique,
  owner uuid,
  public boolean not null default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

create table if not exists storage.objects (
  id uuid primary key default gen_random_uuid(),
  bucket_id text references storage.buckets (id),
  name text,
  owner uuid,
  owner_id text,
  metadata jsonb,
  user_metadata jsonb,
  version text,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  constraint objects_bucket_id_name_key unique (bucket_id, name)
);
alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;

create or replace function storage.foldername(name text)
returns text[]
language plpgsql immutable
as $$
declare
  parts text[] := string_to_array(name, '/');
begin
  return parts[1:array_length(parts, 1) - 1];
end;
$$;

create or replace function storage.filename(name text)
returns text
language plpgsql immutable
as $$
declare
  parts text[] := string_to_array(name, '/');
begin
  return parts[array_length(parts, 1)];
end;
$$;

create or replace function storage.extension(name text)
returns text
language sql immutable
as $$ select reverse(split_part(reverse(storage.filename(name)), '.', 1)) $$;

grant all on storage.buckets, storage.objects to anon, authenticated, service_role;
grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text)
  to anon, authenticated, service_role;

reset role;

-- Realtime: tables added to this publication stream postgres_changes. Hosted's postgres owns it (the
-- migrations add tables).
do $$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;
alter publication supabase_realtime owner to postgres;

-- Realtime Broadcast from the database, as Supabase provides it: realtime.messages (what
-- broadcast_changes and send write, and what private channels are authorized against with RLS),
-- realtime.topic() (the channel a client joins), realtime.send and realtime.broadcast_changes.
create schema if not exists realtime authorization supabase_realtime_admin;
set role supabase_realtime_admin;
create table if not exists realtime.messages (
  id uuid not null default gen_random_uuid(),
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp without time zone not null default now(),
  inserted_at timestamp without time zone not null default now(),
  primary key (id, inserted_at)
);
alter table realtime.messages enable row level security;

create or replace function realtime.topic()
returns text
language sql stable
as $$ select nullif(current_setting('realtime.topic', true), '')::text $$;

create or replace function realtime.send(payload jsonb, event text, topic text, private boolean default true)
returns void
language plpgsql
as $$
begin
  insert into realtime.messages (payload, event, topic, private, extension)
  values (payload, event, topic, private, 'broadcast');
exception when others then
  raise warning 'could not send the broadcast message: %', sqlerrm;
end;
$$;

create or replace function realtime.broadcast_changes(topic_name text, event_name text, operation text,
  table_name text, table_schema text, new record, old record, level text default 'ROW')
returns void
language plpgsql
as $$
begin
  if level = 'STATEMENT' then
    raise exception 'function can only be triggered for each row, not for each statement';
  end if;
  if operation not in ('INSERT', 'UPDATE', 'DELETE') then
    raise exception 'unexpected operation %', operation;
  end if;
  perform realtime.send(jsonb_build_object('old_record', old, 'record', new, 'operation', operation,
    'table', table_name, 'schema', table_schema), event_name, topic_name, true);
end;
$$;

reset role;

-- Realtime reads broadcasts from the database through its own publication of realtime.messages.
do $$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime_messages_publication') then
    create publication supabase_realtime_messages_publication for table realtime.messages;
  end if;
end
$$;

grant usage on schema realtime to anon, authenticated, service_role;
grant select, insert on realtime.messages to anon, authenticated, service_role;
grant execute on function realtime.topic() to anon, authenticated, service_role;

-- Supabase's default privileges on public: RLS, not grants, decides access. Only defaults, for
-- objects created later: applied again (npm start, stack up), this must never give back what the
-- migrations revoked on the objects they own.
grant usage on schema public to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to anon, authenticated, service_role;
