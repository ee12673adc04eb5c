-- Account deletion: what deleting an account would remove (a preview), the request, the audit row
-- every deletion keeps (no personal data), and the anonymised record of a deleted account's paid
-- calls. The request stops the account's work in SQL; its files go through the Storage API and its
-- auth user through Auth's admin API (every row cascades from it), both done by the delete-account
-- worker (queue delete_account), so a hosted project and the local stack delete the same way.

create type public.account_deletion_requester as enum ('user', 'superadmin', 'operator');
create type public.account_deletion_reason as enum ('user_request', 'terms_violation', 'legal_request', 'inactivity',
  'other');
create type public.account_deletion_status as enum ('in_progress', 'completed');

create table public.account_deletions (
  id uuid primary key default gen_random_uuid(),
  -- The account's own user, a superadmin, or an operator (the service role, Auth's dashboard).
  requested_by public.account_deletion_requester not null,
  reason public.account_deletion_reason not null,
  status public.account_deletion_status not null default 'in_progress',
  -- What the account had when the deletion was asked for.
  books integer not null default 0,
  chapters integer not null default 0,
  generations integer not null default 0,
  generations_stopped integer not null default 0,
  queued_messages integer not null default 0,
  files integer not null default 0,
  file_bytes bigint not null default 0,
  nfts integer not null default 0,
  -- Its paid calls (kept one by one in private.deleted_account_usage), calls under way as its rows
  -- went (reserved, not yet logged), and calls that answered after that.
  usage_calls integer not null default 0,
  usage_cost_usd numeric(14, 6) not null default 0,
  in_flight_reserved_usd numeric(14, 6) not null default 0,
  late_calls integer not null default 0,
  late_cost_usd numeric(14, 6) not null default 0,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint account_deletions_counts_non_negative check (books >= 0 and chapters >= 0 and generations >= 0
    and generations_stopped >= 0 and queued_messages >= 0 and files >= 0 and file_bytes >= 0 and nfts >= 0
    and usage_calls >= 0 and late_calls >= 0),
  constraint account_deletions_costs_non_negative check (usage_cost_usd >= 0 and in_flight_reserved_usd >= 0
    and late_cost_usd >= 0),
  constraint account_deletions_completed_when check ((status = 'completed') = (completed_at is not null))
);
comment on table public.account_deletions is 'One row per deleted account: when, why, who asked, what went and what it cost; no personal data.';
create index account_deletions_created_at_idx on public.account_deletions (created_at desc);
create trigger account_deletions_set_updated_at before update on public.account_deletions
  for each row execute function private.set_updated_at();
alter table public.account_deletions enable row level security;
revoke insert, update, delete on public.account_deletions from anon, authenticated;
create policy "superadmins read account deletions" on public.account_deletions
  for select to authenticated using ((select private.is_superadmin()));

-- A deletion under way, with the account's id: kept while the account's files may still need
-- removing (until an hour after its auth user went), then deleted, so the id goes with it.
create table private.account_deletion_work (
  deletion_id uuid primary key references public.account_deletions (id) on delete cascade,
  user_id uuid not null,
  -- files: the account's files, then its auth user; sweep: its folders once more, after work that
  -- was in flight has stopped (at sweep_at).
  step text not null default 'files',
  sweep_at timestamptz,
  attempts integer not null default 0,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint account_deletion_work_user_key unique (user_id),
  constraint account_deletion_work_step_known check (step in ('files', 'sweep')),
  constraint account_deletion_work_sweep_has_time check (step = 'files' or sweep_at is not null),
  constraint account_deletion_work_attempts_non_negative check (attempts >= 0)
);
comment on table private.account_deletion_work is 'Deletions under way: the account id, the worker''s step and its last error.';
create trigger account_deletion_work_set_updated_at before update on private.account_deletion_work
  for each row execute function private.set_updated_at();
alter table private.account_deletion_work enable row level security;
revoke all on private.account_deletion_work from anon, authenticated;

