-- Rewards: badges (reference data), badges users earned, NFTs minted from them, and progress.
create type public.badge_category as enum ('achievement', 'milestone', 'skill');
create type public.badge_rarity as enum ('common', 'uncommon', 'rare', 'epic', 'legendary');
create type public.blockchain as enum ('algorand', 'polygon');
create type public.nft_status as enum ('pending', 'minting', 'minted', 'failed');

-- Badge criteria: {"metric", "operator"?, "threshold"}, or {"all": [...]} / {"any": [...]} of them.
create or replace function private.criteria_is_valid(criteria jsonb)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select case
    when pg_catalog.jsonb_typeof(criteria) <> 'object' then false
    when criteria ? 'all' or criteria ? 'any' then
      pg_catalog.jsonb_typeof(coalesce(criteria -> 'all', criteria -> 'any')) = 'array'
      and pg_catalog.jsonb_array_length(coalesce(criteria -> 'all', criteria -> 'any')) > 0
      and not exists (select 1 from pg_catalog.jsonb_array_elements(coalesce(criteria -> 'all', criteria -> 'any')) c
                      where not private.criteria_is_valid(c))
    else criteria ? 'metric' and pg_catalog.jsonb_typeof(criteria -> 'threshold') = 'number'
      and coalesce(criteria ->> 'operator', '>=') in ('>=', '>', '=', '<=', '<')
  end
$$;
grant execute on function private.criteria_is_valid(jsonb) to authenticated, service_role;
revoke all on function private.criteria_is_valid(jsonb) from public, anon;

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
  constraint badges_criteria_valid check (private.criteria_is_valid(criteria))
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

-- Progress from events --------------------------------------------------------------------------
-- XP per kind of event: one table, read by private.record_progress_event.
create table private.xp_rules (
  event_kind text primary key,
  xp integer not null check (xp >= 0),
  description text not null
);
comment on table private.xp_rules is 'XP awarded for each kind of progress event (badges add their own xp_reward).';
alter table private.xp_rules enable row level security;
insert into private.xp_rules (event_kind, xp, description) values
  ('book_ready', 50, 'a book was processed into chapters'),
  ('video_completed', 100, 'a video generation completed'),
  ('quiz_attempted', 0, 'a quiz of a chapter text was attempted for the first time (only that attempt earns quiz XP)'),
  ('quiz_passed', 30, 'the first attempt at a quiz of a chapter text passed (60% or more)'),
  ('quiz_perfect', 20, 'the first attempt at a quiz of a chapter text had no mistake'),
  ('invoice_paid', 0, 'an invoice was paid (counts towards total_spent_usd)');

-- Every event that counted, once: its key is what was achieved (the book's text, the generation, the
-- text a quiz was written from, the invoice), so a replay, a retry, a resubmission or the same book
-- deleted and uploaded again counts nothing twice. Deleting a book leaves its events here.
create table private.progress_events (
  id bigint generated always as identity primary key,
  user_id uuid not null references public.profiles (id) on delete cascade,
  event_kind text not null references private.xp_rules (event_kind),
  source_key text not null,
  xp integer not null,
  amount_usd numeric(12, 2) not null default 0,
  context jsonb not null default '{}',
  created_at timestamptz not null default now(),
  constraint progress_events_once unique (user_id, event_kind, source_key)
);
comment on table private.progress_events is 'The ledger of progress events: each counted once, with the XP it gave.';
create index progress_events_event_kind_idx on private.progress_events (event_kind);
alter table private.progress_events enable row level security;

-- The level curve: level n starts at 100 * n * (n - 1) / 2 XP (0, 100, 300, 600, 1000, 1500, ...).
create or replace function private.level_for_xp(xp integer)
returns integer
language sql
immutable
set search_path = ''
as $$ select greatest(1, pg_catalog.floor((1 + pg_catalog.sqrt(1 + 8 * greatest(xp, 0) / 100.0)) / 2)::integer) $$;

-- Badge criteria: {"metric": m, "operator": op, "threshold": n}, or {"all": [...]} / {"any": [...]}.
-- A metric is a user_progress column (total_xp, level, books_uploaded, videos_created,
-- quizzes_completed, total_spent_usd) or achievements.<flag> (1 when set).
create or replace function private.criteria_met(progress public.user_progress, criteria jsonb)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
declare
  value numeric;
  threshold numeric := (criteria ->> 'threshold')::numeric;
