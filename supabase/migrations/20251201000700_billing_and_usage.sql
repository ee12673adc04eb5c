-- Billing and usage: tiers, subscriptions and their history, usage logs and rollups.
create type public.subscription_tier as enum ('free', 'basic', 'standard', 'premium', 'professional', 'enterprise');
create type public.subscription_status as enum ('active', 'trialing', 'past_due', 'cancelled', 'incomplete', 'unpaid');
create type public.change_reason as enum ('upgrade', 'downgrade', 'cancel', 'renewal', 'payment_failed', 'reactivation');
create type public.resource_type as enum ('text', 'embedding', 'image', 'audio', 'video', 'lipsync', 'merge');

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
    ('free'::public.subscription_tier, 0.00, 2, '480p', 'basic'::public.quality_tier, null::text),
    ('basic', 9.99, 10, '720p', 'basic', 'litinkai_basic_monthly'),
    ('standard', 29.99, 30, '1080p', 'standard', 'litinkai_standard_monthly'),
    ('premium', 79.99, 100, '1080p', 'premium', 'litinkai_premium_monthly'),
    ('professional', 199.99, 500, '4k', 'professional', 'litinkai_professional_monthly'),
    ('enterprise', null, null, '4k', 'professional', null)
$$;
comment on function public.subscription_tiers() is 'Reference: price, monthly video limit, resolution and model quality per tier.';
grant execute on function public.subscription_tiers() to anon, authenticated, service_role;

create table public.user_subscriptions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  tier public.subscription_tier not null default 'free',
  status public.subscription_status not null default 'active',
  stripe_customer_id text,
  stripe_subscription_id text,
  stripe_price_id text,
  current_period_start timestamptz not null default now(),
  current_period_end timestamptz not null default (now() + interval '1 month'),
  cancel_at_period_end boolean not null default false,
  video_count_used integer not null default 0,
  video_count_limit integer not null default 2,
  last_synced_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint user_subscriptions_user_id_key unique (user_id),
  constraint user_subscriptions_stripe_customer_id_key unique (stripe_customer_id),
  constraint user_subscriptions_stripe_subscription_id_key unique (stripe_subscription_id),
  constraint user_subscriptions_counts_non_negative check (video_count_used >= 0 and video_count_limit >= 0),
  constraint user_subscriptions_period_order check (current_period_end > current_period_start)
);
comment on table public.user_subscriptions is 'Each user''s one subscription: tier, Stripe state and this period''s video quota.';

create table public.subscription_history (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  subscription_id uuid not null references public.user_subscriptions (id) on delete cascade,
  previous_tier public.subscription_tier,
  new_tier public.subscription_tier not null,
  previous_status public.subscription_status,
  new_status public.subscription_status not null,
  change_reason public.change_reason not null,
  stripe_event_id text,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.subscription_history is 'Every change of a subscription''s tier or status and why.';
create index subscription_history_user_id_created_at_idx on public.subscription_history (user_id, created_at desc);
create index subscription_history_subscription_id_idx on public.subscription_history (subscription_id);

create table public.usage_logs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  video_generation_id uuid references public.video_generations (id) on delete set null,
  resource_type public.resource_type not null,
  provider text not null,
  model text not null,
  operation text not null,
  input_tokens integer not null default 0,
  output_tokens integer not null default 0,
  units numeric(12, 3) not null default 0,
  duration_ms integer not null default 0,
  cost_usd numeric(12, 6) not null default 0,
  tier public.subscription_tier not null,
  success boolean not null default true,
  error_message text,
  idempotency_key text,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint usage_logs_idempotency_key_key unique (idempotency_key),
  constraint usage_logs_counts_non_negative check (input_tokens >= 0 and output_tokens >= 0 and units >= 0 and duration_ms >= 0),
  constraint usage_logs_cost_non_negative check (cost_usd >= 0)
);
comment on table public.usage_logs is 'One row per provider call: model, tokens or units, latency, cost and the tier at the time.';
create index usage_logs_user_id_created_at_idx on public.usage_logs (user_id, created_at);
create index usage_logs_created_at_idx on public.usage_logs (created_at);
create index usage_logs_video_generation_id_idx on public.usage_logs (video_generation_id);

create table public.cost_aggregations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  period_date date not null,
  total_cost_usd numeric(14, 6) not null default 0,
  request_count integer not null default 0,
  video_count integer not null default 0,
  cost_by_resource jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint cost_aggregations_user_day_key unique (user_id, period_date),
  constraint cost_aggregations_non_negative check (total_cost_usd >= 0 and request_count >= 0 and video_count >= 0)
);
comment on table public.cost_aggregations is 'Daily cost rollup per user, with a breakdown by resource type.';

create table public.model_metrics (
  id uuid primary key default gen_random_uuid(),
  model text not null,
  provider text not null,
  metric_date date not null,
  request_count integer not null default 0,
  success_count integer not null default 0,
  failure_count integer not null default 0,
  avg_latency_ms numeric(12, 2),
  avg_cost_usd numeric(12, 6),
  total_cost_usd numeric(14, 6) not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint model_metrics_model_day_key unique (model, metric_date),
  constraint model_metrics_counts check (request_count >= 0 and success_count >= 0 and failure_count >= 0
    and success_count + failure_count = request_count),
  constraint model_metrics_costs_non_negative check (total_cost_usd >= 0 and avg_cost_usd >= 0 and avg_latency_ms >= 0)
);
comment on table public.model_metrics is 'Daily request, success, latency and cost figures per model (superadmins only).';

create trigger user_subscriptions_set_updated_at before update on public.user_subscriptions
  for each row execute function private.set_updated_at();
create trigger subscription_history_set_updated_at before update on public.subscription_history
  for each row execute function private.set_updated_at();
create trigger usage_logs_set_updated_at before update on public.usage_logs
  for each row execute function private.set_updated_at();
create trigger cost_aggregations_set_updated_at before update on public.cost_aggregations
  for each row execute function private.set_updated_at();
create trigger model_metrics_set_updated_at before update on public.model_metrics
  for each row execute function private.set_updated_at();

alter table public.user_subscriptions enable row level security;
alter table public.subscription_history enable row level security;
alter table public.usage_logs enable row level security;
alter table public.cost_aggregations enable row level security;
alter table public.model_metrics enable row level security;

-- Written only by the backend (service role, security definer functions).
revoke insert, update, delete on public.user_subscriptions, public.subscription_history, public.usage_logs,
  public.cost_aggregations, public.model_metrics from anon, authenticated;

create policy "owners read their subscription" on public.user_subscriptions
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their subscription history" on public.subscription_history
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their usage" on public.usage_logs
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their cost rollups" on public.cost_aggregations
  for select to authenticated using (user_id = (select auth.uid()));
create policy "superadmins read model metrics" on public.model_metrics
  for select to authenticated using ((select private.is_superadmin()));
