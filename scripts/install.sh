#!/usr/bin/env bash
# Installs what the local stack needs, skipping whatever is already there.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PGVECTOR_SOURCE_SUITE="${PGVECTOR_SOURCE_SUITE:-trixie}"
APT_UPDATED=""

need_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 is missing and installing it needs root: run 'sudo npm run stack -- install'"
}

apt_update_once() {
  if [ -z "$APT_UPDATED" ]; then
    info "apt-get update"
    apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed: check access to the Debian mirrors"
    APT_UPDATED=1
  fi
}

apt_install() {
  need_root "$*"
  apt_update_once
  info "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/tmp/litinkai-apt.log 2>&1 ||
    die "apt-get install $* failed (log: /tmp/litinkai-apt.log)"
}

package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

install_postgres() {
  if [ -z "$(pg_major)" ]; then
    step "Installing PostgreSQL"
    apt_install postgresql postgresql-contrib
  fi
  local major
  major="$(pg_major)"
  local wanted=()
  for pkg in "postgresql-$major-cron" "postgresql-$major-pgtap" pgtap "postgresql-server-dev-$major" ffmpeg espeak-ng fonts-dejavu-core; do
    package_installed "$pkg" || wanted+=("$pkg")
  done
  if [ "${#wanted[@]}" -gt 0 ]; then
    step "Installing Debian packages: ${wanted[*]}"
    apt_install "${wanted[@]}"
  fi
  info "PostgreSQL $major with pg_cron, pgTAP, ffmpeg, espeak-ng: present"
}

extension_dir() {
  printf '%s/extension' "$("$(pg_bin)/pg_config" --sharedir 2>/dev/null || /usr/lib/postgresql/"$(pg_major)"/bin/pg_config --sharedir)"
}

install_pgvector() {
  local major ext_dir
  major="$(pg_major)"
  ext_dir="$(/usr/lib/postgresql/"$major"/bin/pg_config --sharedir)/extension"
  if [ -f "$ext_dir/vector.control" ]; then
    info "pgvector: present"
    return
  fi
  if apt-cache show "postgresql-$major-pgvector" >/dev/null 2>&1; then
    step "Installing pgvector from Debian"
    apt_install "postgresql-$major-pgvector"
    return
  fi
  step "Building pgvector from Debian's source package ($PGVECTOR_SOURCE_SUITE)"
  need_root pgvector
  local sources=/etc/apt/sources.list.d/litinkai-pgvector-src.sources
  if ! apt-cache showsrc pgvector >/dev/null 2>&1 || [ -z "$(apt-cache showsrc pgvector 2>/dev/null)" ]; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\n' "$PGVECTOR_SOURCE_SUITE" >"$sources"
    APT_UPDATED=""
  fi
  package_installed dpkg-dev || apt_install dpkg-dev
  apt_update_once
  local build
  build="$(mktemp -d)"
  (cd "$build" && apt-get source -qq --download-only pgvector >/dev/null 2>&1) || die "could not download the pgvector source package"
  tar -xzf "$build"/pgvector_*.orig.tar.gz -C "$build"
  local src
  src="$(find "$build" -maxdepth 1 -type d -name 'pgvector-*' | head -1)"
  info "make install in $(basename "$src") (about 15 s)"
  # OPTFLAGS="" keeps the build portable (no -march=native).
  make -s -C "$src" PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" OPTFLAGS="" >"$build/build.log" 2>&1 &&
    make -s -C "$src" install PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" >>"$build/build.log" 2>&1 ||
    die "building pgvector failed (log: $build/build.log)"
  rm -rf "$build"
  info "pgvector: built and installed"
}

# The real pgmq where a package provides it; otherwise our pgmq-compatible extension.
install_pgmq() {
  local major ext_dir
  major="$(pg_major)"
  ext_dir="$(/usr/lib/postgresql/"$major"/bin/pg_config --sharedir)/extension"
  if [ -f "$ext_dir/pgmq.control" ] && ! grep -q 'pgmq-compatible' "$ext_dir/pgmq.control"; then
    info "pgmq: real extension present"
    return
  fi
  if ! package_installed "postgresql-$major-pgmq" && apt-cache show "postgresql-$major-pgmq" >/dev/null 2>&1; then
    step "Installing the pgmq extension from Debian"
    apt_install "postgresql-$major-pgmq"
    return
  fi
  local ours="$PROJECT_ROOT/scripts/pgmq"
  local version
  version="$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ours/pgmq.control")"
  if cmp -s "$ours/pgmq.control" "$ext_dir/pgmq.control" && cmp -s "$ours/pgmq.sql" "$ext_dir/pgmq--$version.sql"; then
    info "pgmq: project's pgmq-compatible extension present"
    return
  fi
  need_root pgmq
  step "Installing the project's pgmq-compatible extension (no pgmq package for PostgreSQL $major here)"
  install -m 0644 "$ours/pgmq.control" "$ext_dir/pgmq.control"
  install -m 0644 "$ours/pgmq.sql" "$ext_dir/pgmq--$version.sql"
}

# Hosted loads pg-safeupdate for the client roles; Debian does not package it, so the project's own
# safeupdate-compatible library (scripts/safeupdate) is built against the installed server.
install_safeupdate() {
  local major pg_config libdir src sum
  major="$(pg_major)"
  pg_config="/usr/lib/postgresql/$major/bin/pg_config"
  libdir="$("$pg_config" --pkglibdir)"
  src="$PROJECT_ROOT/scripts/safeupdate"
  sum="$(cat "$src/safeupdate.c" "$src/Makefile" | sha256sum | cut -c1-64)"
  if [ -f "$libdir/safeupdate.so" ] && [ "$(cat "$libdir/safeupdate.litinkai-sha256" 2>/dev/null)" = "$sum" ]; then
    info "safeupdate: project's safeupdate-compatible library present"
    return
  fi
  need_root safeupdate
  package_installed "postgresql-server-dev-$major" || apt_install "postgresql-server-dev-$major"
  step "Building the project's safeupdate-compatible library"
  local build
  build="$(mktemp -d)"
  cp "$src/safeupdate.c" "$src/Makefile" "$build/"
  make -s -C "$build" PG_CONFIG="$pg_config" >"$build/build.log" 2>&1 &&
    make -s -C "$build" install PG_CONFIG="$pg_config" >>"$build/build.log" 2>&1 ||
    die "building safeupdate failed (log: $build/build.log)"
  printf '%s\n' "$sum" >"$libdir/safeupdate.litinkai-sha256"
  rm -rf "$build"
  info "safeupdate: built and installed"
}

main() {
  command -v apt-get >/dev/null || die "this stack needs a Debian-based machine (apt-get not found)"
  install_postgres
  install_pgvector
  install_pgmq
  install_safeupdate
}

main "$@"
