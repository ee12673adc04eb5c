-- pgmq-compatible message queues: the subset of pgmq's API this project uses,
-- with pgmq's names, signatures and semantics.
\echo Use "create extension pgmq" to load this file. \quit

create table pgmq.meta (
  queue_name varchar unique not null,
  is_partitioned boolean not null default false,
  is_unlogged boolean not null default false,
  created_at timestamptz not null default now()
);
select pg_catalog.pg_extension_config_dump('pgmq.meta', '');

create type pgmq.message_record as (
  msg_id bigint,
  read_ct integer,
  enqueued_at timestamptz,
  vt timestamptz,
  message jsonb,
  headers jsonb
);

create type pgmq.queue_record as (
  queue_name varchar,
  is_partitioned boolean,
  is_unlogged boolean,
  created_at timestamptz
);

create type pgmq.metrics_result as (
  queue_name text,
  queue_length bigint,
  newest_msg_age_sec integer,
  oldest_msg_age_sec integer,
  total_messages bigint,
  scrape_time timestamptz,
  queue_visible_length bigint
);

-- Table name for a queue: q_<name> for messages, a_<name> for the archive.
create function pgmq.format_table_name(queue_name text, prefix text)
returns text
language plpgsql immutable
as $$
begin
  if queue_name !~ '^[A-Za-z0-9_]+$' then
    raise exception 'queue name "%" is invalid: use letters, digits and underscores', queue_name
      using errcode = '22023';
  end if;
  if length(queue_name) > 47 then
    raise exception 'queue name "%" is too long: at most 47 characters', queue_name using errcode = '22023';
  end if;
  return lower(prefix || '_' || queue_name);
end;
$$;

create function pgmq._queue_table(queue_name text, prefix text)
returns text
language plpgsql stable
as $$
declare
  table_name text := pgmq.format_table_name(queue_name, prefix);
begin
  if to_regclass('pgmq.' || quote_ident(table_name)) is null then
    raise exception 'queue "%" does not exist', queue_name using errcode = '42P01';
  end if;
  return table_name;
end;
$$;

create function pgmq.create(queue_name text)
returns void
language plpgsql
as $$
declare
  q text := pgmq.format_table_name(queue_name, 'q');
  a text := pgmq.format_table_name(queue_name, 'a');
begin
  perform pg_advisory_xact_lock(hashtext('pgmq.queue_' || queue_name));
  execute format($sql$
    create table if not exists pgmq.%I (
      msg_id bigint primary key generated always as identity,
      read_ct integer not null default 0,
      enqueued_at timestamptz not null default now(),
      vt timestamptz not null,
      message jsonb,
      headers jsonb
    )$sql$, q);
  execute format('create index if not exists %I on pgmq.%I (vt asc)', q || '_vt_idx', q);
  execute format($sql$
    create table if not exists pgmq.%I (
      msg_id bigint primary key,
      read_ct integer not null default 0,
      enqueued_at timestamptz not null default now(),
      archived_at timestamptz not null default now(),
      vt timestamptz not null,
      message jsonb,
      headers jsonb
    )$sql$, a);
  execute format('create index if not exists %I on pgmq.%I (archived_at)', 'archived_at_idx_' || queue_name, a);
  insert into pgmq.meta (queue_name) values ("create".queue_name) on conflict do nothing;
end;
$$;

create function pgmq.drop_queue(queue_name text)
returns boolean
language plpgsql
as $$
begin
  perform pg_advisory_xact_lock(hashtext('pgmq.queue_' || queue_name));
  if not exists (select 1 from pgmq.meta m where m.queue_name = drop_queue.queue_name) then
    raise notice 'pgmq queue `%` does not exist', queue_name;
    return false;
  end if;
  execute format('drop table if exists pgmq.%I', pgmq.format_table_name(queue_name, 'q'));
  execute format('drop table if exists pgmq.%I', pgmq.format_table_name(queue_name, 'a'));
  delete from pgmq.meta m where m.queue_name = drop_queue.queue_name;
  return true;
end;
$$;

-- send: the one implementation; the overloads below fill in defaults.
create function pgmq.send(queue_name text, msg jsonb, headers jsonb, delay timestamptz)
returns setof bigint
language plpgsql
as $$
begin
  return query execute format(
    'insert into pgmq.%I (vt, message, headers) values ($1, $2, $3) returning msg_id',
    pgmq._queue_table(queue_name, 'q')
  ) using delay, msg, headers;