-- The money records of deleted accounts: each paid call as usage_logs had it, without the account,
-- its generation or its error text. The idempotency key is kept hashed, so a call logged late is
-- still logged once.
create table private.deleted_account_usage (
  id bigint generated always as identity primary key,
  deletion_id uuid references public.account_deletions (id) on delete set null,
  key_hash text,
  resource_type public.resource_type not null,
  provider text not null,
  model_used text not null,
  operation text not null,
  input_tokens integer not null default 0,
  output_tokens integer not null default 0,
  units numeric(12, 3) not null default 0,
  duration_seconds double precision not null default 0,
  cost_usd numeric(12, 6) not null default 0,
  tier_at_time public.subscription_tier not null,
  success boolean not null,
  called_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint deleted_account_usage_key_hash_key unique (key_hash)
);
comment on table private.deleted_account_usage is 'Paid calls of deleted accounts, anonymised: what was called, when, and what it cost.';
create index deleted_account_usage_deletion_id_idx on private.deleted_account_usage (deletion_id);
-- The model rollup reads a day of them beside usage_logs.
create index deleted_account_usage_called_at_idx on private.deleted_account_usage (called_at);
create trigger deleted_account_usage_set_updated_at before update on private.deleted_account_usage
  for each row execute function private.set_updated_at();
alter table private.deleted_account_usage enable row level security;
revoke all on private.deleted_account_usage from anon, authenticated;

select pgmq.create('delete_account')
where not exists (select 1 from pgmq.list_queues() l where l.queue_name = 'delete_account');

-- What an account has ---------------------------------------------------------------------------

-- The account's files: everything under its folder in the buckets users and the pipeline write.
-- (The nfts bucket holds minted tokens' public metadata under content ids, referenced from chains
-- and shared between holders of a badge: it stays.)
create or replace function private.account_objects(p_user_id uuid)
returns table (bucket_id text, name text, size bigint)
language sql
stable
security definer
set search_path = ''
as $$
  select o.bucket_id, o.name, coalesce((o.metadata ->> 'size')::bigint, 0)
  from storage.objects o
  where o.bucket_id in ('books', 'covers', 'media') and o.name like p_user_id::text || '/%'
$$;

create or replace function private.account_footprint(p_user_id uuid)
returns table (books integer, chapters integer, generations integer, generations_running integer, files integer,
  file_bytes bigint, nfts integer, usage_calls integer, usage_cost_usd numeric)
language sql
stable
security definer
set search_path = ''
as $$
  select
    (select pg_catalog.count(*)::integer from public.books b where b.user_id = p_user_id),
    (select pg_catalog.count(*)::integer from public.chapters c join public.books b on b.id = c.book_id
     where b.user_id = p_user_id),
    (select pg_catalog.count(*)::integer from public.video_generations g where g.user_id = p_user_id),
    (select pg_catalog.count(*)::integer from public.video_generations g
     where g.user_id = p_user_id and private.generation_is_running(g.status)),
    o.files, o.bytes,
    (select pg_catalog.count(*)::integer from public.nfts n where n.user_id = p_user_id),
    u.calls, u.cost
  from (select pg_catalog.count(*)::integer as files, coalesce(pg_catalog.sum(x.size), 0)::bigint as bytes
        from private.account_objects(p_user_id) x) o,
       (select pg_catalog.count(*)::integer as calls, coalesce(pg_catalog.sum(l.cost_usd), 0) as cost
        from public.usage_logs l where l.user_id = p_user_id) u
$$;

-- Whose account a client RPC is about, and who asks: the caller's own; another's for a superadmin;
-- any for the service role, named. 42501 before anything is looked up, so no one learns who exists.
create or replace function private.account_deletion_subject(p_target uuid)
returns table (user_id uuid, requested_by public.account_deletion_requester)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
begin
  user_id := coalesce(p_target, caller);
  if coalesce((select auth.role()), '') = 'service_role' then
    if p_target is null then
      raise exception 'name the account: target_user' using errcode = '22023';
    end if;
    requested_by := 'operator';
  elsif caller is null then
    raise exception 'sign in first' using errcode = '42501';
  elsif user_id = caller then
    requested_by := 'user';
  elsif private.is_superadmin() then
    requested_by := 'superadmin';
  else
    raise exception 'only a superadmin can see or delete another user''s account' using errcode = '42501';
  end if;
  if not exists (select 1 from public.profiles p where p.id = user_id) then
    raise exception 'no user with id %', user_id using errcode = 'P0002';
  end if;
  return next;
