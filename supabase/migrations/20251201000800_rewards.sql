-- Rewards: badges (reference data), badges users earned, NFTs minted from them, and progress.
create type public.badge_category as enum ('reading', 'learning', 'creation', 'community', 'milestone');
create type public.badge_rarity as enum ('common', 'uncommon', 'rare', 'epic', 'legendary');
create type public.blockchain as enum ('ethereum', 'polygon', 'base', 'solana');
create type public.nft_status as enum ('pending', 'minting', 'minted', 'failed', 'transferred');

create table public.badges (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  description text not null,
  category public.badge_category not null,
  rarity public.badge_rarity not null default 'common',
  criteria jsonb not null,
  image_url text,
  points integer not null default 0,
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint badges_name_key unique (name),
  constraint badges_points_non_negative check (points >= 0),
  constraint badges_criteria_has_metric check (criteria ? 'metric' and criteria ? 'threshold')
);
comment on table public.badges is 'Reference data: badges and the machine-readable criteria that award them.';

create table public.user_badges (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  badge_id uuid not null references public.badges (id) on delete restrict,
  earned_at timestamptz not null default now(),
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint user_badges_user_badge_key unique (user_id, badge_id)
);
comment on table public.user_badges is 'Badges a user has earned.';
create index user_badges_badge_id_idx on public.user_badges (badge_id);

create table public.nfts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  user_badge_id uuid references public.user_badges (id) on delete set null,
  blockchain public.blockchain not null,
  status public.nft_status not null default 'pending',
  contract_address text,
  token_id text,
  transaction_hash text,
  wallet_address text,
  metadata jsonb not null default '{}',
  minted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint nfts_token_key unique (blockchain, contract_address, token_id),
  constraint nfts_minted_has_token check (status not in ('minted', 'transferred') or (token_id is not null and contract_address is not null))
);
comment on table public.nfts is 'NFTs minted for users (from earned badges), with their on-chain state.';
create index nfts_user_id_idx on public.nfts (user_id);
create index nfts_user_badge_id_idx on public.nfts (user_badge_id);

create table public.user_progress (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  books_read integer not null default 0,
  chapters_completed integer not null default 0,
  quizzes_completed integer not null default 0,
  videos_generated integer not null default 0,
  total_points integer not null default 0,
  level integer not null default 1,
  current_streak_days integer not null default 0,
  longest_streak_days integer not null default 0,
  last_activity_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint user_progress_user_id_key unique (user_id),
  constraint user_progress_counts_non_negative check (books_read >= 0 and chapters_completed >= 0
    and quizzes_completed >= 0 and videos_generated >= 0 and total_points >= 0
    and current_streak_days >= 0 and longest_streak_days >= 0),
  constraint user_progress_level_positive check (level >= 1)
);
comment on table public.user_progress is 'Each user''s one progress record: reading, learning, creating, points and streaks.';

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
