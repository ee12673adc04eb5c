-- Accounts: profiles, roles, email verification, and the setup of every new auth user.
create type public.app_role as enum ('user', 'creator', 'author', 'admin', 'superadmin');
create type public.user_mode as enum ('learning', 'creator', 'entertainment');

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  -- Synced from auth.users. Nullable: Supabase users who sign in by phone have no email.
  email text,
  display_name text,
  avatar_url text,
  bio text,
  -- Array of role strings, derived from user_roles by a trigger (clients cannot write it).
  roles jsonb not null default '["user"]',
  user_mode public.user_mode not null default 'learning',
  onboarding_complete boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint idx_profiles_email unique (email),
  constraint profiles_roles_is_array check (jsonb_typeof(roles) = 'array'),
  constraint profiles_display_name_length check (char_length(display_name) <= 100),
  constraint profiles_bio_length check (char_length(bio) <= 2000)
);
comment on table public.profiles is 'One row per auth user: public profile, mode and roles (roles derived from user_roles).';
create index idx_profiles_roles on public.profiles using gin (roles);

create table public.user_roles (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  role_name public.app_role not null,
  granted_at timestamptz not null default now(),
  granted_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint user_roles_user_role_key unique (user_id, role_name)
);
comment on table public.user_roles is 'Roles granted to users; the source of truth for profiles.roles.';
create index user_roles_granted_by_idx on public.user_roles (granted_by);

create table public.email_verifications (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  email text not null,
  -- The SHA-256 of the token sent to the user: the token itself is never stored.
  token text not null,
  expires_at timestamptz not null,
  verified boolean generated always as (verified_at is not null) stored,
  verified_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint email_verifications_token_key unique (token),
  constraint email_verifications_token_is_sha256 check (token ~ '^[0-9a-f]{64}$'),
  constraint email_verifications_expiry_after_creation check (expires_at > created_at)
);
comment on table public.email_verifications is 'Pending and used email verification tokens, stored as SHA-256 hashes only.';
create index email_verifications_user_id_idx on public.email_verifications (user_id);

create trigger profiles_set_updated_at before update on public.profiles
  for each row execute function private.set_updated_at();
create trigger user_roles_set_updated_at before update on public.user_roles
  for each row execute function private.set_updated_at();
create trigger email_verifications_set_updated_at before update on public.email_verifications
  for each row execute function private.set_updated_at();

-- profiles.roles always equals the user's rows in user_roles, whatever an update says.
create or replace function private.derive_profile_roles()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  new.roles := coalesce(
    (select pg_catalog.jsonb_agg(r.role_name order by r.role_name) from public.user_roles r where r.user_id = new.id),
    '[]'
  );
  return new;
end;
$$;
revoke all on function private.derive_profile_roles() from public, anon, authenticated;
create trigger profiles_derive_roles before insert or update on public.profiles
  for each row execute function private.derive_profile_roles();

create or replace function private.sync_profile_roles()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.profiles p set roles = p.roles
  where p.id in (select x from (values (new.user_id), (old.user_id)) as ids (x) where x is not null);
  return null;
end;
$$;
revoke all on function private.sync_profile_roles() from public, anon, authenticated;
create trigger user_roles_sync_profile after insert or update or delete on public.user_roles
  for each row execute function private.sync_profile_roles();

-- Caller checks used by policies and RPCs.
create or replace function private.has_role(wanted public.app_role)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.user_roles r where r.user_id = (select auth.uid()) and r.role_name = wanted
  )
$$;
revoke all on function private.has_role(public.app_role) from public;
grant execute on function private.has_role(public.app_role) to anon, authenticated, service_role;

create or replace function private.is_superadmin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$ select private.has_role('superadmin') $$;
revoke all on function private.is_superadmin() from public;
grant execute on function private.is_superadmin() to anon, authenticated, service_role;

-- Whether the signed-in user's account is open: it has a profile and no deletion under way
-- (private.account_deletion_work, account deletion migration). A deleted account's access token
-- stays valid until it expires; what it may still write checks this.
create or replace function private.account_is_open()
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (select 1 from public.profiles p where p.id = (select auth.uid()))
    and not exists (select 1 from private.account_deletion_work w where w.user_id = (select auth.uid()));
end;
$$;
revoke all on function private.account_is_open() from public, anon;
grant execute on function private.account_is_open() to authenticated, service_role;

