-- One price table per model and the one function every worker uses to log a provider call.
create table private.model_prices (
  model text primary key,
  provider text not null,
  resource_type public.resource_type not null,
  usd_per_1k_input_tokens numeric(12, 8) not null default 0,
  usd_per_1k_output_tokens numeric(12, 8) not null default 0,
  usd_per_unit numeric(12, 8) not null default 0,
  unit text not null default 'call',
  note text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint model_prices_non_negative check (usd_per_1k_input_tokens >= 0 and usd_per_1k_output_tokens >= 0 and usd_per_unit >= 0),
  constraint model_prices_unit_known check (unit in ('call', 'image', 'second', 'character'))
);
comment on table private.model_prices is 'Price per model: tokens for text, or per image, second or character.';
create trigger model_prices_set_updated_at before update on private.model_prices
  for each row execute function private.set_updated_at();
alter table private.model_prices enable row level security;

-- Offline models carry an estimate of local compute so costs flow through like hosted ones.
insert into private.model_prices (model, provider, resource_type, usd_per_1k_input_tokens, usd_per_1k_output_tokens, usd_per_unit, unit, note)
values
  ('offline-rules-v1', 'offline', 'text', 0.00001, 0.00001, 0, 'call', 'local compute estimate'),
  ('offline-hashed-bow-1536', 'offline', 'embedding', 0.000001, 0, 0, 'call', 'local compute estimate'),
  ('offline-card-renderer', 'offline', 'image', 0, 0, 0.0005, 'image', 'local compute estimate'),
  ('espeak-ng', 'offline', 'audio', 0, 0, 0.00002, 'second', 'local compute estimate'),
  ('offline-ffmpeg-motion', 'offline', 'video', 0, 0, 0.0001, 'second', 'local compute estimate'),
  ('offline-lipsync-passthrough', 'offline', 'lipsync', 0, 0, 0, 'call', 'no work done'),
  ('ffmpeg-concat', 'offline', 'merge', 0, 0, 0.00005, 'second', 'local compute estimate'),
  ('gpt-4o-mini', 'openai', 'text', 0.00015, 0.0006, 0, 'call', null),
  ('text-embedding-3-small', 'openai', 'embedding', 0.00002, 0, 0, 'call', null),
  ('eleven_multilingual_v2', 'elevenlabs', 'audio', 0, 0, 0.0003, 'character', null),
  ('modelslab-flux', 'modelslab', 'image', 0, 0, 0.0047, 'image', null),
  ('modelslab-image-to-video', 'modelslab', 'video', 0, 0, 0.02, 'second', null),
  ('modelslab-lipsync', 'modelslab', 'lipsync', 0, 0, 0.01, 'second', null);

-- Logs one provider call with its cost; a repeated idempotency key changes nothing.
create or replace function private.record_usage(
  p_user_id uuid,
  p_video_generation_id uuid,
  p_model text,
  p_operation text,
  p_idempotency_key text,
  p_input_tokens integer default 0,
  p_output_tokens integer default 0,
  p_units numeric default 0,
  p_duration_ms integer default 0,
  p_success boolean default true,
  p_error_message text default null
)
returns numeric
language plpgsql
security definer
set search_path = ''
as $$
declare
  price private.model_prices;
  cost numeric(12, 6);
  user_tier public.subscription_tier;
begin
  select * into price from private.model_prices m where m.model = p_model;
  if not found then
    raise exception 'no price for model "%": add it to private.model_prices', p_model using errcode = 'P0002';
  end if;
  cost := case when p_success then
      p_input_tokens / 1000.0 * price.usd_per_1k_input_tokens
    + p_output_tokens / 1000.0 * price.usd_per_1k_output_tokens
    + coalesce(p_units, 0) * price.usd_per_unit
    else 0 end;
  select s.tier into user_tier from public.user_subscriptions s where s.user_id = p_user_id;
  insert into public.usage_logs (user_id, video_generation_id, resource_type, provider, model, operation, input_tokens,
    output_tokens, units, duration_ms, cost_usd, tier, success, error_message, idempotency_key)
  values (p_user_id, p_video_generation_id, price.resource_type, price.provider, p_model, p_operation,
    coalesce(p_input_tokens, 0), coalesce(p_output_tokens, 0), coalesce(p_units, 0), coalesce(p_duration_ms, 0),
    cost, coalesce(user_tier, 'free'), p_success, p_error_message, p_idempotency_key)
  on conflict (idempotency_key) do nothing;
  return cost;
end;
$$;
revoke all on function private.record_usage(uuid, uuid, text, text, text, integer, integer, numeric, integer, boolean, text)
  from public, anon, authenticated;
grant execute on function private.record_usage(uuid, uuid, text, text, text, integer, integer, numeric, integer, boolean, text)
  to service_role;
