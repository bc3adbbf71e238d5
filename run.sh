#!/usr/bin/env bash
# loom-echo launcher.
#   ./run.sh                 start the server on 127.0.0.1:7007 (engine virtual), in the foreground
#   ./run.sh test            run the whole test suite
#   ./run.sh test-jdks       the jar on JDK 21, 26, 27 (Debian, in a trixie chroot) and this host's JDK: one line each
#   ./run.sh bench [--quick] benchmark every engine against Netty epoll -> bench/results/latest.md
#                            (--jdk 21|26|27: servers on that JDK of the test-jdks chroot; see bench/NOTES.md)
#   ./run.sh soak [--engine E|all] [--duration 60s] [--nmt]   mixed-abuse soak; exit 1 on a wrong echo or a leak
#   ./run.sh image           a self-contained runtime (jlink) in target/image: target/image/bin/loom-echo
#   ./run.sh test-image      build the container image (Dockerfile) and run it under podman (deploy/test-image.sh)
#   ./run.sh install         mvn install with the JDK found here: dev.loomecho:loom-echo for your own tests
#   ./run.sh seed-server MODEL --port PORT [--buffer-size BYTES]
#                            a seed post's Winsock server (seeds/MODEL.c), built with mingw-w64, run under Wine
#   ./run.sh lab [--quick]   the teaching lab (docs/LEARNING.md): platform vs virtual threads, the seeds, pinning
#   ./run.sh docs            rewrite the code excerpts and thread-dump line numbers in the docs from the sources
#   ./run.sh ARGS...         run the jar with ARGS, e.g. ./run.sh serve --port 9000 --engine selector
# Finds a JDK 21+ by itself, builds with Maven (or ./mvnw, which fetches Maven, when mvn is missing), and
# (re)builds target/loom-echo.jar when it is missing or older than the sources.
set -euo pipefail
cd "$(dirname "$0")"

if [[ "${1:-}" == seed-server ]]; then # C and Wine, no Java: see seeds/README.md
  shift
  exec seeds/seed-server.sh "$@"
fi

REQUIRED_JAVA=21
TEMURIN_25=/usr/lib/jvm/temurin-25-jdk-amd64

java_major() { # prints the feature version of the java binary $1 (8 for 1.8), or nothing
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \(1\.\)\{0,1\}\([0-9]*\).*/\2/p'
}

is_recent_java() { # $1: a java binary; true if it runs and is $REQUIRED_JAVA or newer
  local major
  [[ -x "$1" ]] && major=$(java_major "$1") && [[ -n "$major" && "$major" -ge $REQUIRED_JAVA ]]
}

find_java_home() {
  if [[ -n "${JAVA_HOME:-}" ]] && is_recent_java "$JAVA_HOME/bin/java"; then
    echo "$JAVA_HOME"; return
  fi
  if [[ -n "${JAVA_HOME:-}" ]]; then
    echo "run.sh: JAVA_HOME=$JAVA_HOME is not a Java $REQUIRED_JAVA+; looking further" >&2
  fi
  if is_recent_java "$TEMURIN_25/bin/java"; then
    echo "$TEMURIN_25"; return
  fi
  if command -v java >/dev/null 2>&1; then
    local bin; bin=$(readlink -f "$(command -v java)")
    if is_recent_java "$bin"; then
      dirname "$(dirname "$bin")"; return
    fi
  fi
  local path_java; path_java=$(command -v java || true)
  echo "run.sh: loom-echo needs a JDK $REQUIRED_JAVA or newer. Set JAVA_HOME to one, or install one at $TEMURIN_25." >&2
  echo "run.sh: found: JAVA_HOME=${JAVA_HOME:-<unset>}, java on PATH: ${path_java:-none}${path_java:+ (Java $(java_major "$path_java"))}" >&2
  exit 1
}

JAVA_HOME=$(find_java_home)
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
JAVA_MAJOR=$(java_major "$JAVA")
JAR=target/loom-echo.jar

maven_command() { # mvn if installed, else the Maven Wrapper, which downloads a pinned Maven from Maven Central once
  if command -v mvn >/dev/null 2>&1; then echo mvn; else echo ./mvnw; fi
}
maven() {
  "$(maven_command)" "$@"
}