begin
  if criteria ? 'all' then
    return not exists (select 1 from pg_catalog.jsonb_array_elements(criteria -> 'all') c
                       where not private.criteria_met(progress, c));
  elsif criteria ? 'any' then
    return exists (select 1 from pg_catalog.jsonb_array_elements(criteria -> 'any') c
                   where private.criteria_met(progress, c));
  end if;
  value := case criteria ->> 'metric'
    when 'total_xp' then progress.total_xp
    when 'level' then progress.level
    when 'books_uploaded' then progress.books_uploaded
    when 'videos_created' then progress.videos_created
    when 'quizzes_completed' then progress.quizzes_completed
    when 'total_spent_usd' then progress.total_spent_usd
    else case when criteria ->> 'metric' like 'achievements.%'
              then (case when progress.achievements ? pg_catalog.substr(criteria ->> 'metric', 14) then 1 else 0 end)
         end
  end;
  if value is null or threshold is null then
    return false;
  end if;
  return case coalesce(criteria ->> 'operator', '>=')
    when '>=' then value >= threshold when '>' then value > threshold when '=' then value = threshold
    when '<=' then value <= threshold when '<' then value < threshold else false end;
end;
$$;

-- Records one progress event for a user, once by its key: the counter it moves, its XP, the level,
-- achievement flags, then every badge whose criteria now hold (each awarded once, its XP added, which
-- may earn the next). The user's progress row is locked, so concurrent events are applied in turn.
-- Returns the XP this call added (0 for a replay).
create or replace function private.record_progress_event(
  p_user_id uuid,
  p_event_kind text,
  p_source_key text,
  p_amount_usd numeric default 0,
  p_context jsonb default '{}'
)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  progress public.user_progress;
  rule private.xp_rules;
  inserted bigint;
  gained integer := 0;
  badge public.badges;
  flags jsonb := '{}';
  awarded boolean;
begin
  select * into strict rule from private.xp_rules r where r.event_kind = p_event_kind;
  insert into public.user_progress (user_id) values (p_user_id) on conflict (user_id) do nothing;
  select * into progress from public.user_progress p where p.user_id = p_user_id for update;
  insert into private.progress_events (user_id, event_kind, source_key, xp, amount_usd, context)
  values (p_user_id, p_event_kind, p_source_key, rule.xp, coalesce(p_amount_usd, 0), coalesce(p_context, '{}'))
  on conflict on constraint progress_events_once do nothing
  returning id into inserted;
  if inserted is null then
    return 0; -- counted before
  end if;
  gained := rule.xp;
  flags := case p_event_kind
    when 'book_ready' then '{"first_book": true}'
    when 'video_completed' then '{"first_video": true}'
    when 'quiz_passed' then '{"first_quiz_passed": true}'
    when 'quiz_perfect' then '{"first_perfect_quiz": true}'
    when 'invoice_paid' then '{"first_payment": true}'
    else '{}' end;
  update public.user_progress p
  set books_uploaded = p.books_uploaded + (p_event_kind = 'book_ready')::integer,
      videos_created = p.videos_created + (p_event_kind = 'video_completed')::integer,
      quizzes_completed = p.quizzes_completed + (p_event_kind = 'quiz_passed')::integer,
      total_spent_usd = p.total_spent_usd + case when p_event_kind = 'invoice_paid' then coalesce(p_amount_usd, 0) else 0 end,
      total_xp = p.total_xp + rule.xp,
      level = private.level_for_xp(p.total_xp + rule.xp),
      -- A flag keeps the moment it was first set.
      achievements = (select coalesce(pg_catalog.jsonb_object_agg(k, pg_catalog.now()), '{}') from pg_catalog.jsonb_object_keys(flags) k)
        || p.achievements,
      last_activity_at = pg_catalog.now()
  where p.user_id = p_user_id
  returning * into progress;

  -- Badges, until none is newly earned (a badge's XP can earn a total_xp badge).
  loop
    awarded := false;
    for badge in
      select b.* from public.badges b
      where b.is_active and not exists (select 1 from public.user_badges u where u.user_id = p_user_id and u.badge_id = b.id)
      order by b.xp_reward, b.name
    loop
      continue when not private.criteria_met(progress, badge.criteria);
      insert into public.user_badges (user_id, badge_id, earning_context)
      values (p_user_id, badge.id, pg_catalog.jsonb_build_object('event', p_event_kind, 'source', p_source_key,
        'criteria', badge.criteria, 'at', pg_catalog.now()))
      on conflict (user_id, badge_id) do nothing;
      if found then
        awarded := true;
        gained := gained + badge.xp_reward;
        update public.user_progress p
        set total_xp = p.total_xp + badge.xp_reward, level = private.level_for_xp(p.total_xp + badge.xp_reward)
        where p.user_id = p_user_id
        returning * into progress;
      end if;
    end loop;
    exit when not awarded;
  end loop;
  return gained;
end;
$$;

-- Events from the tables where they happen: the trigger's arguments name the kind of event and the
-- column whose value keys it.
create or replace function private.progress_from_row()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.record_progress_event(new.user_id, tg_argv[0], pg_catalog.to_jsonb(new) ->> tg_argv[1], 0,
    pg_catalog.jsonb_build_object('table', tg_table_name, 'id', new.id));
  return null;
end;
$$;
-- A book by its text (books_take_content_hash has just taken it), not its row: deleting a book and
-- processing the same file again is no new book.
create trigger books_progress after update of status on public.books
  for each row when (new.status = 'ready' and old.status is distinct from 'ready')
  execute function private.progress_from_row('book_ready', 'content_hash');
create trigger video_generations_progress after update of status on public.video_generations
  for each row when (new.status = 'completed' and old.status is distinct from 'completed')
  execute function private.progress_from_row('video_completed', 'id');

-- Quizzes ------------------------------------------------------------------------------------------
create table public.quiz_attempts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  chapter_id uuid not null references public.chapters (id) on delete cascade,
  answers jsonb not null,
  correct integer not null,
  total integer not null,
  score numeric(5, 2) not null,
  passed boolean not null,
  xp_awarded integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint quiz_attempts_answers_is_array check (jsonb_typeof(answers) = 'array'),
  constraint quiz_attempts_counts check (correct >= 0 and total > 0 and correct <= total)
);
comment on table public.quiz_attempts is 'Graded attempts at a chapter''s quiz (chapters.ai_content.quiz); written by submit_quiz.';
create index quiz_attempts_user_chapter_idx on public.quiz_attempts (user_id, chapter_id);
create index quiz_attempts_chapter_id_idx on public.quiz_attempts (chapter_id);
create trigger quiz_attempts_set_updated_at before update on public.quiz_attempts
  for each row execute function private.set_updated_at();
