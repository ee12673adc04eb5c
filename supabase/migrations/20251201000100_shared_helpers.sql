-- Helpers every table uses: the updated_at trigger and the caller checks policies call.
create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;
comment on function private.set_updated_at() is 'Trigger: keeps updated_at current on every update.';
revoke all on function private.set_updated_at() from public, anon, authenticated;
