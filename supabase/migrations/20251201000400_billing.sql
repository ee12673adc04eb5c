-- Billing: tiers, each user's subscription and its history, Stripe events applied once and in order,
-- and the billing-period safety net.
create type public.subscription_tier as enum ('free', 'basic', 'standard', 'premium', 'professional', 'enterprise');
-- canceled: the paid subscription ended; the user is back on the free tier's allowance.
create type public.subscription_status as enum ('active', 'trialing', 'past_due', 'canceled', 'incomplete', 'unpaid');
create type public.change_reason as enum ('upgrade', 'downgrade', 'cancel', 'renewal', 'payment_failed', 'reactivation');
-- The model quality a video is made with; each tier includes qualities up to its own.
create type public.quality_tier as enum ('free', 'basic', 'standard', 'premium', 'professional');

-- The one definition of what each tier costs and allows. Enterprise limits are set per contract.
create or replace function public.subscription_tiers()
returns table (
  tier public.subscription_tier,
  monthly_price_usd numeric(10, 2),
  video_count_limit integer,
  max_resolution text,
  quality_tier public.quality_tier,
  stripe_lookup_key text
)
language sql
immutable
set search_path = ''
as $$
  values
    ('free'::public.subscription_tier, 0.00, 2, '480p', 'free'::public.quality_tier, null::text),
    ('basic', 9.99, 10, '720p', 'basic', 'litinkai_basic_monthly'),
    ('standard', 29.99, 30, '1080p', 'standard', 'litinkai_standard_monthly'),
    ('premium', 79.99, 100, '1080p', 'premium', 'litinkai_premium_monthly'),
    ('professional', 199.99, 500, '4k', 'professional', 'litinkai_professional_monthly'),
    ('enterprise', null, null, '4k', 'professional', null)
$$;
comment on function public.subscription_tiers() is 'Reference: price, monthly video limit, resolution and model quality per tier.';
grant execute on function public.subscription_tiers() to anon, authenticated, service_role;

-- Per quality: the frame size, what one generation may use (a script past any unit fails its
-- generation before any media is made; a paid call that would pass max_generation_usd is not made),
-- and what a billing period may spend. The models each quality uses are private.quality_models.
create table private.tier_ceilings (
  quality_tier public.quality_tier primary key,
  frame_width integer not null,
  frame_height integer not null,
  max_scenes integer not null,
  max_speech_characters integer not null,
  max_video_seconds integer not null,
  -- What one generation's calls may cost, reserved before each call (private.reserve_cost).
  max_generation_usd numeric(10, 2) not null,
  -- What a subscription whose tier includes this quality may spend on models in a billing period:
  -- past it, no paid call is made and no video starts or resumes until the next period.
  max_period_usd numeric(10, 2) not null,
  -- What one audiobook export may speak for the purpose (characters of speech at this quality's
  -- voice) and last in all (seconds, its videos' narration included): its file stays within the
  -- media bucket's size at the export's 64 kbit/s.
  max_export_characters integer not null,
  max_export_seconds integer not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tier_ceilings_positive check (frame_width > 0 and frame_height > 0 and max_scenes > 0
    and max_speech_characters > 0 and max_video_seconds > 0 and max_generation_usd > 0 and max_period_usd > 0
    and max_export_characters > 0 and max_export_seconds > 0),
  constraint tier_ceilings_generation_within_period check (max_generation_usd <= max_period_usd)
);
comment on table private.tier_ceilings is 'Per quality tier: frame size, what one generation may use and cost, what a period may spend.';
create trigger tier_ceilings_set_updated_at before update on private.tier_ceilings
  for each row execute function private.set_updated_at();
alter table private.tier_ceilings enable row level security;
-- (professional is sold as 4k: its frames are 1080p until the ladder has a 4K video model.)
insert into private.tier_ceilings (quality_tier, frame_width, frame_height, max_scenes, max_speech_characters,
  max_video_seconds, max_generation_usd, max_period_usd, max_export_characters, max_export_seconds)
values ('free', 854, 480, 8, 2000, 150, 0.25, 2, 100000, 9000), ('basic', 1280, 720, 16, 8000, 600, 2, 25, 150000, 13500),
  ('standard', 1920, 1080, 30, 24000, 1800, 15, 75, 240000, 21600),
  ('premium', 1920, 1080, 60, 54000, 3600, 75, 250, 600000, 54000),
  ('professional', 1920, 1080, 60, 108000, 7200, 150, 1000, 720000, 54000);

create table public.user_subscriptions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  tier public.subscription_tier not null default 'free',
  status public.subscription_status not null default 'active',
  stripe_subscription_id text,
  stripe_customer_id text,
  stripe_price_id text,
  current_period_start timestamptz not null default now(),
  current_period_end timestamptz not null default (now() + interval '1 month'),
  video_count_limit integer not null default 2,
  video_count_used integer not null default 0,
  cancel_at_period_end boolean not null default false,
  trial_end timestamptz,
  -- Stripe's `created` of the last event applied: an older event never overwrites a newer state.
  last_synced_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint idx_subscriptions_user unique (user_id),
  constraint idx_subscriptions_stripe unique (stripe_subscription_id),
  constraint user_subscriptions_stripe_customer_id_key unique (stripe_customer_id),
  constraint user_subscriptions_counts_non_negative check (video_count_used >= 0 and video_count_limit >= 0),
  constraint user_subscriptions_period_order check (current_period_end > current_period_start)
);
comment on table public.user_subscriptions is 'Each user''s one subscription: tier, Stripe state and this period''s video quota.';