alter table public.quiz_attempts enable row level security;
revoke insert, update, delete on public.quiz_attempts from anon, authenticated;
create policy "owners read their quiz attempts" on public.quiz_attempts
  for select to authenticated using (user_id = (select auth.uid()));

-- A quiz's answers and explanations, kept out of chapters.ai_content (which the chapter's owner
-- reads): the owner sees them only in the replies to attempts, when the one that can earn XP is made.
create table private.quiz_answer_keys (
  chapter_id uuid primary key,
  -- Fingerprint of the chapter text the quiz was written from: quiz XP counts once per user and text.
  content_hash text not null,
  -- Per question, in order: {"answer_index": n, "explanation": text}.
  answers jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Checked at commit: the chapter's own insert trigger writes the key before the chapter row exists.
  constraint quiz_answer_keys_chapter_fkey foreign key (chapter_id) references public.chapters (id)
    on delete cascade deferrable initially deferred,
  constraint quiz_answer_keys_answers_is_array check (jsonb_typeof(answers) = 'array')
);
comment on table private.quiz_answer_keys is 'The answers and explanations of each chapter''s quiz, which clients never read.';
create trigger quiz_answer_keys_set_updated_at before update on private.quiz_answer_keys
  for each row execute function private.set_updated_at();
alter table private.quiz_answer_keys enable row level security;
revoke all on private.quiz_answer_keys from anon, authenticated;

-- Whoever writes a chapter's quiz (the ingest worker, the service role), its answers and explanations
-- move to the chapter's answer key before the row is stored. A quiz without them (moved already)
-- keeps its key; ai_content without a quiz drops it.
create or replace function private.keep_quiz_answers_apart()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  quiz jsonb := new.ai_content -> 'quiz';
begin
  if pg_catalog.jsonb_typeof(quiz) = 'array' and exists (
       select 1 from pg_catalog.jsonb_array_elements(quiz) q where q.value ? 'answer_index' or q.value ? 'explanation') then
    insert into private.quiz_answer_keys (chapter_id, content_hash, answers)
    select new.id, private.text_fingerprint(new.content),
      pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('answer_index', q.value -> 'answer_index',
        'explanation', q.value -> 'explanation') order by q.ordinality)
    from pg_catalog.jsonb_array_elements(quiz) with ordinality q
    on conflict (chapter_id) do update set content_hash = excluded.content_hash, answers = excluded.answers;
    new.ai_content := pg_catalog.jsonb_set(new.ai_content, '{quiz}',
      (select pg_catalog.jsonb_agg(q.value - 'answer_index' - 'explanation' order by q.ordinality)
       from pg_catalog.jsonb_array_elements(quiz) with ordinality q));
  elsif quiz is null and tg_op = 'UPDATE' then
    delete from private.quiz_answer_keys k where k.chapter_id = new.id;
  end if;
  return new;
