-- Stripe billing: an event ledger (each event applied once), the customer link, and one function
-- that applies a subscription's state from Stripe, ignoring anything older than what is stored.

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

-- Checkout: remembers the customer created for a user (one per user, reused afterwards).
create or replace function private.link_stripe_customer(p_user_id uuid, p_customer_id text, p_subscription_id text default null)
returns void
language sql
security definer
set search_path = ''
as $$
  update public.user_subscriptions s
  set stripe_customer_id = coalesce(s.stripe_customer_id, p_customer_id),
      stripe_subscription_id = coalesce(p_subscription_id, s.stripe_subscription_id)
  where s.user_id = p_user_id
$$;

-- The subscription as Stripe describes it at p_event_created. Returns applied, stale or unmatched.
-- Tier comes from the price's lookup key through public.subscription_tiers(); a new billing period
-- resets the video count; every change of tier or status writes subscription_history.
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
  p_deleted boolean default false
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
  select * into current from public.user_subscriptions s
  where s.user_id = p_user_id or s.stripe_customer_id = p_customer_id or s.stripe_subscription_id = p_subscription_id
  order by (s.user_id = p_user_id) desc nulls last
  limit 1
  for update;
  if not found then
    return 'unmatched';
  end if;
  if current.last_synced_at is not null and p_event_created < current.last_synced_at then
    return 'stale';
  end if;
  -- A deleted subscription that is not the current one (an old one) changes nothing.
  if p_deleted and current.stripe_subscription_id is distinct from p_subscription_id then
    return 'stale';
  end if;

  if p_deleted or p_stripe_status in ('canceled', 'incomplete_expired') then
    new_tier := 'free';
    new_status := 'active';
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
  renewed := not p_deleted and p_period_start is not null and p_period_start > current.current_period_start
             and new_tier = current.tier;

  reason := case
    when new_tier = 'free' and current.tier <> 'free' then 'cancel'
    when pg_catalog.array_position(tier_order, new_tier) > pg_catalog.array_position(tier_order, current.tier) then 'upgrade'
    when pg_catalog.array_position(tier_order, new_tier) < pg_catalog.array_position(tier_order, current.tier) then 'downgrade'
    when renewed then 'renewal'
    when new_status in ('past_due', 'unpaid') and current.status not in ('past_due', 'unpaid') then 'payment_failed'
    when new_status in ('active', 'trialing') and current.status not in ('active', 'trialing') then 'reactivation'
    else null end;

  update public.user_subscriptions s
  set tier = new_tier, status = new_status, video_count_limit = new_limit,
      video_count_used = case when renewed or new_tier <> current.tier then 0 else s.video_count_used end,
      stripe_customer_id = coalesce(p_customer_id, s.stripe_customer_id),
      stripe_subscription_id = case when p_deleted then null else coalesce(p_subscription_id, s.stripe_subscription_id) end,
      stripe_price_id = case when p_deleted then null else coalesce(p_price_id, s.stripe_price_id) end,
      current_period_start = case when p_deleted then pg_catalog.now() else coalesce(p_period_start, s.current_period_start) end,
      current_period_end = case when p_deleted then pg_catalog.now() + interval '1 month'
                                else coalesce(p_period_end, s.current_period_end) end,
      cancel_at_period_end = not p_deleted and coalesce(p_cancel_at_period_end, false),
      last_synced_at = p_event_created
  where s.id = current.id;

  if reason is not null then
    insert into public.subscription_history (user_id, subscription_id, previous_tier, new_tier, previous_status, new_status,
      change_reason, stripe_event_id, metadata)
    values (current.user_id, current.id, current.tier, new_tier, current.status, new_status, reason, p_event_id,
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
    insert into public.subscription_history (user_id, subscription_id, previous_tier, new_tier, previous_status, new_status,
      change_reason, stripe_event_id)
    values (current.user_id, current.id, current.tier, current.tier, current.status, 'past_due', 'payment_failed', p_event_id);
  end if;
  return 'applied';
end;
$$;

-- invoice.paid: a paid invoice for a new period renews the subscription (video count back to zero)
-- and a paid invoice ends a past-due state. The same period twice changes nothing.
create or replace function private.apply_stripe_invoice_paid(p_event_id text, p_event_created timestamptz,
  p_subscription_id text, p_period_start timestamptz, p_period_end timestamptz)
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
    insert into public.subscription_history (user_id, subscription_id, previous_tier, new_tier, previous_status, new_status,
      change_reason, stripe_event_id)
    values (current.user_id, current.id, current.tier, current.tier, current.status, 'active',
      case when renewed then 'renewal' else 'reactivation' end::public.change_reason, p_event_id);
  end if;
  return 'applied';
end;
$$;

revoke all on function private.record_stripe_event(text, text, timestamptz, text, text),
  private.link_stripe_customer(uuid, text, text),
  private.apply_stripe_subscription(text, timestamptz, uuid, text, text, text, text, text, timestamptz, timestamptz, boolean, boolean),
  private.mark_stripe_payment_failed(text, timestamptz, text),
  private.apply_stripe_invoice_paid(text, timestamptz, text, timestamptz, timestamptz)
  from public, anon, authenticated;
grant execute on function private.record_stripe_event(text, text, timestamptz, text, text),
  private.link_stripe_customer(uuid, text, text),
  private.apply_stripe_subscription(text, timestamptz, uuid, text, text, text, text, text, timestamptz, timestamptz, boolean, boolean),
  private.mark_stripe_payment_failed(text, timestamptz, text),
  private.apply_stripe_invoice_paid(text, timestamptz, text, timestamptz, timestamptz)
  to service_role;