create table public.subscription_history (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  subscription_id uuid not null references public.user_subscriptions (id) on delete cascade,
  from_tier public.subscription_tier,
  to_tier public.subscription_tier not null,
  previous_status public.subscription_status,
  new_status public.subscription_status not null,
  change_reason public.change_reason not null,
  effective_date timestamptz not null default now(),
  stripe_event_id text,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.subscription_history is 'Every change of a subscription''s tier or status, why, and when it took effect.';
create index subscription_history_user_id_created_at_idx on public.subscription_history (user_id, created_at desc);
create index subscription_history_subscription_id_idx on public.subscription_history (subscription_id);

create trigger user_subscriptions_set_updated_at before update on public.user_subscriptions
  for each row execute function private.set_updated_at();
create trigger subscription_history_set_updated_at before update on public.subscription_history
  for each row execute function private.set_updated_at();

alter table public.user_subscriptions enable row level security;
alter table public.subscription_history enable row level security;

-- Written only by the backend (service role, security definer functions).
revoke insert, update, delete on public.user_subscriptions, public.subscription_history from anon, authenticated;

create policy "owners read their subscription" on public.user_subscriptions
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their subscription history" on public.subscription_history
  for select to authenticated using (user_id = (select auth.uid()));

-- Stripe ---------------------------------------------------------------------------------------------
create table private.stripe_events (
  id text primary key,
  type text not null,
  stripe_created_at timestamptz not null,
  outcome text not null,
  detail text,
  received_at timestamptz not null default now(),
  constraint stripe_events_outcome_known check (outcome in ('applied', 'stale', 'ignored', 'unmatched'))
);
comment on table private.stripe_events is 'Every Stripe event received, once: the ledger that makes replays harmless.';
alter table private.stripe_events enable row level security;

-- Webhook: records the event; false when it was seen before (a replay, to be acknowledged only).
create or replace function private.record_stripe_event(p_id text, p_type text, p_created timestamptz, p_outcome text,
  p_detail text default null)
returns boolean
language sql
security definer
set search_path = ''
as $$
  with inserted as (
    insert into private.stripe_events (id, type, stripe_created_at, outcome, detail)
    values (p_id, p_type, p_created, p_outcome, p_detail)
    on conflict (id) do nothing
    returning 1
  )
  select exists (select 1 from inserted)
$$;

-- Checkout: remembers the customer created for a user (one per user, reused afterwards). From then on
-- that customer is the user's account at Stripe: events are matched to users by it.
create or replace function private.link_stripe_customer(p_user_id uuid, p_customer_id text)
returns void
language sql
security definer
set search_path = ''
as $$
  update public.user_subscriptions s
  set stripe_customer_id = coalesce(s.stripe_customer_id, p_customer_id)
  where s.user_id = p_user_id
$$;

-- The account an event's customer belongs to, locked. A customer no account has yet is taken only for
-- the user the subscription's metadata names (set by our checkout), and only while that user has no
-- customer. A customer of one account never stands for another: a user the event names (metadata, or
-- a Checkout session's client_reference_id, which a payment link takes from its URL) who is not the
-- customer's is refused.
create or replace function private.stripe_account(p_customer_id text, p_named_user_id uuid, p_new_customer_allowed boolean)
returns public.user_subscriptions
language plpgsql
security definer
set search_path = ''
as $$
declare
  account public.user_subscriptions;
begin
  select * into account from public.user_subscriptions s where s.stripe_customer_id = p_customer_id for update;
  if found and p_named_user_id is not null and account.user_id <> p_named_user_id then
    raise exception 'customer % belongs to another account than the user % the event names', p_customer_id,
      p_named_user_id using errcode = '22023';
  end if;
  if not found and p_new_customer_allowed then
    select * into account from public.user_subscriptions s where s.user_id = p_named_user_id for update;
    if account.stripe_customer_id is not null then
      raise exception 'customer % is not the customer of the user % the event names', p_customer_id, p_named_user_id
        using errcode = '22023';
    end if;
  end if;
  return account;
end;
$$;

-- checkout.session.completed: the subscription a customer of ours bought is that customer's account's.
create or replace function private.link_stripe_checkout(p_customer_id text, p_subscription_id text, p_named_user_id uuid)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  account public.user_subscriptions := private.stripe_account(p_customer_id, p_named_user_id, false);
begin
  if account.id is null then
    return 'unmatched';
  end if;
  update public.user_subscriptions s set stripe_subscription_id = coalesce(p_subscription_id, s.stripe_subscription_id)
  where s.id = account.id;
  return 'applied';
end;
$$;

-- The subscription as Stripe describes it at p_event_created. Returns applied, stale or unmatched.
-- Tier comes from the price's lookup key through public.subscription_tiers(); a new billing period
-- resets the video count; every change of tier or status writes subscription_history. A deleted
-- subscription leaves the user on the free tier with status canceled, in a new free period whose
-- allowance starts unused.
-- Stripe stamps events to the second, so two events of one second cannot be ordered by their time:
-- the second of them answers 'tied', and the webhook applies the subscription as Stripe's API returns
-- it now (p_current), which is the latest state whatever order the events arrived in.
create or replace function private.apply_stripe_subscription(
  p_event_id text,
  p_event_created timestamptz,
  p_user_id uuid,
  p_customer_id text,
  p_subscription_id text,
  p_price_id text,
  p_lookup_key text,
  p_stripe_status text,
  p_period_start timestamptz,
  p_period_end timestamptz,
  p_cancel_at_period_end boolean,
  p_deleted boolean default false,
  p_trial_end timestamptz default null,
  p_current boolean default false
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  current public.user_subscriptions;
  new_tier public.subscription_tier;
  new_status public.subscription_status;
  new_limit integer;
  renewed boolean;
  reason public.change_reason;
  tier_order constant public.subscription_tier[] := enum_range(null::public.subscription_tier);
begin
  current := private.stripe_account(p_customer_id, p_user_id, true);
  if current.id is null then
    return 'unmatched';
  end if;
  if current.last_synced_at is not null and p_event_created < current.last_synced_at then
    return 'stale';
  end if;
  if current.last_synced_at is not null and p_event_created = current.last_synced_at and not p_current then
    return 'tied';
  end if;
  -- A deleted subscription that is not the current one (an old one) changes nothing.
  if p_deleted and current.stripe_subscription_id is distinct from p_subscription_id then
    return 'stale';
  end if;

  if p_deleted or p_stripe_status in ('canceled', 'incomplete_expired') then
    new_tier := 'free';
    new_status := 'canceled';
  else
    select t.tier into new_tier from public.subscription_tiers() t where t.stripe_lookup_key = p_lookup_key;
    if new_tier is null then
      raise exception 'price % (lookup key %) is not one of the subscription tiers', p_price_id, p_lookup_key
        using errcode = '22023';
    end if;
    new_status := case p_stripe_status
      when 'active' then 'active' when 'trialing' then 'trialing' when 'past_due' then 'past_due'
      when 'unpaid' then 'unpaid' when 'incomplete' then 'incomplete' when 'paused' then 'past_due'
      else 'incomplete' end;
  end if;
  select coalesce(t.video_count_limit, current.video_count_limit) into new_limit
  from public.subscription_tiers() t where t.tier = new_tier;
  -- Only a new billing period resets the video count: a change of plan within one keeps it.
  renewed := not p_deleted and p_period_start is not null and p_period_start > current.current_period_start;

  reason := case
    when new_tier = 'free' and current.tier <> 'free' then 'cancel'
    when pg_catalog.array_position(tier_order, new_tier) > pg_catalog.array_position(tier_order, current.tier) then 'upgrade'
    when pg_catalog.array_position(tier_order, new_tier) < pg_catalog.array_position(tier_order, current.tier) then 'downgrade'
    when renewed and new_tier = current.tier then 'renewal'
    when new_status = current.status then null
    when new_status in ('past_due', 'unpaid', 'incomplete') then 'payment_failed'
    when new_status in ('active', 'trialing') and current.status in ('active', 'trialing') then 'renewal'
    else 'reactivation' end;

  update public.user_subscriptions s
  set tier = new_tier, status = new_status, video_count_limit = new_limit,
      -- The end of a subscription starts a free period, with the free allowance unused.
      video_count_used = case when renewed or p_deleted then 0 else s.video_count_used end,
      stripe_customer_id = coalesce(p_customer_id, s.stripe_customer_id),
      stripe_subscription_id = case when p_deleted then null else coalesce(p_subscription_id, s.stripe_subscription_id) end,
      stripe_price_id = case when p_deleted then null else coalesce(p_price_id, s.stripe_price_id) end,
      current_period_start = case when p_deleted then pg_catalog.now() else coalesce(p_period_start, s.current_period_start) end,
      current_period_end = case when p_deleted then pg_catalog.now() + interval '1 month'
                                else coalesce(p_period_end, s.current_period_end) end,
      cancel_at_period_end = not p_deleted and coalesce(p_cancel_at_period_end, false),
      trial_end = case when p_deleted then null else p_trial_end end,
      last_synced_at = p_event_created
  where s.id = current.id;

  if reason is not null then
    insert into public.subscription_history (user_id, subscription_id, from_tier, to_tier, previous_status, new_status,
      change_reason, effective_date, stripe_event_id, metadata)
    values (current.user_id, current.id, current.tier, new_tier, current.status, new_status, reason,
      case when renewed then p_period_start else p_event_created end, p_event_id,
      pg_catalog.jsonb_build_object('stripe_status', p_stripe_status, 'cancel_at_period_end', p_cancel_at_period_end));
  end if;
  return 'applied';
end;
$$;

-- invoice.payment_failed: the subscription is past due and blocks new generations until paid.
create or replace function private.mark_stripe_payment_failed(p_event_id text, p_event_created timestamptz, p_subscription_id text)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  current public.user_subscriptions;
begin
  select * into current from public.user_subscriptions s where s.stripe_subscription_id = p_subscription_id for update;
  if not found then
    return 'unmatched';
  end if;
  if current.last_synced_at is not null and p_event_created < current.last_synced_at then
    return 'stale';
  end if;
  update public.user_subscriptions s set status = 'past_due', last_synced_at = p_event_created where s.id = current.id;
  if current.status <> 'past_due' then
    insert into public.subscription_history (user_id, subscription_id, from_tier, to_tier, previous_status, new_status,
      change_reason, effective_date, stripe_event_id)
    values (current.user_id, current.id, current.tier, current.tier, current.status, 'past_due', 'payment_failed',
      p_event_created, p_event_id);
  end if;
  return 'applied';
end;
$$;

-- invoice.paid: a paid invoice for a new period renews the subscription (video count back to zero)
-- and a paid invoice ends a past-due state. The same period twice changes nothing.
create or replace function private.apply_stripe_invoice_paid(p_event_id text, p_event_created timestamptz,
  p_subscription_id text, p_period_start timestamptz, p_period_end timestamptz, p_invoice_id text default null,
  p_amount_paid_usd numeric default 0)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  current public.user_subscriptions;
  renewed boolean;
begin
  select * into current from public.user_subscriptions s where s.stripe_subscription_id = p_subscription_id for update;
  if not found then
    return 'unmatched';
  end if;
  -- What was paid counts towards the user's progress once per invoice, even when the event is late.
  perform private.record_progress_event(current.user_id, 'invoice_paid', coalesce(p_invoice_id, p_event_id),
    coalesce(p_amount_paid_usd, 0), pg_catalog.jsonb_build_object('invoice', p_invoice_id, 'event', p_event_id));
  if current.last_synced_at is not null and p_event_created < current.last_synced_at then
    return 'stale';
  end if;
  renewed := p_period_start > current.current_period_start;
  update public.user_subscriptions s
  set status = 'active', last_synced_at = p_event_created,
      video_count_used = case when renewed then 0 else s.video_count_used end,
      current_period_start = case when renewed then p_period_start else s.current_period_start end,
      current_period_end = case when renewed then p_period_end else s.current_period_end end
  where s.id = current.id;
  if renewed or current.status <> 'active' then
    insert into public.subscription_history (user_id, subscription_id, from_tier, to_tier, previous_status, new_status,
      change_reason, effective_date, stripe_event_id)
    values (current.user_id, current.id, current.tier, current.tier, current.status, 'active',
      case when renewed then 'renewal' else 'reactivation' end::public.change_reason,
      case when renewed then p_period_start else p_event_created end, p_event_id);
  end if;
  return 'applied';
end;
$$;

revoke all on function private.record_stripe_event(text, text, timestamptz, text, text),
  private.link_stripe_customer(uuid, text), private.stripe_account(text, uuid, boolean),
  private.link_stripe_checkout(text, text, uuid),
  private.apply_stripe_subscription(text, timestamptz, uuid, text, text, text, text, text, timestamptz, timestamptz, boolean,
    boolean, timestamptz, boolean),
  private.mark_stripe_payment_failed(text, timestamptz, text),
  private.apply_stripe_invoice_paid(text, timestamptz, text, timestamptz, timestamptz, text, numeric)
  from public, anon, authenticated;
grant execute on function private.record_stripe_event(text, text, timestamptz, text, text),
  private.link_stripe_customer(uuid, text), private.link_stripe_checkout(text, text, uuid),
  private.apply_stripe_subscription(text, timestamptz, uuid, text, text, text, text, text, timestamptz, timestamptz, boolean,
    boolean, timestamptz, boolean),
  private.mark_stripe_payment_failed(text, timestamptz, text),
  private.apply_stripe_invoice_paid(text, timestamptz, text, timestamptz, timestamptz, text, numeric)
  to service_role;

-- Safety net for billing periods that ended without a renewal from Stripe (and for the free tier,
-- which Stripe never renews): the period moves forward to contain now, the video count returns to zero.
-- A paid plan canceled at its period's end gets no new period (and no new quota) from here.
create or replace function private.reset_billing_periods()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  renewed integer;
begin
  with ended as (
    select s.id, s.user_id, s.tier, s.status, s.current_period_start, s.current_period_end,
      pg_catalog.ceil(extract(epoch from pg_catalog.now() - s.current_period_end) / extract(epoch from interval '30 days'))::integer
        as periods
    from public.user_subscriptions s
    where s.current_period_end <= pg_catalog.now()
      and (s.status in ('active', 'trialing') or (s.status = 'canceled' and s.tier = 'free'))
      -- A paid plan set to end with its period is Stripe's to end (customer.subscription.deleted).
      and not (s.cancel_at_period_end and s.tier <> 'free')
    for update
  ), moved as (
    update public.user_subscriptions s
    set video_count_used = 0,
        current_period_start = s.current_period_start + (e.periods || ' months')::interval,
        current_period_end = s.current_period_end + (e.periods || ' months')::interval
    from ended e where s.id = e.id
    returning s.id, s.user_id, s.tier, s.status, s.current_period_start
  ), logged as (
    insert into public.subscription_history (user_id, subscription_id, from_tier, to_tier, previous_status, new_status,
      change_reason, effective_date, metadata)
    select m.user_id, m.id, m.tier, m.tier, m.status, m.status, 'renewal', m.current_period_start,
      '{"source": "billing_period_reset"}'
    from moved m
    returning 1
  )
  select pg_catalog.count(*) into renewed from logged;
  return renewed;
end;
$$;
revoke all on function private.reset_billing_periods() from public, anon, authenticated;
grant execute on function private.reset_billing_periods() to service_role;
