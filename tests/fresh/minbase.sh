#!/usr/bin/env bash
# minbase.sh DEST MIRROR - a bare Debian 12 root (debootstrap --variant=minbase
# bookworm from MIRROR) in DEST. The fresh-Debian check and the image runtime
# test both start from one; the first run of the day makes it with debootstrap
# and keeps a tarball of the result, later ones unpack that (seconds instead
# of half a minute). HLC_MINBASE_CACHE=off always runs debootstrap.
set -euo pipefail
dest=$1 mirror=$2
cache_dir=${HLC_MINBASE_CACHE:-/var/tmp/hlc-minbase}
key=$(printf '%s' "$mirror" | sha256sum | cut -c1-16)
tarball="$cache_dir/bookworm-$key.tar"
if [ "$cache_dir" != off ] && [ -f "$tarball" ] && [ -n "$(find "$tarball" -mmin -1440)" ]; then
  mkdir -p "$dest"
  tar -C "$dest" -xpf "$tarball"
  echo "minbase: unpacked the root debootstrap made today ($tarball)"
  exit 0
fi
debootstrap --variant=minbase bookworm "$dest" "$mirror"
if [ "$cache_dir" != off ]; then
  mkdir -p "$cache_dir"
  tmp=$(mktemp "$cache_dir/.bookworm-$key.XXXXXX")
  tar -C "$dest" -cpf "$tmp" . && mv "$tmp" "$tarball" || rm -f "$tmp"
fi