-- Role management: superadmins only (or the service role).
create or replace function public.grant_role(target_user uuid, granted public.app_role)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if coalesce((select auth.role()), '') <> 'service_role' and not private.is_superadmin() then
    raise exception 'only a superadmin can grant roles' using errcode = '42501';
  end if;
  if not exists (select 1 from public.profiles p where p.id = target_user) then
    raise exception 'no user with id %', target_user using errcode = 'P0002';
  end if;
  insert into public.user_roles (user_id, role_name, granted_by)
  values (target_user, granted, (select auth.uid()))
  on conflict (user_id, role_name) do nothing;
end;
$$;
comment on function public.grant_role(uuid, public.app_role) is 'Superadmin RPC: give a user a role.';

create or replace function public.revoke_role(target_user uuid, revoked public.app_role)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if coalesce((select auth.role()), '') <> 'service_role' and not private.is_superadmin() then
    raise exception 'only a superadmin can revoke roles' using errcode = '42501';
  end if;
  if revoked = 'user' then
    raise exception 'the base role "user" cannot be revoked' using errcode = '22023';
  end if;
  delete from public.user_roles r where r.user_id = target_user and r.role_name = revoked;
end;
$$;
comment on function public.revoke_role(uuid, public.app_role) is 'Superadmin RPC: take a role away from a user.';
revoke all on function public.grant_role(uuid, public.app_role), public.revoke_role(uuid, public.app_role)
  from public, anon;
grant execute on function public.grant_role(uuid, public.app_role), public.revoke_role(uuid, public.app_role)
  to authenticated, service_role;

-- Email verification: the backend issues a token (returned once), the user redeems it.
create or replace function private.issue_email_verification(target_user uuid, valid_for interval default '24 hours')
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  token text := pg_catalog.encode(extensions.gen_random_bytes(32), 'hex');
begin
  insert into public.email_verifications (user_id, email, token, expires_at)
  select p.id, p.email, pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8')), 'hex'),
    pg_catalog.now() + valid_for
  from public.profiles p where p.id = target_user;
  if not found then
    raise exception 'no user with id %', target_user using errcode = 'P0002';
  end if;
  return token;
end;
$$;
revoke all on function private.issue_email_verification(uuid, interval) from public, anon, authenticated;
grant execute on function private.issue_email_verification(uuid, interval) to service_role;

create or replace function public.verify_email(token text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  verification public.email_verifications;
begin
  select * into verification from public.email_verifications v
  where v.token = pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(verify_email.token, 'UTF8')), 'hex')
    and v.user_id = (select auth.uid())
  for update;
  if not found then
    raise exception 'verification token is not valid for this user' using errcode = 'P0002';
  end if;
  if verification.verified then
    return true;
  end if;
  if verification.expires_at < pg_catalog.now() then
    raise exception 'verification token has expired' using errcode = 'P0001';
  end if;
  update public.email_verifications set verified_at = pg_catalog.now() where id = verification.id;
  return true;
end;
$$;
comment on function public.verify_email(text) is 'RPC: redeem an email verification token for the signed-in user.';
revoke all on function public.verify_email(text) from public, anon;
grant execute on function public.verify_email(text) to authenticated;

-- Every new auth user gets a profile, the base role, a free subscription and a progress record
-- (the subscription and progress tables are defined with billing and rewards).
create or replace function private.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  free_limit integer := (select t.video_count_limit from public.subscription_tiers() t where t.tier = 'free');
begin
  insert into public.profiles (id, email, display_name)
  values (
    new.id,
    new.email,
    coalesce(nullif(new.raw_user_meta_data ->> 'full_name', ''), nullif(new.raw_user_meta_data ->> 'name', ''),
      pg_catalog.split_part(new.email, '@', 1))
  );
  insert into public.user_roles (user_id, role_name) values (new.id, 'user');
  insert into public.user_subscriptions (user_id, tier, status, video_count_limit)
  values (new.id, 'free', 'active', free_limit);
  insert into public.user_progress (user_id) values (new.id);
  return new;
end;
$$;
revoke all on function private.handle_new_user() from public, anon, authenticated;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_user();

-- Keep profiles.email in step with the auth email. A verification belongs to the address it was
-- sent to (email_verifications.email), so a new address is unverified until its own token is redeemed.
create or replace function private.handle_user_email_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.profiles set email = new.email where id = new.id;
  return new;
end;
$$;
revoke all on function private.handle_user_email_change() from public, anon, authenticated;
create trigger on_auth_user_email_changed after update of email on auth.users
  for each row when (old.email is distinct from new.email)
  execute function private.handle_user_email_change();