jar_property() { # prints property $1 of the loom-echo.properties inside $JAR (empty if absent)
  local properties
  if command -v unzip >/dev/null 2>&1; then
    properties=$(unzip -p "$JAR" loom-echo.properties 2>/dev/null || true)
  else
    local dir; dir=$(mktemp -d)
    properties=$(cd "$dir" && "$JAVA_HOME/bin/jar" xf "$OLDPWD/$JAR" loom-echo.properties 2>/dev/null \
      && cat loom-echo.properties || true)
    rm -rf "$dir"
  fi
  sed -n "s/^$1=\([0-9A-Za-z.-]*\).*/\1/p" <<<"$properties"
}

# The jar is stale when missing, older than the sources, or built by another Java release (which
# decides whether it holds the StructuredTaskScope supervisor, compiled only by JDK 25).
jar_is_stale() {
  [[ ! -f "$JAR" ]] || [[ -n "$(find pom.xml src/main -newer "$JAR" -print -quit)" ]] \
    || [[ "$(jar_property build.release)" != "$JAVA_MAJOR" ]]
}

build_if_stale() {
  jar_is_stale || return 0
  # Several run.sh started at once (`./run.sh serve & ./run.sh load &` on a fresh clone) build once: the
  # others wait for the lock, then find the jar fresh. Two Maven builds in one target/ would clash.
  mkdir -p target
  if command -v flock >/dev/null 2>&1; then
    exec 9>>target/.run-sh-build.lock
    flock 9
  fi
  if jar_is_stale; then
    if [[ ! -x "$JAVA_HOME/bin/javac" ]]; then
      echo "run.sh: $JAVA_HOME is a Java runtime without javac; building loom-echo needs a JDK $REQUIRED_JAVA+" >&2
      exit 1
    fi
    echo "run.sh: building $JAR with Java $JAVA_MAJOR ..." >&2
    # In the background, waited for: a SIGTERM or Ctrl-C to run.sh (`kill $!` after `./run.sh serve &`)
    # then stops the build too. In the foreground, bash would die at once and leave Maven building on,
    # holding the lock, with no one to run the jar. SIGTERM for both: a background job ignores SIGINT.
    # (mvn and mvnw exec Maven's JVM, so the job is that JVM.) The traps are set before the fork, so no
    # signal finds Maven started and no trap for it; they stop whatever job there is then (none before
    # the fork, only the build after it), hence jobs -p rather than $! or a variable set after the fork.
    local mvn build status=0
    mvn=$(maven_command)
    trap 'kill -TERM $(jobs -p) 2>/dev/null; wait; exit 143' TERM
    trap 'kill -TERM $(jobs -p) 2>/dev/null; wait; exit 130' INT
    "$mvn" -B -q -DskipTests package >&2 &
    build=$!
    wait "$build" || status=$?
    trap - TERM INT
    (( status == 0 )) || exit "$status"
    touch "$JAR" # shade keeps an old timestamp; mark the jar as fresh so the next run does not rebuild
  fi
  if command -v flock >/dev/null 2>&1; then
    exec 9>&- # unlocks; the JVM run.sh becomes must not hold the lock
  fi
}

# --enable-preview only for the release the jar's StructuredTaskScope supervisor was compiled for: only
# that release, started with the flag, can load it. Any other Java runs the jar without the flag.
java_options() { # what to pass to $JAVA before -jar
  if [[ "$(jar_property preview.release)" == "$JAVA_MAJOR" ]]; then
    echo "--enable-preview"
  fi
}

# A server's JVM starts with a 16 MiB heap instead of G1's default of 1/64 of RAM (384 MiB on 24 GiB). The
# echo's live heap is a few MiB, so with the default one young GC came every ~25 s and eden grew into the
# whole initial heap: the RSS rose ~200 MiB under load and stayed there, unused (bench/results/soak.md).
# Started small, young GCs of ~2 ms come every ~2 s and the RSS stays within ~15 MiB of its start; the
# heap still grows, up to the default maximum, when connections need it. The bench and the lab leave it
# out: they measure the JVM as the JDK configures it.
server_options() {
  echo "$(java_options) -Xms16m"
}

