#!/usr/bin/env bash
# A Debian trixie root file system, prepared once and reused: the JDK matrix's chroot (./run.sh test-jdks)
# and a local base image for containers (tar -C DIR -c . | podman import - NAME).
#
#   deploy/debian-rootfs.sh DIR [PACKAGE...]
#
# PACKAGE is installed from trixie; PACKAGE/sid from sid (e.g. openjdk-27-jdk-headless/sid), with only
# the dependencies trixie cannot satisfy taken from sid too. When DIR already holds a rootfs this script
# made with the same packages it returns at once. A rootfs is built in DIR.partial and renamed to DIR
# only when complete, so a failed or interrupted run leaves no half-made DIR behind. Needs root and
# debootstrap; downloads from the Debian mirror apt already uses (LOOM_ECHO_DEBIAN_MIRROR overrides it).
#
# The bare minbase (debootstrap's part, before any PACKAGE) is kept as a tarball, per mirror, in
# target/debian-minbase (LOOM_ECHO_MINBASE_CACHE overrides the folder): the next rootfs, with other
# packages or in another DIR (test-jdks' chroot, then test-image's base), starts from a copy of it
# instead of debootstrapping again. Either makes the tarball if it is missing; neither needs the other.
set -euo pipefail

usage() { echo "usage: $0 DIR [PACKAGE | PACKAGE/sid ...]" >&2; exit 2; }
[[ $# -ge 1 && "$1" != -* ]] || usage
dir=$(realpath -m "$1"); shift
packages=("$@")
marker="$dir/.loom-echo-rootfs" # what was asked for, one line: written last, so it marks a complete rootfs
wanted="trixie ${packages[*]}"

if [[ -f "$marker" && "$(cat "$marker")" == "$wanted" ]]; then
  exit 0
fi
[[ $(id -u) -eq 0 ]] || { echo "$0: needs root (debootstrap, chroot, mount)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "$0: needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }

# The first Debian archive in the host's apt sources (one-line or deb822 format), else deb.debian.org.
host_mirror() {
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } \
    | sed -n -e 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\/debian\/\{0,1\}\) .*/\2/p' -e 's/^URIs: *\([^ ]*\/debian\/\{0,1\}\)$/\1/p' \
    | head -n 1
}
mirror=${LOOM_ECHO_DEBIAN_MIRROR:-$(host_mirror)}
mirror=${mirror:-http://deb.debian.org/debian}
minbase_dir=${LOOM_ECHO_MINBASE_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/target/debian-minbase}
# One tarball per mirror (another mirror may carry other package versions); GNU tar, run as root, keeps
# owners (by number: the host's names are not the rootfs's), modes, device nodes, hard links and file
# capabilities as debootstrap left them.
minbase="$minbase_dir/trixie-minbase-$(sha256sum <<< "$mirror" | cut -c1-12).tar"
tar_options=(--numeric-owner --xattrs --xattrs-include=security.capability)

work="$dir.partial"
proc_mounted=""
partial="" # the minbase tarball being written, if one is
# A JVM a postinst started may take a moment to exit; after 5 s detach /proc lazily instead of failing.
unmount_proc() {
  local attempt
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    umount "$work/proc" 2>/dev/null && return
    sleep 0.5
  done
  umount -l "$work/proc"
}
cleanup() {
  if [[ -n "$proc_mounted" ]]; then
    unmount_proc
  fi
  [[ -z "$partial" ]] || rm -f "$partial" # a run ended mid-tar; gone already once renamed
}
trap cleanup EXIT

if mountpoint -q "$dir/proc" 2>/dev/null || mountpoint -q "$work/proc" 2>/dev/null; then
  echo "$0: $dir is in use (its /proc is mounted); unmount it first" >&2
  exit 1
fi
# A previous complete rootfs with other packages is a base to add to; anything else starts afresh.
rm -rf "$work"
mkdir -p "$(dirname "$dir")"
if [[ -f "$marker" ]]; then
  mv "$dir" "$work"
elif [[ -f "$minbase" ]]; then
  rm -rf "$dir"
  echo "$0: unpacking the trixie minbase $minbase into $dir ..." >&2
  mkdir "$work"
  tar -C "$work" "${tar_options[@]}" -xpf "$minbase"
else
  rm -rf "$dir"
  echo "$0: debootstrap trixie from $mirror into $dir ..." >&2
  timeout 900 debootstrap --variant=minbase trixie "$work" "$mirror" >"$work.log" 2>&1 \
    || { echo "$0: debootstrap failed; its log: $work.log" >&2; tail -n 20 "$work.log" >&2; exit 1; }
  rm -f "$work.log"
  # Kept before any package goes in, for the next rootfs; written aside and renamed, so never half a tarball.
  # Aside under a name of its own (mktemp): two runs at once (other rootfs folders) would otherwise write one
  # file, and rename a mix of both. Only a speed-up: a failure here (a full disk) is said and the rootfs made.
  if mkdir -p "$minbase_dir" && partial=$(mktemp "$minbase.XXXXXX.partial") \
      && tar -C "$work" "${tar_options[@]}" -cf "$partial" . && chmod 644 "$partial" && mv "$partial" "$minbase"; then
    echo "$0: kept the minbase in $minbase ($(du -h "$minbase" | cut -f1))" >&2
  else
    [[ -z "$partial" ]] || rm -f "$partial" # a full disk: room for the rootfs matters more
    echo "$0: could not keep the minbase in $minbase; the next rootfs will debootstrap again" >&2
  fi
fi

sid=false
for package in "${packages[@]}"; do [[ "$package" == */sid ]] && sid=true; done
{
  echo "deb $mirror trixie main"
  if $sid; then echo "deb $mirror sid main"; fi
} >"$work/etc/apt/sources.list"
# trixie wins unless a package is asked for from sid by name.
echo 'APT::Default-Release "trixie";' >"$work/etc/apt/apt.conf.d/50loom-echo-default-release"
# sid's Release file on a snapshot mirror is past its Valid-Until date.
echo 'Acquire::Check-Valid-Until "false";' >"$work/etc/apt/apt.conf.d/50loom-echo-valid-until"
cp /etc/resolv.conf "$work/etc/resolv.conf"

if (( ${#packages[@]} )); then
  # Java's postinst scripts (ca-certificates-java) start a JVM, which reads /proc.
  mount -t proc proc "$work/proc"
  proc_mounted=yes
  echo "$0: installing ${packages[*]} ..." >&2
  in_root() { timeout 900 chroot "$work" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
  in_root apt-get -q update >"$work.log" 2>&1 \
    && in_root apt-get -q -y --no-install-recommends install "${packages[@]}" >>"$work.log" 2>&1 \
    || { echo "$0: apt-get failed; its log: $work.log" >&2; tail -n 20 "$work.log" >&2; exit 1; }
  in_root apt-get clean
  rm -f "$work.log"
  unmount_proc
  proc_mounted=""
fi

echo "$wanted" >"$work/.loom-echo-rootfs"
mv "$work" "$dir"