end;
$$;

create function pgmq.send(queue_name text, msg jsonb)
returns setof bigint language sql
as $$ select * from pgmq.send(queue_name, msg, null::jsonb, clock_timestamp()) $$;

create function pgmq.send(queue_name text, msg jsonb, delay integer)
returns setof bigint language sql
as $$ select * from pgmq.send(queue_name, msg, null::jsonb, clock_timestamp() + make_interval(secs => delay)) $$;

create function pgmq.send(queue_name text, msg jsonb, delay timestamptz)
returns setof bigint language sql
as $$ select * from pgmq.send(queue_name, msg, null::jsonb, delay) $$;

create function pgmq.send(queue_name text, msg jsonb, headers jsonb)
returns setof bigint language sql
as $$ select * from pgmq.send(queue_name, msg, headers, clock_timestamp()) $$;

create function pgmq.send(queue_name text, msg jsonb, headers jsonb, delay integer)
returns setof bigint language sql
as $$ select * from pgmq.send(queue_name, msg, headers, clock_timestamp() + make_interval(secs => delay)) $$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay timestamptz)
returns setof bigint
language plpgsql
as $$
begin
  if headers is not null and cardinality(headers) <> cardinality(msgs) then
    raise exception 'send_batch: % messages but % headers', cardinality(msgs), cardinality(headers)
      using errcode = '22023';
  end if;
  return query execute format(
    $sql$
      insert into pgmq.%I (vt, message, headers)
      select $1, m.message, h.header
      from unnest($2) with ordinality as m(message, ord)
      left join unnest($3) with ordinality as h(header, ord) using (ord)
      order by m.ord
      returning msg_id
    $sql$,
    pgmq._queue_table(queue_name, 'q')
  ) using delay, msgs, headers;
end;
$$;

create function pgmq.send_batch(queue_name text, msgs jsonb[])
returns setof bigint language sql
as $$ select * from pgmq.send_batch(queue_name, msgs, null::jsonb[], clock_timestamp()) $$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], delay integer)
returns setof bigint language sql
as $$ select * from pgmq.send_batch(queue_name, msgs, null::jsonb[], clock_timestamp() + make_interval(secs => delay)) $$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], delay timestamptz)
returns setof bigint language sql
as $$ select * from pgmq.send_batch(queue_name, msgs, null::jsonb[], delay) $$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[])
returns setof bigint language sql
as $$ select * from pgmq.send_batch(queue_name, msgs, headers, clock_timestamp()) $$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay integer)
returns setof bigint language sql
as $$ select * from pgmq.send_batch(queue_name, msgs, headers, clock_timestamp() + make_interval(secs => delay)) $$;

-- read: the oldest visible messages, hidden for vt seconds; concurrent readers skip locked rows.
create function pgmq.read(queue_name text, vt integer, qty integer, conditional jsonb default '{}')
returns setof pgmq.message_record
language plpgsql
as $$
declare
  q text := pgmq._queue_table(queue_name, 'q');
begin
  return query execute format(
    $sql$
      with visible as (
        select msg_id
        from pgmq.%I
        where vt <= clock_timestamp()
          and ($3 = '{}'::jsonb or message @> $3)
        order by msg_id
        limit $1
        for update skip locked
      )
      update pgmq.%I m
      set vt = clock_timestamp() + $2, read_ct = m.read_ct + 1
      from visible
      where m.msg_id = visible.msg_id
      returning m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message, m.headers
    $sql$, q, q
  ) using qty, make_interval(secs => vt), coalesce(conditional, '{}'::jsonb);
end;
$$;

create function pgmq.read_with_poll(
  queue_name text,
  vt integer,
  qty integer,
  max_poll_seconds integer default 5,
  poll_interval_ms integer default 100,
  conditional jsonb default '{}'
)
returns setof pgmq.message_record
language plpgsql
as $$
declare
  stop_at timestamptz := clock_timestamp() + make_interval(secs => max_poll_seconds);
  found_count integer;
