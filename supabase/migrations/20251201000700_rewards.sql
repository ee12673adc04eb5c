-- Rewards: badges (reference data), badges users earned, NFTs minted from them, and progress.
create type public.badge_category as enum ('achievement', 'milestone', 'skill');
create type public.badge_rarity as enum ('common', 'uncommon', 'rare', 'epic', 'legendary');
create type public.blockchain as enum ('algorand', 'polygon');
create type public.nft_status as enum ('pending', 'minting', 'minted', 'failed');

create table public.badges (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  description text not null,
  category public.badge_category not null,
  rarity public.badge_rarity not null default 'common',
  icon_url text,
  -- Machine-readable: {"metric": <user_progress column>, "operator": ">=", "threshold": n}.
  criteria jsonb not null,
  xp_reward integer not null default 0,
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint badges_name_key unique (name),
  constraint badges_xp_reward_non_negative check (xp_reward >= 0),
  constraint badges_criteria_has_metric check (criteria ? 'metric' and criteria ? 'threshold')
);
comment on table public.badges is 'Reference data: badges and the machine-readable criteria that award them.';

create table public.user_badges (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  badge_id uuid not null references public.badges (id) on delete restrict,
  earned_at timestamptz not null default now(),
  earning_context jsonb not null default '{}',
  displayed boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint user_badges_user_badge_key unique (user_id, badge_id)
);
comment on table public.user_badges is 'Badges a user has earned, how, and whether the profile shows them.';
create index user_badges_badge_id_idx on public.user_badges (badge_id);

create table public.nfts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  badge_id uuid not null references public.badges (id) on delete restrict,
  -- The chain's id of the token: an Algorand asset id, or `<contract>/<token id>` on Polygon.
  asset_id text,
  blockchain public.blockchain not null,
  contract_address text,
  transaction_id text,
  wallet_address text,
  metadata_uri text,
  image_uri text,
  attributes jsonb not null default '{}',
  status public.nft_status not null default 'pending',
  error_message text,
  minted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Only an earned badge can be minted, once per chain.
  constraint nfts_user_badge_fkey foreign key (user_id, badge_id) references public.user_badges (user_id, badge_id)
    on delete cascade,
  constraint nfts_asset_id_key unique (asset_id),
  constraint nfts_user_badge_chain_key unique (user_id, badge_id, blockchain),
  constraint nfts_minted_has_asset check (status <> 'minted' or (asset_id is not null and transaction_id is not null))
);
comment on table public.nfts is 'Earned badges minted as NFTs, with their on-chain identifiers and IPFS metadata.';
create index nfts_badge_id_idx on public.nfts (badge_id);

create table public.user_progress (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  total_xp integer not null default 0,
  level integer not null default 1,
  videos_created integer not null default 0,
  books_uploaded integer not null default 0,
  quizzes_completed integer not null default 0,
  total_spent_usd numeric(12, 2) not null default 0,
  achievements jsonb not null default '{}',
  last_activity_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint user_progress_user_id_key unique (user_id),
  constraint user_progress_counts_non_negative check (total_xp >= 0 and videos_created >= 0 and books_uploaded >= 0
    and quizzes_completed >= 0 and total_spent_usd >= 0),
  constraint user_progress_level_positive check (level >= 1)
);
comment on table public.user_progress is 'Each user''s one progress record: XP, level, what they made and learned, and spending.';

create trigger badges_set_updated_at before update on public.badges
  for each row execute function private.set_updated_at();
create trigger user_badges_set_updated_at before update on public.user_badges
  for each row execute function private.set_updated_at();
create trigger nfts_set_updated_at before update on public.nfts
  for each row execute function private.set_updated_at();
create trigger user_progress_set_updated_at before update on public.user_progress
  for each row execute function private.set_updated_at();

alter table public.badges enable row level security;
alter table public.user_badges enable row level security;
alter table public.nfts enable row level security;
alter table public.user_progress enable row level security;

revoke insert, update, delete on public.user_badges, public.nfts, public.user_progress from anon, authenticated;

create policy "anyone reads active badges; superadmins read all" on public.badges
  for select to anon, authenticated using (is_active or (select private.is_superadmin()));
create policy "superadmins add badges" on public.badges
  for insert to authenticated with check ((select private.is_superadmin()));
create policy "superadmins edit badges" on public.badges
  for update to authenticated
  using ((select private.is_superadmin())) with check ((select private.is_superadmin()));
create policy "superadmins delete badges" on public.badges
  for delete to authenticated using ((select private.is_superadmin()));

create policy "owners read their badges" on public.user_badges
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their nfts" on public.nfts
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their progress" on public.user_progress
  for select to authenticated using (user_id = (select auth.uid()));