end;
$$;
create trigger chapters_keep_quiz_answers_apart before insert or update of ai_content on public.chapters
  for each row execute function private.keep_quiz_answers_apart();

-- Grades answers (option indexes, one per question, in order) to a chapter's quiz and records the
-- attempt. Only the first attempt at a quiz of this chapter text can earn XP: a pass (60% or more)
-- counts as a completed quiz, a perfect score gives more. Every reply shows the answers, and the same
-- text uploaded again is the same quiz, so later attempts (here or at a copy) earn nothing. Returns
-- the score and, per question, the right answer and its explanation.
create or replace function public.submit_quiz(chapter_id uuid, answers jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  quiz jsonb;
  answer_key jsonb;
  quiz_text_hash text;
  total integer;
  correct integer;
  results jsonb;
  score numeric;
  passed boolean;
  first_attempt boolean;
  xp integer := 0;
begin
  if caller is null then
    raise exception 'sign in to take quizzes' using errcode = '42501';
  end if;
  perform private.take_rate_limit('quiz');
  -- Quizzes of processed books only: the ingest worker wrote them (clients cannot write ai_content).
  select c.ai_content -> 'quiz', k.answers, k.content_hash into quiz, answer_key, quiz_text_hash
  from public.chapters c join public.books b on b.id = c.book_id
  left join private.quiz_answer_keys k on k.chapter_id = c.id
  where c.id = submit_quiz.chapter_id and b.user_id = caller and b.status = 'ready';
  if not found then
    raise exception 'chapter % not found among yours', submit_quiz.chapter_id using errcode = 'P0002';
  end if;
  if pg_catalog.jsonb_typeof(quiz) is distinct from 'array' or pg_catalog.jsonb_array_length(quiz) = 0
     or pg_catalog.jsonb_array_length(answer_key) is distinct from pg_catalog.jsonb_array_length(quiz) then
    raise exception 'chapter % has no quiz', submit_quiz.chapter_id using errcode = 'P0002';
  end if;
  total := pg_catalog.jsonb_array_length(quiz);
  if pg_catalog.jsonb_typeof(answers) is distinct from 'array' or pg_catalog.jsonb_array_length(answers) <> total
     or exists (select 1 from pg_catalog.jsonb_array_elements(answers) a where pg_catalog.jsonb_typeof(a) <> 'number') then
    raise exception 'answers must be an array of % option numbers, one per question', total using errcode = '22023';
  end if;
  select pg_catalog.count(*) filter (where (a.value)::integer = (k.value ->> 'answer_index')::integer),
    pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('question', q.value ->> 'question',
      'your_answer', (a.value)::integer, 'correct_answer', (k.value ->> 'answer_index')::integer,
      'correct', (a.value)::integer = (k.value ->> 'answer_index')::integer,
      'explanation', k.value ->> 'explanation') order by q.ordinality)
  into correct, results
  from pg_catalog.jsonb_array_elements(quiz) with ordinality q
  join pg_catalog.jsonb_array_elements(answer_key) with ordinality k on k.ordinality = q.ordinality
  join pg_catalog.jsonb_array_elements(answers) with ordinality a on a.ordinality = q.ordinality;
  score := pg_catalog.round(100.0 * correct / total, 2);
  passed := score >= 60;
  -- The first attempt at this text is the one whose ledger row goes in; of several arriving at once,
  -- the others wait on the unique key and find it taken.
  insert into private.progress_events (user_id, event_kind, source_key, xp, context)
  values (caller, 'quiz_attempted', quiz_text_hash, 0,
    pg_catalog.jsonb_build_object('chapter_id', submit_quiz.chapter_id, 'score', score))
  on conflict on constraint progress_events_once do nothing
  returning true into first_attempt;
  first_attempt := coalesce(first_attempt, false);
  if first_attempt and passed then
    xp := private.record_progress_event(caller, 'quiz_passed', quiz_text_hash, 0,
      pg_catalog.jsonb_build_object('chapter_id', submit_quiz.chapter_id, 'score', score));
  end if;
  if first_attempt and correct = total then
    xp := xp + private.record_progress_event(caller, 'quiz_perfect', quiz_text_hash, 0,
      pg_catalog.jsonb_build_object('chapter_id', submit_quiz.chapter_id));
  end if;
  insert into public.quiz_attempts (user_id, chapter_id, answers, correct, total, score, passed, xp_awarded)
  values (caller, submit_quiz.chapter_id, answers, correct, total, score, passed, xp);
  return pg_catalog.jsonb_build_object('score', score, 'correct', correct, 'total', total, 'passed', passed,
    'first_attempt', first_attempt, 'xp_awarded', xp, 'questions', results);