end;
$$;

-- A Stripe subscription that will charge again: deleting the account would not stop it.
create or replace function private.subscription_renews(p_user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.user_subscriptions s
                 where s.user_id = p_user_id and s.stripe_subscription_id is not null
                   and s.status in ('active', 'trialing', 'past_due', 'unpaid') and not s.cancel_at_period_end)
$$;

-- Client RPC: what deleting an account would remove (your own; a superadmin: anyone's).
create or replace function public.account_deletion_preview(target_user uuid default null)
returns table (
  user_id uuid,
  books integer,
  chapters integer,
  generations integer,
  generations_running integer,
  files integer,
  file_bytes bigint,
  nfts integer,
  usage_calls integer,
  usage_cost_usd numeric,
  subscription_renews boolean,
  deletion_id uuid
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  subject record;
begin
  select * into subject from private.account_deletion_subject(target_user);
  return query
  select subject.user_id, f.books, f.chapters, f.generations, f.generations_running, f.files, f.file_bytes, f.nfts,
    f.usage_calls, f.usage_cost_usd, private.subscription_renews(subject.user_id),
    (select w.deletion_id from private.account_deletion_work w where w.user_id = subject.user_id)
  from private.account_footprint(subject.user_id) f;
end;
$$;
comment on function public.account_deletion_preview(uuid)
  is 'Client RPC: what deleting your account (a superadmin: anyone''s) would remove, and what would stop it.';

-- Stopping an account's work --------------------------------------------------------------------

-- Deletes the account's messages from every queue, waiting ones (private.drop_queue_messages) and
-- archived ones. The embed queue's library index message is left: it drops the account's search
-- index once its passages are gone.
create or replace function private.drop_account_messages(p_user_id uuid)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  books text[] := array(select b.id::text from public.books b where b.user_id = p_user_id);
  chapters text[] := array(select c.id::text from public.chapters c join public.books b on b.id = c.book_id
                           where b.user_id = p_user_id);
  generations text[] := array(select g.id::text from public.video_generations g where g.user_id = p_user_id);
  nfts text[] := array(select n.id::text from public.nfts n where n.user_id = p_user_id);
  target record;
  dropped integer := 0;
begin
  for target in
    select * from (values ('ingest', 'book_id', books), ('plot', 'book_id', books), ('embed', 'chapter_id', chapters),
      ('mint', 'nft_id', nfts)) t (queue, field, keys)
    union all
    select s.step::text, 'generation_id', generations from private.pipeline_stages s
  loop
    continue when pg_catalog.cardinality(target.keys) = 0;
    dropped := dropped + private.drop_queue_messages(target.queue, target.field, target.keys);
    execute pg_catalog.format('delete from pgmq.%I a where a.message ->> %L = any ($1)', 'a_' || target.queue, target.field)
      using target.keys;
  end loop;
  return dropped;
end;
$$;

-- Queues a round of the delete-account worker for a deletion, after `p_delay` seconds.
create or replace function private.queue_account_deletion(p_deletion_id uuid, p_delay integer default 0)
returns void
language sql
security definer
set search_path = ''
as $$
  select pgmq.send('delete_account', pg_catalog.jsonb_build_object('deletion_id', p_deletion_id), p_delay);
  select private.wake_queue_workers('delete_account');
$$;

-- Client RPC: delete an account (your own; a superadmin: anyone's, saying why). Its generations are
-- canceled and its queued work dropped at once, no paid call starts for it from now on, and the
-- delete-account worker removes its files and then its auth user, which takes every row with it.
-- Asking again returns the deletion under way.
create or replace function public.delete_account(
  target_user uuid default null,
  reason public.account_deletion_reason default null
)
returns public.account_deletions
language plpgsql
security definer
set search_path = ''
as $$
declare
  subject record;
  footprint record;
  deletion public.account_deletions;
  generation public.video_generations;
  stopped integer := 0;
  dropped integer;
begin
  select * into subject from private.account_deletion_subject(target_user);
  if subject.requested_by <> 'user' and delete_account.reason is null then
    raise exception 'say why this account is deleted: reason' using errcode = '22023';
  end if;
  -- One deletion per account: the profile's lock orders two requests, the second returns the first.
  perform 1 from public.profiles p where p.id = subject.user_id for update;
  select d.* into deletion from private.account_deletion_work w join public.account_deletions d on d.id = w.deletion_id
  where w.user_id = subject.user_id;
  if found then
    return deletion;
  end if;
  if private.subscription_renews(subject.user_id) then
    raise exception 'the account''s subscription renews with Stripe: cancel it first (the billing portal; it then ends with its period), then delete the account'
      using errcode = 'LT013';
  end if;
  select * into footprint from private.account_footprint(subject.user_id);
  dropped := private.drop_account_messages(subject.user_id);
  for generation in
    select * from public.video_generations g
    where g.user_id = subject.user_id and private.generation_is_running(g.status) for no key update
  loop
    perform private.cancel_generation(generation, false);
    stopped := stopped + 1;
  end loop;
  insert into public.account_deletions (requested_by, reason, books, chapters, generations, generations_stopped,
    queued_messages, files, file_bytes, nfts, usage_calls, usage_cost_usd)
  values (subject.requested_by, coalesce(delete_account.reason, 'user_request'), footprint.books, footprint.chapters,
    footprint.generations, stopped, dropped, footprint.files,
    footprint.file_bytes, footprint.nfts, footprint.usage_calls, footprint.usage_cost_usd)
  returning * into deletion;
  insert into private.account_deletion_work (deletion_id, user_id) values (deletion.id, subject.user_id);
  perform private.queue_account_deletion(deletion.id);
  return deletion;
end;
$$;
comment on function public.delete_account(uuid, public.account_deletion_reason)
  is 'Client RPC: delete your account (a superadmin: anyone''s, with a reason); returns the deletion''s audit row.';

revoke all on function public.account_deletion_preview(uuid), public.delete_account(uuid, public.account_deletion_reason)
  from public, anon;
grant execute on function public.account_deletion_preview(uuid), public.delete_account(uuid, public.account_deletion_reason)
  to authenticated, service_role;

-- When the rows go ------------------------------------------------------------------------------

create or replace function private.usage_key_hash(p_key text)
returns text
language sql
immutable
set search_path = ''
as $$ select pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(p_key, 'UTF8')), 'hex') $$;

-- Keeps one paid call of a deleted account as usage_logs had it, without the account, its
-- generation or its error text. False when it was kept already (its idempotency key seen).
create or replace function private.keep_call_anonymised(p_deletion_id uuid, p_call public.usage_logs)
returns boolean
language sql
security definer
set search_path = ''
as $$
  with kept as (
    insert into private.deleted_account_usage (deletion_id, key_hash, resource_type, provider, model_used, operation,
      input_tokens, output_tokens, units, duration_seconds, cost_usd, tier_at_time, success, called_at)
    values (p_deletion_id, private.usage_key_hash(p_call.idempotency_key), p_call.resource_type, p_call.provider,
      p_call.model_used, p_call.operation, p_call.input_tokens, p_call.output_tokens, p_call.units,
      p_call.duration_seconds, p_call.cost_usd, p_call.tier_at_time, p_call.success, p_call.created_at)
    on conflict (key_hash) do nothing
    returning 1
  )
  select exists (select 1 from kept)
$$;

-- The profile goes with its auth user (Auth's admin API, or the dashboard): the account's paid calls
-- are copied anonymised and summed into its audit row, with the calls still under way. A deletion
-- that did not come through delete_account is audited too (requested by an operator), and its
-- files are queued for removal.
create or replace function private.close_deleted_account()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  work private.account_deletion_work;
  footprint record;
  deletion uuid;
  calls integer;
  cost numeric;
begin
  select * into work from private.account_deletion_work w where w.user_id = old.id for update;
  if found then
    deletion := work.deletion_id;
    perform private.drop_account_messages(old.id); -- anything queued since the request
  else
    select * into footprint from private.account_footprint(old.id);
    insert into public.account_deletions (requested_by, reason, books, chapters, generations, generations_stopped,
      queued_messages, files, file_bytes, nfts)
    values ('operator', 'other', footprint.books, footprint.chapters, footprint.generations,
      footprint.generations_running, private.drop_account_messages(old.id), footprint.files, footprint.file_bytes,
      footprint.nfts)
    returning id into deletion;
    insert into private.account_deletion_work (deletion_id, user_id) values (deletion, old.id);
    perform private.queue_account_deletion(deletion);
  end if;
  with account_calls as materialized (select l as call from public.usage_logs l where l.user_id = old.id)
  select pg_catalog.count(*), coalesce(pg_catalog.sum((c.call).cost_usd), 0) into calls, cost
  from account_calls c where private.keep_call_anonymised(deletion, c.call);
  update public.account_deletions d
  set usage_calls = calls, usage_cost_usd = cost,
      in_flight_reserved_usd = (select coalesce(pg_catalog.sum(r.reserved_usd), 0) from private.cost_reservations r
                                where r.user_id = old.id and r.status in ('open', 'abandoned'))
  where d.id = deletion;
  -- A large library's own search index is dropped by the embed worker once its passages are gone.
  if private.library_index_relation(old.id) is not null then
    perform private.request_library_index_work(old.id);
  end if;
  -- Its Broadcast messages, which copy its rows (the cascade sends none: private.broadcast_progress).
  -- Hosted Realtime drops them with their day's partition anyway; where this role may not, it does.
  begin
    delete from realtime.messages m
    where m.topic = 'user:' || old.id::text
       or m.topic in (select 'generation:' || g.id::text from public.video_generations g where g.user_id = old.id);
  exception when insufficient_privilege then
    raise warning 'the broadcasts of a deleted account are left to Realtime''s daily clean-up: %', sqlerrm;
  end;
  return old;
end;
$$;
create trigger profiles_close_deleted_account before delete on public.profiles
  for each row execute function private.close_deleted_account();

-- A call logged for an account that is gone (its worker answered after the deletion): kept
-- anonymised, counted as late on the deletion's audit row, never an error for the worker.
create or replace function private.keep_calls_of_deleted_accounts()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  deletion uuid;
begin
  -- The lock the foreign key check takes anyway: a deletion under way is waited for, not raced.
  perform 1 from public.profiles p where p.id = new.user_id for key share;
  if found then
    return new;
  end if;
  select w.deletion_id into deletion from private.account_deletion_work w where w.user_id = new.user_id;
  if private.keep_call_anonymised(deletion, new) and deletion is not null then
    update public.account_deletions d
    set late_calls = d.late_calls + 1, late_cost_usd = d.late_cost_usd + new.cost_usd
    where d.id = deletion;
  end if;
  return null;
end;
$$;
create trigger usage_logs_keep_calls_of_deleted_accounts before insert on public.usage_logs
  for each row execute function private.keep_calls_of_deleted_accounts();

-- A pipeline unit that completes after its account went (complete_step): its folder is swept again
-- now instead of at the deletion's last sweep.
create or replace function private.sweep_account_files_now(p_user_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  deletion uuid;
begin
  select w.deletion_id into deletion from private.account_deletion_work w
  where w.user_id = p_user_id and w.step = 'sweep';
  if found then
    perform private.queue_account_deletion(deletion);
  end if;
end;
$$;

-- The delete-account worker's steps ---------------------------------------------------------------
-- A round: remove up to a batch of the account's files (account_deletion_objects) through Storage;
-- with more left, continue_account_deletion; else, on the files step, delete the auth user through
-- Auth's admin API, then finish_account_deletion_round.

-- What a round works on, or null when the deletion is done.
create or replace function private.begin_account_deletion_round(p_deletion_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object('user_id', w.user_id, 'step', w.step,
    'auth_user_exists', exists (select 1 from auth.users u where u.id = w.user_id))
  from private.account_deletion_work w where w.deletion_id = p_deletion_id
$$;

create or replace function private.account_deletion_objects(p_deletion_id uuid, p_limit integer)
returns table (bucket_id text, name text)
language sql
stable
security definer
set search_path = ''
as $$
  select o.bucket_id, o.name
  from private.account_deletion_work w, private.account_objects(w.user_id) o
  where w.deletion_id = p_deletion_id
  order by o.bucket_id, o.name
  limit p_limit
$$;

-- More to do: the round's message is replaced by a fresh one, visible at once (a new message, so a
-- large account's many rounds are not counted as attempts).
create or replace function private.continue_account_deletion(p_msg_id bigint, p_deletion_id uuid)
returns void
language sql
security definer
set search_path = ''
as $$
  select pgmq.delete('delete_account', p_msg_id);
  select private.queue_account_deletion(p_deletion_id);
$$;

-- The end of a round. Files stored meanwhile: another round. Files step done (the auth user gone):
-- the audit row is completed and the last sweep queued for an hour later, past any unit's time
-- limit. Sweep step at its time: the work row goes, and the account's id with it. Returns 'again',
-- 'completed', 'swept' or 'stale'.
create or replace function private.finish_account_deletion_round(p_msg_id bigint, p_deletion_id uuid)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  work private.account_deletion_work;
  sweep_after constant integer := 3600;
begin
  select * into work from private.account_deletion_work w where w.deletion_id = p_deletion_id for update;
  if not found then
    perform pgmq.delete('delete_account', p_msg_id);
    return 'stale';
  end if;
  if exists (select 1 from private.account_objects(work.user_id)) then
    perform private.continue_account_deletion(p_msg_id, p_deletion_id);
    return 'again';
  end if;
  perform pgmq.delete('delete_account', p_msg_id);
  if work.step = 'files' then
    if exists (select 1 from auth.users u where u.id = work.user_id) then
      raise exception 'account deletion %: its auth user is still there', p_deletion_id using errcode = '55000';
    end if;
    update public.account_deletions d set status = 'completed', completed_at = pg_catalog.clock_timestamp()
    where d.id = p_deletion_id;
    update private.account_deletion_work w
    set step = 'sweep', sweep_at = pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => sweep_after),
        attempts = 0, last_error = null
    where w.deletion_id = p_deletion_id;
    perform private.queue_account_deletion(p_deletion_id, sweep_after);
    return 'completed';
  end if;
  -- A sweep a late unit asked for leaves the last one, still due, in place.
  if work.sweep_at <= pg_catalog.clock_timestamp() then
    delete from private.account_deletion_work w where w.deletion_id = p_deletion_id;
  end if;
  return 'swept';
end;
$$;

-- A round failed (Storage or Auth refused, or answered with an error): tried again after the shared
-- backoff, as long as it takes; the work row says how often and why.
create or replace function private.account_deletion_failed(p_msg_id bigint, p_deletion_id uuid, p_error text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  attempt integer;
begin
  update private.account_deletion_work w
  set attempts = w.attempts + 1, last_error = pg_catalog.left(p_error, 2000)
  where w.deletion_id = p_deletion_id
  returning w.attempts into attempt;
  perform pgmq.delete('delete_account', p_msg_id);
  if attempt is not null then
    perform private.queue_account_deletion(p_deletion_id, private.backoff_seconds(attempt));
  end if;
end;
$$;

revoke all on function private.account_objects(uuid), private.account_footprint(uuid),
  private.account_deletion_subject(uuid), private.subscription_renews(uuid), private.drop_account_messages(uuid),
  private.queue_account_deletion(uuid, integer), private.close_deleted_account(),
  private.usage_key_hash(text), private.keep_call_anonymised(uuid, public.usage_logs),
  private.keep_calls_of_deleted_accounts(), private.sweep_account_files_now(uuid),
  private.begin_account_deletion_round(uuid), private.account_deletion_objects(uuid, integer),
  private.continue_account_deletion(bigint, uuid), private.finish_account_deletion_round(bigint, uuid),
  private.account_deletion_failed(bigint, uuid, text)
  from public, anon, authenticated;
grant execute on function private.begin_account_deletion_round(uuid), private.account_deletion_objects(uuid, integer),
  private.continue_account_deletion(bigint, uuid), private.finish_account_deletion_round(bigint, uuid),
  private.account_deletion_failed(bigint, uuid, text)
  to service_role;

-- pg_cron invokes the worker on hosted Supabase as it invokes the other Edge-placed queue workers.
insert into private.edge_function_schedules (function_name, interval_seconds) values ('delete-account', 2)
on conflict (function_name) do nothing;
select private.schedule_edge_functions();