# target/image: a jlink runtime with only the modules the jar needs, the jar, and a launcher.
make_image() {
  local image=target/image modules
  modules=$("$JAVA_HOME/bin/jdeps" --multi-release "$JAVA_MAJOR" --print-module-deps --ignore-missing-deps "$JAR")
  # Gson (the control API's JSON) only optionally uses java.sql, checking for it at run time; leaving
  # it out keeps it and the java.xml it pulls in (~11 MB) out of the image.
  modules=$(tr ',' '\n' <<< "$modules" | grep -vx java.sql | paste -sd, -)
  rm -rf "$image"
  "$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --output "$image"
  mkdir -p "$image/lib"
  cp "$JAR" "$image/lib/loom-echo.jar"
  cat > "$image/bin/loom-echo" <<LAUNCHER
#!/bin/sh
# loom-echo on its own runtime (Java $JAVA_MAJOR): no JDK needed. Extra JVM options go in JAVA_OPTS.
# Started through a symlink (e.g. /usr/local/bin/loom-echo), it follows the links to find its runtime.
self=\$0
while [ -h "\$self" ]; do
  link=\$(readlink "\$self")
  case \$link in
    /*) self=\$link ;;
    *) self=\$(dirname "\$self")/\$link ;;
  esac
done
dir=\$(cd "\$(dirname "\$self")" && pwd -P)
exec "\$dir/java" $(server_options) \$JAVA_OPTS -jar "\$dir/../lib/loom-echo.jar" "\$@"
LAUNCHER
  chmod +x "$image/bin/loom-echo"
  echo "run.sh: built $image ($(du -sh "$image" | cut -f1), modules $modules): $image/bin/loom-echo serve" >&2
}

# ./run.sh test-jdks: Debian's OpenJDK 21, 26 and 27 need glibc 2.38, newer than this host's, so they run
# in a Debian trixie chroot, prepared once by deploy/debian-rootfs.sh (cached in LOOM_ECHO_ROOTFS, default
# target/jdks/trixie). The chroot shares the host's network, so the test JVM here reaches its servers over
# loopback. JdkMatrix prints one line per JDK and exits 1 if any check failed.
JDK_ROOTFS_PACKAGES=(openjdk-21-jdk-headless openjdk-26-jdk-headless/sid openjdk-27-jdk-headless/sid)
CHROOT_JDKS=(21 26 27)

JDK_ROOTFS=$(realpath -m "${LOOM_ECHO_ROOTFS:-target/jdks/trixie}")

chroot_java() { # the command that runs chroot JDK $1's java
  echo "chroot $JDK_ROOTFS /usr/lib/jvm/java-$1-openjdk-amd64/bin/java"
}

# Prepares the chroot (once) and mounts its /proc, which a JVM needs, until this script exits.
enter_jdk_chroot() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "run.sh: the JDK chroot needs root (debootstrap, chroot, mount)" >&2; exit 1
  fi
  command -v debootstrap >/dev/null 2>&1 || { echo "run.sh: the JDK chroot needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
  local started=$SECONDS
  if [[ ! -f "$JDK_ROOTFS/.loom-echo-rootfs" ]]; then
    echo "run.sh: preparing the JDK chroot in $JDK_ROOTFS (once; a few minutes) ..." >&2
  fi
  deploy/debian-rootfs.sh "$JDK_ROOTFS" "${JDK_ROOTFS_PACKAGES[@]}"
  echo "run.sh: JDK chroot $JDK_ROOTFS ready ($(( SECONDS - started )) s)" >&2
  if ! mountpoint -q "$JDK_ROOTFS/proc"; then
    mount -t proc proc "$JDK_ROOTFS/proc"
  fi
  trap release_jdk_chroot EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Ends what still runs in the chroot (only our servers and test JVMs can: nothing else uses it), then
# unmounts its /proc, lazily if something still holds it after 5 s.
release_jdk_chroot() {
  local pid attempt
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    if [[ "$(readlink "/proc/$pid/root" 2>/dev/null)" == "$JDK_ROOTFS" ]]; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    mountpoint -q "$JDK_ROOTFS/proc" || return 0
    umount "$JDK_ROOTFS/proc" 2>/dev/null && return 0
    sleep 0.5
  done
  umount -l "$JDK_ROOTFS/proc"
}

test_jdks() {
  local started=$SECONDS
  echo "run.sh: building the jars and test classes with Java $JAVA_MAJOR ..." >&2
  maven -B -q -DskipTests package >&2
  touch "$JAR"
  maven -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/test-classpath.txt >&2
  enter_jdk_chroot
  local commands=("$JAVA") major
  for major in "${CHROOT_JDKS[@]}"; do
    commands+=("$(chroot_java "$major")")
  done
  rm -rf "$JDK_ROOTFS/tmp/loom-echo-staged" # JdkMatrix copies the jars in afresh
  local status=0
  timeout --kill-after=30s 25m "$JAVA" -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" \
    dev.loomecho.jdk.JdkMatrix "${commands[@]}" || status=$?
  echo "run.sh: test-jdks took $(( SECONDS - started )) s" >&2
  return $status
}

case "${1:-}" in
  test)
    shift
    maven -B verify "$@"
    ;;
  test-jdks)
    test_jdks
    ;;
  bench)
    shift
    build_if_stale
    echo "run.sh: building bench/target/loom-echo-bench.jar ..." >&2
    maven -B -q -f bench/pom.xml package >&2
    command -v taskset >/dev/null 2>&1 || { echo "run.sh: bench needs taskset (util-linux)" >&2; exit 1; }
    bench_args=() jdk=""
    while (( $# )); do
      if [[ "$1" == --jdk ]]; then
        [[ $# -ge 2 ]] || { echo "run.sh: bench --jdk needs a JDK: one of ${CHROOT_JDKS[*]}" >&2; exit 2; }
        jdk=$2; shift 2
      else
        bench_args+=("$1"); shift
      fi
    done
    if [[ -z "$jdk" ]]; then
      # The servers get the JVM options ./run.sh itself passes, so the benchmark runs them as users do.
      LOOM_ECHO_JVM_OPTIONS="$(java_options)" exec "$JAVA" -jar bench/target/loom-echo-bench.jar "${bench_args[@]}"
    fi
    if [[ ! " ${CHROOT_JDKS[*]} " == *" $jdk "* ]]; then
      echo "run.sh: bench --jdk takes one of ${CHROOT_JDKS[*]} (the JDK chroot's); got '$jdk'" >&2; exit 2
    fi
    # A chroot JDK is not the release the jar's preview class was built for: no flags but the variants'.
    enter_jdk_chroot
    LOOM_ECHO_JVM_OPTIONS="" "$JAVA" -jar bench/target/loom-echo-bench.jar --java "$(chroot_java "$jdk")" \
      "${bench_args[@]}"
    ;;
  soak)
    shift
    build_if_stale
    echo "run.sh: building bench/target/loom-echo-bench.jar ..." >&2
    maven -B -q -f bench/pom.xml package >&2
    # LOOM_ECHO_JVM_OPTIONS set by the caller replaces the server options (e.g. "--enable-preview" alone: the JDK's defaults)
    LOOM_ECHO_JVM_OPTIONS="${LOOM_ECHO_JVM_OPTIONS-$(server_options)}" exec "$JAVA" -cp bench/target/loom-echo-bench.jar dev.loomecho.bench.Soak "$@"
    ;;
  image)
    build_if_stale
    make_image
    ;;
  test-image)
    build_if_stale
    JAVA="$JAVA" JAR="$JAR" exec deploy/test-image.sh
    ;;
  install)
    shift
    maven -B -q -DskipTests install "$@"
    echo "run.sh: installed dev.loomecho:loom-echo in your local Maven repository (tests skipped; ./run.sh test runs them)" >&2
    ;;
  lab)
    shift
    build_if_stale
    JAVA_HOME="$JAVA_HOME" JAVA_OPTIONS="$(java_options)" exec bash lab/lab.sh "$@"
    ;;
  docs)
    # DocSync uses only the JDK, so the source launcher runs it without a build (DocsMatchSourcesTest checks the same).
    exec "$JAVA" src/test/java/dev/loomecho/docs/DocSync.java --update
    ;;
  "")
    build_if_stale
    exec "$JAVA" $(server_options) -jar "$JAR" serve
    ;;
  *)
    build_if_stale
    exec "$JAVA" $(server_options) -jar "$JAR" "$@"
    ;;
esac
