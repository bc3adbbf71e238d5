#!/usr/bin/env bash
# loom-echo launcher.
#   ./run.sh                 start the server on 127.0.0.1:7007 (engine virtual), in the foreground
#   ./run.sh test            run the whole test suite
#   ./run.sh bench [--quick] benchmark every engine against Netty epoll -> bench/results/latest.md
#   ./run.sh image           a self-contained runtime (jlink) in target/image: target/image/bin/loom-echo
#   ./run.sh ARGS...         run the jar with ARGS, e.g. ./run.sh serve --port 9000 --engine selector
# Finds a JDK 25+ by itself and (re)builds target/loom-echo.jar when it is missing or older than the sources.
set -euo pipefail
cd "$(dirname "$0")"

TEMURIN_25=/usr/lib/jvm/temurin-25-jdk-amd64

java_major() { # prints the major version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

find_java_home() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" && "$(java_major "$JAVA_HOME/bin/java")" -ge 25 ]]; then
    echo "$JAVA_HOME"; return
  fi
  if [[ -x "$TEMURIN_25/bin/java" ]]; then
    echo "$TEMURIN_25"; return
  fi
  if command -v java >/dev/null 2>&1; then
    local bin; bin=$(readlink -f "$(command -v java)")
    if [[ "$(java_major "$bin")" -ge 25 ]]; then
      dirname "$(dirname "$bin")"; return
    fi
  fi
  echo "run.sh: loom-echo needs a JDK 25 or newer. Set JAVA_HOME to one, or install it at $TEMURIN_25." >&2
  echo "run.sh: found: JAVA_HOME=${JAVA_HOME:-<unset>}, java on PATH: $(command -v java || echo none)" >&2
  exit 1
}

JAVA_HOME=$(find_java_home)
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
JAR=target/loom-echo.jar

need_maven() {
  if ! command -v mvn >/dev/null 2>&1; then
    echo "run.sh: Maven (mvn) is needed to build loom-echo; on Debian: apt-get install -y maven" >&2
    exit 1
  fi
}

build_if_stale() {
  if [[ ! -f "$JAR" ]] || [[ -n "$(find pom.xml src/main -newer "$JAR" -print -quit)" ]]; then
    need_maven
    echo "run.sh: building $JAR ..." >&2
    mvn -B -q -DskipTests package >&2
    touch "$JAR" # shade keeps an old timestamp; mark the jar as fresh so the next run does not rebuild
  fi
}

# target/image: a jlink runtime with only the modules the jar needs, the jar, and a launcher.
make_image() {
  local image=target/image modules
  modules=$("$JAVA_HOME/bin/jdeps" --multi-release 25 --print-module-deps --ignore-missing-deps "$JAR")
  # Gson (the control API's JSON) only optionally uses java.sql, checking for it at run time; leaving
  # it out keeps it and the java.xml it pulls in (~11 MB) out of the image.
  modules=$(tr ',' '\n' <<< "$modules" | grep -vx java.sql | paste -sd, -)
  rm -rf "$image"
  "$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --output "$image"
  mkdir -p "$image/lib"
  cp "$JAR" "$image/lib/loom-echo.jar"
  cat > "$image/bin/loom-echo" <<'LAUNCHER'
#!/bin/sh
# loom-echo on its own runtime: no JDK needed. Extra JVM options go in JAVA_OPTS.
dir=$(cd "$(dirname "$0")" && pwd)
exec "$dir/java" --enable-preview $JAVA_OPTS -jar "$dir/../lib/loom-echo.jar" "$@"
LAUNCHER
  chmod +x "$image/bin/loom-echo"
  echo "run.sh: built $image ($(du -sh "$image" | cut -f1), modules $modules): $image/bin/loom-echo serve" >&2
}

case "${1:-}" in
  test)
    shift
    need_maven
    exec mvn -B verify "$@"
    ;;
  bench)
    shift
    build_if_stale
    need_maven
    echo "run.sh: building bench/target/loom-echo-bench.jar ..." >&2
    mvn -B -q -f bench/pom.xml package >&2
    command -v taskset >/dev/null 2>&1 || { echo "run.sh: bench needs taskset (util-linux)" >&2; exit 1; }
    exec "$JAVA" -jar bench/target/loom-echo-bench.jar "$@"
    ;;
  image)
    build_if_stale
    make_image
    ;;
  "")
    build_if_stale
    exec "$JAVA" --enable-preview -jar "$JAR" serve
    ;;
  *)
    build_if_stale
    exec "$JAVA" --enable-preview -jar "$JAR" "$@"
    ;;
esac
