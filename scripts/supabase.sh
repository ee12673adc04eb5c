#!/usr/bin/env bash
# npm run supabase -- <args>: the project's pinned Supabase CLI.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
supabase_cli "$@"
