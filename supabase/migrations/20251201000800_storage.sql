-- Storage: books (uploads), covers and media (generated images, audio, video), each private.
-- A user reads and writes only under their own `<user_id>/` folder, with names that stay in it, and
-- writes nothing under a generation's or an audiobook export's folder, nor anything once their account is
-- being deleted.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values
  ('books', 'books', false, 52428800, array['text/plain', 'text/markdown', 'application/pdf', 'application/epub+zip',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/octet-stream']),
  ('covers', 'covers', false, 5242880, array['image/png', 'image/jpeg', 'image/webp']),
  ('media', 'media', false, 524288000, array['image/png', 'image/jpeg', 'image/webp', 'audio/wav', 'audio/mpeg',
    'audio/mp4', 'audio/flac', 'video/mp4']),
  -- Badge icons: public reference images, written only by the backend (seeded from supabase/seed/badges).
  ('badges', 'badges', true, 1048576, array['image/svg+xml', 'image/png']),
  -- NFT images and metadata under their IPFS CIDs: public (anyone may fetch and pin them), backend-written.
  ('nfts', 'nfts', true, 1048576, array['image/svg+xml', 'image/png', 'application/json'])
on conflict (id) do nothing;

create policy "users read files in their own folder" on storage.objects
  for select to authenticated
  using (bucket_id in ('books', 'covers', 'media') and (storage.foldername(name))[1] = (select auth.uid()::text));
-- A generation's files (media/<user_id>/generations/...) are the pipeline's: later stages read them
-- back as their input, so their owner reads them and only the backend writes, replaces or deletes them.
-- An audiobook export's (media/<user_id>/exports/...) likewise: its narration parts are read back to
-- make the file, and the file is what the export row describes.
create policy "users upload files to their own folder, outside generations and exports" on storage.objects
  for insert to authenticated
  with check (bucket_id in ('books', 'covers', 'media') and (storage.foldername(name))[1] = (select auth.uid()::text)
    and not (bucket_id = 'media' and pg_catalog.split_part(name, '/', 2) in ('generations', 'exports'))
    and private.is_safe_object_name(name) and (select private.account_is_open()));
create policy "users replace files in their own folder, outside generations and exports" on storage.objects
  for update to authenticated
  using (bucket_id in ('books', 'covers', 'media') and (storage.foldername(name))[1] = (select auth.uid()::text)
    and not (bucket_id = 'media' and pg_catalog.split_part(name, '/', 2) in ('generations', 'exports')))
  with check (bucket_id in ('books', 'covers', 'media') and (storage.foldername(name))[1] = (select auth.uid()::text)
    and not (bucket_id = 'media' and pg_catalog.split_part(name, '/', 2) in ('generations', 'exports'))
    and private.is_safe_object_name(name) and (select private.account_is_open()));
create policy "users delete files in their own folder, outside generations and exports" on storage.objects
  for delete to authenticated
  using (bucket_id in ('books', 'covers', 'media') and (storage.foldername(name))[1] = (select auth.uid()::text)
    and not (bucket_id = 'media' and pg_catalog.split_part(name, '/', 2) in ('generations', 'exports')));
