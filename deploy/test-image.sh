#!/usr/bin/env bash
# ./run.sh test-image: builds the container image with the Dockerfile and runs it as a user would, in a
# real container runtime (podman): the default CMD under an enforced --memory 512m, an echo, /health,
# /ready and /metrics, the same image as `client` and as `load` (ENTRYPOINT + other arguments), then
# SIGTERM (podman stop), which must end it with exit 0 and one "stopped" line.
#
# No registry serves base images here, so the image is built on a local one: a Debian trixie rootfs
# with OpenJDK 25's JRE (deploy/debian-rootfs.sh, cached in target/container-base) imported into podman
# once, tagged by its package list, so a changed list makes a new base instead of reusing a stale one.
# The jar is the one run.sh built on the host (JAR_FROM=host-jar): inside a container Maven cannot
# fetch from Maven Central on this machine, whose route there is a TLS proxy only the host trusts.
#
# The image is tagged for this run only (localhost/loom-echo-test-image:run-PID), never as a user's
# loom-echo image, and removed at the end; the container is this run's too. Nothing else is removed.
#
# Called by run.sh with JAVA and JAR set (the JDK it found, the fresh jar). Needs root, podman, runc,
# debootstrap and curl (.ci/run installs them). LOOM_ECHO_PODMAN overrides the podman command line.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${JAVA:?run through ./run.sh test-image}" "${JAR:?run through ./run.sh test-image}"

