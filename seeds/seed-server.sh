#!/usr/bin/env bash
# seeds/seed-server.sh MODEL --port PORT [--buffer-size BYTES]: builds the seed server MODEL if needed (seeds/build.sh) and
# runs it under Wine, in the foreground, until it is stopped (Ctrl-C). ./run.sh seed-server calls this.
#
# The Wine prefix (Wine's C: drive and registry, ~700 MB) is target/seeds/wineprefix unless
# LOOMECHO_SEED_WINEPREFIX names another; creating it takes 12-36 s here (seeds/README.md), once.
set -euo pipefail
cd "$(dirname "$0")/.."

MODELS="select asyncselect eventselect overlapped-event overlapped-routine iocp"
usage() {
  echo "usage: ./run.sh seed-server MODEL --port PORT [--buffer-size BYTES]   (MODEL: ${MODELS// /, }; PORT 0 picks a free port; BYTES 1..1048576, default 1024)" >&2
}
if (( $# == 0 )) || [[ " $MODELS " != *" $1 "* ]]; then
  echo "seed-server: ${1:+unknown model '$1'}${1:-a MODEL is required}" >&2
  usage
  exit 2
fi
model=$1
shift

wine=
for candidate in /usr/lib/wine/wine64 "$(command -v wine64 || true)" "$(command -v wine || true)"; do
  if [[ -n $candidate && -x $candidate ]]; then wine=$candidate; break; fi
done
if [[ -z $wine ]]; then
  echo "seed-server: Wine not found; install it with: apt-get install wine64" >&2
  exit 1
fi
seeds/build.sh "$model"

export WINEPREFIX=${LOOMECHO_SEED_WINEPREFIX:-$PWD/target/seeds/wineprefix}
export WINEDEBUG=-all                 # no Wine diagnostics mixed into the server's lines
export WINEDLLOVERRIDES="mscoree,mshtml=" # a new prefix does not offer to install Mono and Gecko
if [[ ! -d $WINEPREFIX ]]; then
  echo "seed-server: creating the Wine prefix $WINEPREFIX (once; 12-36 s on the development machine)" >&2
fi
exec "$wine" "target/seeds/$model.exe" "$@"