begin
  loop
    return query select * from pgmq.read(queue_name, vt, qty, conditional);
    get diagnostics found_count = row_count;
    if found_count > 0 or clock_timestamp() >= stop_at then
      return;
    end if;
    perform pg_sleep(poll_interval_ms / 1000.0);
  end loop;
end;
$$;

-- pop: read and delete in one step.
create function pgmq.pop(queue_name text)
returns setof pgmq.message_record
language plpgsql
as $$
declare
  q text := pgmq._queue_table(queue_name, 'q');
begin
  return query execute format(
    $sql$
      with oldest as (
        select msg_id from pgmq.%I
        where vt <= clock_timestamp()
        order by msg_id
        limit 1
        for update skip locked
      )
      delete from pgmq.%I m
      using oldest
      where m.msg_id = oldest.msg_id
      returning m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message, m.headers
    $sql$, q, q
  );
end;
$$;

create function pgmq.delete(queue_name text, msg_id bigint)
returns boolean
language plpgsql
as $$
declare
  deleted bigint;
begin
  execute format('delete from pgmq.%I where msg_id = $1 returning msg_id', pgmq._queue_table(queue_name, 'q'))
    into deleted using msg_id;
  return deleted is not null;
end;
$$;

create function pgmq.delete(queue_name text, msg_ids bigint[])
returns setof bigint
language plpgsql
as $$
begin
  return query execute format(
    'delete from pgmq.%I where msg_id = any($1) returning msg_id', pgmq._queue_table(queue_name, 'q')
  ) using msg_ids;
end;
$$;

create function pgmq.archive(queue_name text, msg_ids bigint[])
returns setof bigint
language plpgsql
as $$
begin
  return query execute format(
    $sql$
      with moved as (
        delete from pgmq.%I where msg_id = any($1)
        returning msg_id, read_ct, enqueued_at, vt, message, headers
      )
      insert into pgmq.%I (msg_id, read_ct, enqueued_at, vt, message, headers)
      select msg_id, read_ct, enqueued_at, vt, message, headers from moved
      returning msg_id
    $sql$,
    pgmq._queue_table(queue_name, 'q'), pgmq._queue_table(queue_name, 'a')
  ) using msg_ids;
end;
$$;

create function pgmq.archive(queue_name text, msg_id bigint)
returns boolean
language sql
as $$ select exists (select 1 from pgmq.archive(queue_name, array[msg_id])) $$;

-- set_vt: make a message visible vt seconds from now (clock time, not transaction time).
create function pgmq.set_vt(queue_name text, msg_id bigint, vt integer)
returns setof pgmq.message_record
language plpgsql
as $$
begin
  return query execute format(
    $sql$
      update pgmq.%I set vt = clock_timestamp() + $2
      where msg_id = $1
      returning msg_id, read_ct, enqueued_at, vt, message, headers
    $sql$, pgmq._queue_table(queue_name, 'q')
  ) using msg_id, make_interval(secs => vt);
end;
$$;

create function pgmq.purge_queue(queue_name text)
returns bigint
language plpgsql
as $$
declare
  purged bigint;
begin
  execute format('with gone as (delete from pgmq.%I returning 1) select count(*) from gone',
    pgmq._queue_table(queue_name, 'q')) into purged;
  return purged;
end;
$$;

create function pgmq.metrics(queue_name text)
returns pgmq.metrics_result
language plpgsql
as $$
declare
  q text := pgmq._queue_table(queue_name, 'q');
  result pgmq.metrics_result;
begin
  execute format(
    $sql$
      select $1::text,
        count(*),
        extract(epoch from now() - max(enqueued_at))::integer,
        extract(epoch from now() - min(enqueued_at))::integer,
        (select case when is_called then last_value else 0 end from pgmq.%I),
        now(),
        count(*) filter (where vt <= now())
      from pgmq.%I
    $sql$, q || '_msg_id_seq', q
  ) into result using queue_name;
  return result;
end;
$$;

create function pgmq.metrics_all()
returns setof pgmq.metrics_result
language sql
as $$ select (pgmq.metrics(m.queue_name)).* from pgmq.meta m order by m.queue_name $$;

create function pgmq.list_queues()
returns setof pgmq.queue_record
language sql
as $$ select queue_name, is_partitioned, is_unlogged, created_at from pgmq.meta order by queue_name $$;