end;
$$;
comment on function public.submit_quiz(uuid, jsonb)
  is 'Client RPC: grade your answers to a chapter''s quiz; returns the score and explanations; only the first attempt at a chapter text earns XP.';

-- The owner shows or hides an earned badge, and changes nothing else of it.
grant update (displayed) on public.user_badges to authenticated;
create policy "owners show or hide their badges" on public.user_badges
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

-- Realtime: a client shows "badge earned" and XP as they happen.
alter publication supabase_realtime add table public.user_progress, public.user_badges;

revoke all on private.xp_rules, private.progress_events from anon, authenticated;
revoke all on function private.level_for_xp(integer), private.criteria_met(public.user_progress, jsonb),
  private.record_progress_event(uuid, text, text, numeric, jsonb), private.progress_from_row(),
  private.keep_quiz_answers_apart()
  from public, anon, authenticated;
grant execute on function private.record_progress_event(uuid, text, text, numeric, jsonb),
  private.level_for_xp(integer) to service_role;
revoke all on function public.submit_quiz(uuid, jsonb) from public, anon;
grant execute on function public.submit_quiz(uuid, jsonb) to authenticated, service_role;

-- NFTs ---------------------------------------------------------------------------------------------
-- The owner of an earned badge asks for it on a chain; the mint worker (queue "mint") builds the
-- token's metadata, content-addresses it and mints. One NFT per earned badge per chain.
select pgmq.create('mint') where not exists (select 1 from pgmq.list_queues() l where l.queue_name = 'mint');

