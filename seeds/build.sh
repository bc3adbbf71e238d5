#!/usr/bin/env bash
# seeds/build.sh [MODEL...]: cross-compiles each seed server (all of them by default) with Debian's
# mingw-w64 (package gcc-mingw-w64-x86-64-win32) to target/seeds/MODEL.exe, when the .exe is missing or
# older than its source or seed.h. Prints nothing when everything is up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

MODELS=(select asyncselect eventselect overlapped-event overlapped-routine iocp)
CC=${SEED_CC:-x86_64-w64-mingw32-gcc}
OUT=target/seeds

if ! command -v "$CC" >/dev/null 2>&1; then
  echo "seeds/build.sh: $CC not found; install it with: apt-get install gcc-mingw-w64-x86-64-win32" >&2
  exit 1
fi
(( $# )) || set -- "${MODELS[@]}"
mkdir -p "$OUT"
for model in "$@"; do
  if [[ ! " ${MODELS[*]} " == *" $model "* ]]; then
    echo "seeds/build.sh: unknown model '$model'; one of: ${MODELS[*]}" >&2
    exit 2
  fi
  exe=$OUT/$model.exe
  if [[ ! -f $exe || seeds/$model.c -nt $exe || seeds/seed.h -nt $exe ]]; then
    echo "seeds/build.sh: building $exe" >&2
    "$CC" -std=c11 -O2 -Wall -Wextra -Wno-unused-parameter -o "$exe.tmp" "seeds/$model.c" \
      -lws2_32 -lmswsock -luser32
    mv "$exe.tmp" "$exe" # never a half-written .exe for a concurrent run to start
  fi
done
