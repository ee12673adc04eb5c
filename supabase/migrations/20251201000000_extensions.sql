-- Extensions, the private schema and the one updated_at trigger every table uses.
-- On hosted Supabase every extension is available; the local stack installs them (pgmq may be
-- the project's compatible build).
create extension if not exists vector with schema extensions;
create extension if not exists pg_cron with schema pg_catalog;
create extension if not exists pgmq;
-- The application uses only what pgmq 1.4.4 has (older hosted projects run it); it refuses anything older.
do $$
declare
  version text := (select extversion from pg_catalog.pg_extension where extname = 'pgmq');
begin
  if (pg_catalog.regexp_match(version, '^(\d+)\.(\d+)\.(\d+)'))::integer[] < array[1, 4, 4] then
    raise exception 'pgmq % is too old: this application needs pgmq 1.4.4 or newer', version
      using hint = 'Update it first: alter extension pgmq update.';
  end if;
end
$$;

-- pg_net lets pg_cron invoke Edge Functions on hosted Supabase; optional elsewhere.
do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pg_net') then
    create extension if not exists pg_net with schema extensions;
  end if;
end
$$;

-- Helpers for policies and workers live in `private`: PostgREST does not expose it, so
-- clients cannot call them as RPCs. Policies run as the caller, hence usage for the API
-- roles; each function revokes execute from public and grants it only where needed.
create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to anon, authenticated, service_role;

-- Row level security does not apply to TRUNCATE, and clients have no use for TRIGGER or REFERENCES
-- on our tables: the API roles never get them, whatever the platform's default grants say.
alter default privileges in schema public revoke truncate, trigger, references on tables from anon, authenticated;

create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;
comment on function private.set_updated_at() is 'Trigger: keeps updated_at current on every update.';
revoke all on function private.set_updated_at() from public, anon, authenticated;

-- The one retry schedule of every queue: base, 2 x base, 4 x base, ... at most the ceiling (seconds).
create or replace function private.backoff_seconds(attempt integer, base integer default 3, ceiling integer default 300)
returns integer
language sql
immutable
set search_path = ''
as $$ select least(ceiling, base * pg_catalog.power(2, greatest(attempt, 1) - 1)::integer) $$;
revoke all on function private.backoff_seconds(integer, integer, integer) from public, anon, authenticated;
grant execute on function private.backoff_seconds(integer, integer, integer) to service_role;

-- Wakes the workers of a queue after a send (delivered when the transaction commits): a worker
-- that LISTENs reads at once instead of at its next poll.
create or replace function private.wake_queue_workers(queue_name text)
returns void
language sql
set search_path = ''
as $$ select pg_catalog.pg_notify('queue_' || queue_name, '') $$;
revoke all on function private.wake_queue_workers(text) from public, anon, authenticated;
grant execute on function private.wake_queue_workers(text) to service_role;

-- Deletes a queue's waiting messages whose `p_field` is one of `p_keys`; returns how many. A message
-- a worker is claiming right now (its row locked) is skipped: that worker finds its work gone and
-- drops the message itself, and waiting on it could deadlock with the worker's begin.
create or replace function private.drop_queue_messages(p_queue text, p_field text, p_keys text[])
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  ids bigint[];
begin
  execute pg_catalog.format('select array_agg(m.msg_id) from (select q.msg_id from pgmq.%I q
      where q.message ->> %L = any ($1) for update skip locked) m', 'q_' || p_queue, p_field)
    into ids using p_keys;
  if ids is null then
    return 0;
  end if;
  perform pgmq.delete(p_queue, ids);
  return pg_catalog.cardinality(ids);
end;
$$;
revoke all on function private.drop_queue_messages(text, text, text[]) from public, anon, authenticated;

-- A Storage object name a client may give: relative, no `.` or `..` segments (also percent-encoded),
-- no empty segments, backslashes or control characters. Storage would resolve such a name to
-- another folder (another user's) on the way to its files.
create or replace function private.is_safe_object_name(name text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select name is not null and name <> '' and pg_catalog.left(name, 1) <> '/'
    and pg_catalog.strpos(name, E'\\') = 0 and name !~ '(^|/)\.\.?(/|$)' and pg_catalog.strpos(name, '//') = 0
    and name !~* '%(2e|2f|5c)' and name !~ '[[:cntrl:]]'
$$;
revoke all on function private.is_safe_object_name(text) from public;
revoke all on function private.is_safe_object_name(text) from anon;
grant execute on function private.is_safe_object_name(text) to authenticated, service_role;