-- A wallet address a chain accepts: 0x and 40 hex digits (Polygon), or 58 base32 characters (Algorand).
create or replace function private.is_wallet_address(chain public.blockchain, address text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select case chain
    when 'polygon' then address ~ '^0x[0-9a-fA-F]{40}$'
    when 'algorand' then address ~ '^[A-Z2-7]{58}$'
  end
$$;
alter table public.nfts add constraint nfts_wallet_address_valid
  check (wallet_address is null or private.is_wallet_address(blockchain, wallet_address));

-- Queues a badge the caller earned for minting on a chain, to their wallet (or the platform's
-- custodial account when none is given). Asking again returns the same NFT; a failed one is tried again.
create or replace function public.request_badge_nft(badge_id uuid, blockchain public.blockchain,
  wallet_address text default null)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  nft public.nfts;
begin
  if caller is null then
    raise exception 'sign in to mint badges' using errcode = '42501';
  end if;
  if not exists (select 1 from public.user_badges u where u.user_id = caller and u.badge_id = request_badge_nft.badge_id) then
    raise exception 'badge % is not among the badges you earned', request_badge_nft.badge_id using errcode = 'P0002';
  end if;
  if request_badge_nft.wallet_address is not null
     and not private.is_wallet_address(request_badge_nft.blockchain, request_badge_nft.wallet_address) then
    raise exception '% is not a % address', request_badge_nft.wallet_address, request_badge_nft.blockchain
      using errcode = '22023';
  end if;
  insert into public.nfts (user_id, badge_id, blockchain, wallet_address)
  values (caller, request_badge_nft.badge_id, request_badge_nft.blockchain, request_badge_nft.wallet_address)
  on conflict on constraint nfts_user_badge_chain_key do nothing
  returning * into nft;
  if nft.id is null then
    select * into nft from public.nfts n
    where n.user_id = caller and n.badge_id = request_badge_nft.badge_id and n.blockchain = request_badge_nft.blockchain
    for update;
    if nft.status <> 'failed' then
      return nft.id; -- already queued, minting or minted
    end if;
    update public.nfts n set status = 'pending', error_message = null,
      wallet_address = coalesce(request_badge_nft.wallet_address, n.wallet_address)
    where n.id = nft.id;
  end if;
  perform pgmq.send('mint', pg_catalog.jsonb_build_object('nft_id', nft.id));
  perform private.wake_queue_workers('mint');
  return nft.id;
end;
$$;
comment on function public.request_badge_nft(uuid, public.blockchain, text)
  is 'Client RPC: mint a badge you earned as an NFT on algorand or polygon; returns the nfts row id.';

-- Worker: what minting needs (the NFT, its badge and owner), the row marked minting; null when the
-- message is stale (minted already, or gone).
create or replace function private.begin_mint(p_nft_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  nft public.nfts;
begin
  update public.nfts n set status = 'minting'
  where n.id = p_nft_id and n.status in ('pending', 'minting')
  returning * into nft;
  if not found then
    return null;
  end if;
  return (select pg_catalog.jsonb_build_object('nft', pg_catalog.to_jsonb(nft), 'badge', pg_catalog.to_jsonb(b),
      'earned', pg_catalog.jsonb_build_object('earned_at', u.earned_at, 'earning_context', u.earning_context),
      'owner', pg_catalog.jsonb_build_object('display_name', p.display_name))
    from public.badges b
    join public.user_badges u on u.badge_id = b.id and u.user_id = nft.user_id
    join public.profiles p on p.id = nft.user_id
    where b.id = nft.badge_id);
end;
$$;

-- Worker: the transaction sent for an NFT, recorded before waiting for it, so a worker that dies
-- (or times out) while waiting looks that transaction up again instead of minting a second token.
create or replace function private.note_mint_transaction(p_nft_id uuid, p_transaction_id text)
returns void
language sql
security definer
set search_path = ''
as $$
  update public.nfts n set transaction_id = p_transaction_id where n.id = p_nft_id and n.status = 'minting'
$$;

-- Worker: the minted token, recorded with the message's deletion in one transaction.
create or replace function private.complete_mint(p_msg_id bigint, p_nft_id uuid, p_minted jsonb)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.nfts n
  set status = 'minted', asset_id = p_minted ->> 'asset_id', transaction_id = p_minted ->> 'transaction_id',
      contract_address = nullif(p_minted ->> 'contract_address', ''), wallet_address = p_minted ->> 'wallet_address',
      metadata_uri = p_minted ->> 'metadata_uri', image_uri = p_minted ->> 'image_uri',
      attributes = coalesce(p_minted -> 'attributes', '{}'), minted_at = pg_catalog.now(), error_message = null
  where n.id = p_nft_id and n.status = 'minting';
  perform pgmq.delete('mint', p_msg_id);
end;
$$;

-- Worker: a failed attempt. Retryable ones come back after the shared backoff; the last attempt, or
-- a permanent error, leaves the NFT failed with the reason (request_badge_nft tries it again).
create or replace function private.fail_mint(p_msg_id bigint, p_nft_id uuid, p_error text, p_final boolean,
  p_attempt integer)
returns text
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not p_final then
    update public.nfts n set error_message = p_error where n.id = p_nft_id;
    perform pgmq.set_vt('mint', p_msg_id, private.backoff_seconds(p_attempt));
    return 'retry';
  end if;
  update public.nfts n set status = 'failed', error_message = p_error
  where n.id = p_nft_id and n.status in ('pending', 'minting');
  perform pgmq.archive('mint', p_msg_id);
  return 'failed';
end;
$$;

revoke all on function private.is_wallet_address(public.blockchain, text) from public, anon;
grant execute on function private.is_wallet_address(public.blockchain, text) to authenticated, service_role;
revoke all on function public.request_badge_nft(uuid, public.blockchain, text) from public, anon;
grant execute on function public.request_badge_nft(uuid, public.blockchain, text) to authenticated, service_role;
revoke all on function private.begin_mint(uuid), private.complete_mint(bigint, uuid, jsonb),
  private.fail_mint(bigint, uuid, text, boolean, integer), private.note_mint_transaction(uuid, text)
  from public, anon, authenticated;
grant execute on function private.begin_mint(uuid), private.complete_mint(bigint, uuid, jsonb),
  private.fail_mint(bigint, uuid, text, boolean, integer), private.note_mint_transaction(uuid, text) to service_role;
alter publication supabase_realtime add table public.nfts;