-- Row level security
alter table public.profiles enable row level security;
alter table public.user_roles enable row level security;
alter table public.email_verifications enable row level security;

-- Clients may change only these profile columns; roles and verification are the backend's.
revoke insert, update, delete on public.profiles from anon, authenticated;
grant update (display_name, avatar_url, bio, user_mode, onboarding_complete) on public.profiles to authenticated;
revoke insert, update, delete on public.user_roles, public.email_verifications from anon, authenticated;
revoke select on public.email_verifications from anon, authenticated;
grant select (id, user_id, email, expires_at, verified, verified_at, created_at, updated_at)
  on public.email_verifications to authenticated;

create policy "users read their own profile; superadmins read all" on public.profiles
  for select to authenticated
  using (id = (select auth.uid()) or (select private.is_superadmin()));
create policy "users update their own profile" on public.profiles
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

create policy "users read their own roles; superadmins read all" on public.user_roles
  for select to authenticated
  using (user_id = (select auth.uid()) or (select private.is_superadmin()));

create policy "users read the state of their own verifications" on public.email_verifications
  for select to authenticated
  using (user_id = (select auth.uid()));

-- Rate limits --------------------------------------------------------------------------------------
-- What one user may start per window, whatever client they use: each limited action takes a call
-- from its window's counter (fixed windows) in the transaction that does the work.
create table private.rate_limits (
  action text primary key,
  max_calls integer not null check (max_calls > 0),
  per_seconds integer not null check (per_seconds > 0)
);
comment on table private.rate_limits is 'Per-user limits of the expensive actions: at most max_calls per per_seconds.';
alter table private.rate_limits enable row level security;
insert into private.rate_limits (action, max_calls, per_seconds) values
  ('process_book', 20, 3600),
  ('plot', 20, 3600),
  ('script', 30, 3600),
  ('retry_video', 10, 3600),
  ('search', 60, 60),
  ('quiz', 60, 3600);

create table private.rate_limit_windows (
  user_id uuid not null references auth.users (id) on delete cascade,
  action text not null references private.rate_limits (action) on delete cascade,
  window_start timestamptz not null,
  calls integer not null default 0,
  primary key (user_id, action, window_start)
);
comment on table private.rate_limit_windows is 'Calls per user, action and window; old windows are purged daily.';
create index rate_limit_windows_action_idx on private.rate_limit_windows (action);
create index rate_limit_windows_window_start_idx on private.rate_limit_windows (window_start);
alter table private.rate_limit_windows enable row level security;

-- Takes one call of p_action for the signed-in user, or refuses with LT008 saying when to try again.
create or replace function private.take_rate_limit(p_action text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  rule private.rate_limits;
  current_window timestamptz;
  used integer;
begin
  if caller is null then
    raise exception 'sign in first' using errcode = '42501';
  end if;
  select * into strict rule from private.rate_limits r where r.action = p_action;
  current_window := pg_catalog.to_timestamp(
    pg_catalog.floor(extract(epoch from pg_catalog.now()) / rule.per_seconds) * rule.per_seconds);
  insert into private.rate_limit_windows as w (user_id, action, window_start, calls)
  values (caller, p_action, current_window, 1)
  on conflict on constraint rate_limit_windows_pkey do update set calls = w.calls + 1
  returning w.calls into used;
  if used > rule.max_calls then
    raise exception 'too many % requests: at most % per % s; try again in % s', p_action, rule.max_calls,
      rule.per_seconds, pg_catalog.ceil(extract(epoch from current_window
        + pg_catalog.make_interval(secs => rule.per_seconds) - pg_catalog.now()))::integer
      using errcode = 'LT008';
  end if;
end;
$$;

create or replace function private.purge_rate_limit_windows()
returns integer
language sql
security definer
set search_path = ''
as $$
  with gone as (
    delete from private.rate_limit_windows w
    using private.rate_limits r
    where r.action = w.action and w.window_start < pg_catalog.now() - pg_catalog.make_interval(secs => r.per_seconds)
    returning 1
  )
  select pg_catalog.count(*)::integer from gone
$$;

revoke all on private.rate_limits, private.rate_limit_windows from anon, authenticated;
revoke all on function private.take_rate_limit(text), private.purge_rate_limit_windows() from public, anon;
grant execute on function private.take_rate_limit(text) to authenticated, service_role;
grant execute on function private.purge_rate_limit_windows() to service_role;