read -r -a podman <<< "${LOOM_ECHO_PODMAN:-podman --runtime runc --cgroup-manager cgroupfs}"
# The limits the project works under (open files 20,000), and a thread cap; the runtime's own default
# open-file limit is higher than this machine allows a container.
limits=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
base_packages=(openjdk-25-jre-headless)
# The base's tag names what is in it: trixie-openjdk-25-jre-headless (a tag allows [A-Za-z0-9_.-], 128 at most).
base_tag="trixie-$(tr ' /' '-_' <<< "${base_packages[*]}" | tr -cd 'A-Za-z0-9_.-')"
if (( ${#base_tag} > 128 )); then
  base_tag="trixie-$(sha256sum <<< "${base_packages[*]}" | cut -c1-32)"
fi
base_image=localhost/loom-echo-base:$base_tag
base_rootfs=target/container-base/$base_tag
image=localhost/loom-echo-test-image:run-$$
container=loom-echo-test-image-$$
started=$(date +%s)

say() { echo "test-image: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
elapsed() { echo "$(( $(date +%s) - started )) s"; }

for tool in "${podman[0]}" curl; do
  command -v "$tool" >/dev/null 2>&1 || fail "needs $tool (on Debian: apt-get install podman runc debootstrap curl)"
done

cleanup() { # this run's container and image tag only: an image that is also tagged otherwise keeps that tag
  "${podman[@]}" rm -f -t 0 "$container" >/dev/null 2>&1 || true
  "${podman[@]}" rmi "$image" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# 1. The local base image, made once: later runs find it in podman's store.
if ! "${podman[@]}" image exists "$base_image"; then
  say "making the base image $base_image (debootstrap trixie + ${base_packages[*]}; minutes, once) ..."
  mkdir -p "$(dirname "$base_rootfs")"
  deploy/debian-rootfs.sh "$base_rootfs" "${base_packages[@]}"
  tar -C "$base_rootfs" --exclude=./.loom-echo-rootfs -c . | "${podman[@]}" import -q \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$base_image" >/dev/null
  say "base image ready after $(elapsed)"
fi

# 2. The image, from the Dockerfile as it stands.
"${podman[@]}" build -q "${limits[@]}" --build-arg RUNTIME_IMAGE="$base_image" --build-arg BUILD_IMAGE="$base_image" \
  --build-arg JAR_FROM=host-jar -t "$image" . >/dev/null || fail "podman build failed"
say "built $image with the Dockerfile ($(elapsed))"

# 3. Run it as shipped: no arguments, so CMD's serve; ports mapped to free ports of the host's loopback.
"${podman[@]}" run -d --name "$container" --memory 512m "${limits[@]}" \
  -p 127.0.0.1::7007 -p 127.0.0.1::9090 "$image" >/dev/null || fail "podman run failed"
host_port() { "${podman[@]}" port "$container" "$1/tcp" | head -n 1 | sed 's/.*://'; }
echo_port=$(host_port 7007)
metrics="http://127.0.0.1:$(host_port 9090)"
ready=""
for _ in $(seq 150); do # up to 30 s: the JVM starting in the container
  if ready=$(curl -sf "$metrics/ready" 2>/dev/null); then break; fi
  "${podman[@]}" container exists "$container" && [[ "$("${podman[@]}" inspect -f '{{.State.Running}}' "$container")" == true ]] \
    || { "${podman[@]}" logs "$container" >&2 || true; fail "the container exited before it was ready"; }
  sleep 0.2
done
[[ "$ready" == '{"ready":true}' ]] || { "${podman[@]}" logs "$container" >&2; fail "/ready never answered 200 (last: $ready)"; }
say "serving on 127.0.0.1:$echo_port, /ready: $ready ($(elapsed))"

# 4. The memory limit is enforced by the kernel, and the JVM sizes itself by it.
limit=$("${podman[@]}" exec "$container" sh -c \
  'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes')
[[ "$limit" == 536870912 ]] || fail "the container's memory limit is $limit, not 512 MiB"
jvm_limit=$("${podman[@]}" exec "$container" java -XshowSettings:system -version 2>&1 | sed -n 's/^ *Memory Limit: *//p')
[[ "$jvm_limit" == 512.00M ]] || fail "java in the container sees a memory limit of '$jvm_limit', not 512.00M"
say "memory limit 512 MiB, enforced (cgroup: $limit bytes) and seen by the JVM ($jvm_limit)"

# 5. An echo from the host, byte-exact, binary included.
payload=$(mktemp)
trap 'cleanup; rm -f "$payload" "$payload.echo"' EXIT
head -c 100000 /dev/urandom > "$payload"
"$JAVA" -jar "$JAR" --log-level warn client --port "$echo_port" < "$payload" > "$payload.echo" \
  || fail "the host's client got no exact echo"
cmp -s "$payload" "$payload.echo" || fail "the echo differs from what was sent"
say "echoed 100,000 random bytes exactly"

# 6. Probes are not echo traffic: /health and /ready leave the connection count as it was.
accepted() {
  curl -sf "$metrics/metrics" | sed -n 's/^loomecho_connections_accepted_total{[^}]*} \([0-9]*\)$/\1/p'
}
before=$(accepted)
[[ "$before" == 1 ]] || fail "metrics count $before accepted connections after one echo"
for _ in 1 2 3; do
  [[ "$(curl -sf "$metrics/health")" == '{"status":"up"}' ]] || fail "/health is not up"
  curl -sf "$metrics/ready" >/dev/null || fail "/ready failed"
done
[[ "$(accepted)" == "$before" ]] || fail "the probes were counted as echo connections"
say "/health up, /metrics scraped (accepted $before), probes not counted"

# 7. The same image runs the other commands: ENTRYPOINT + `client ...`, ENTRYPOINT + `load ...`.
printf 'from a container\n' | "${podman[@]}" run --rm -i --network host "${limits[@]}" "$image" \
  client --port "$echo_port" | grep -qx 'from a container' || fail "the image's client did not get its echo"
"${podman[@]}" run --rm --network host "${limits[@]}" "$image" \
  load --port "$echo_port" --connections 2 --messages 10 > /dev/null || fail "the image's load failed"
say "the image runs 'client' and 'load' too ($(elapsed))"

# 8. docker stop / the kubelet: SIGTERM, a drain, exit 0, one "stopped" line.
"${podman[@]}" stop -t 30 "$container" >/dev/null
code=$("${podman[@]}" inspect -f '{{.State.ExitCode}}' "$container")
logs=$("${podman[@]}" logs "$container" 2>&1)
[[ "$code" == 0 ]] || { echo "$logs" >&2; fail "SIGTERM ended it with exit $code, not 0"; }
[[ $(grep -c '^loom-echo stopped on SIGTERM' <<< "$logs") == 1 ]] || { echo "$logs" >&2; fail "no single 'stopped' line"; }
say "SIGTERM: $(grep '^loom-echo stopped' <<< "$logs"), exit 0"
say "ok ($(elapsed))"
