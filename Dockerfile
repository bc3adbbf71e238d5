# loom-echo container image. Build: docker build -t loom-echo .   Run: docker run -p 7007:7007 -p 9090:9090 loom-echo
# By default stage 1 builds the runnable jar with Maven on JDK 25 and the image runs it on the official
# Temurin 25 JRE. Where no registry serves those, give local base images and the jar ./run.sh built
# (./run.sh test-image does, from a Debian trixie rootfs):
#   docker build --build-arg RUNTIME_IMAGE=my-jre-25 --build-arg JAR_FROM=host-jar -t loom-echo .
ARG BUILD_IMAGE=maven:3.9-eclipse-temurin-25
ARG RUNTIME_IMAGE=eclipse-temurin:25-jre
# build: Maven builds the jar in stage 1. host-jar: target/loom-echo.jar from the build context.
ARG JAR_FROM=build

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q -DskipTests package

FROM scratch AS host-jar
COPY target/loom-echo.jar /src/target/loom-echo.jar

FROM ${JAR_FROM} AS jar

FROM ${RUNTIME_IMAGE}
RUN useradd --system --uid 10001 loomecho
COPY --from=jar /src/target/loom-echo.jar /app/loom-echo.jar
USER 10001
# 7007: the echo (TCP); 9090: Prometheus /metrics and the probes' /health and /ready; 9091: the control
# API (change faults over HTTP), off unless asked for. Off loopback it needs a token, best passed in the
# environment (ps shows arguments):
#   docker run -p 7007:7007 -p 9091:9091 -e LOOM_ECHO_CONTROL_TOKEN="$(openssl rand -hex 32)" loom-echo serve --bind 0.0.0.0 --control-port 9091
EXPOSE 7007 9090 9091
# ENTRYPOINT is the JVM and the jar; CMD is the command, which `docker run IMAGE ARGS` and a Kubernetes
# container's `args` replace as a whole: `docker run -i loom-echo client --host HOST` or `... load ...` work.
# java runs as PID 1, so `docker stop` (SIGTERM) reaches loom-echo directly: it drains and exits 0. More
# JVM options: -e JDK_JAVA_OPTIONS=... (the java launcher reads it).
# Memory budget for the 512 MiB limit of deploy/kubernetes.yaml: heap 35 % of the limit (179 MiB; an idle
# connection needs 1.8 KB of it, 10,000 need 18 MiB), read buffers 128 MiB of direct memory (the pool caps
# itself at 112 MiB: 10,000 idle connections hold 2.5 MiB, and about 1,500 of them can echo 64 KiB
# messages at once; beyond that connections keep smaller buffers), metaspace and code cache about 60 MiB,
# the JVM's own threads, GC and other native memory about 60 MiB: 430 MiB, leaving room for the kernel's
# socket buffers charged to the container. The cgroup limit is what the JVM reads (MaxRAMPercentage).
# -Xms16m: the heap starts small and grows only when connections need it, as in run.sh (see its comment).
ENTRYPOINT ["java", "--enable-preview", "-Xms16m", "-XX:MaxRAMPercentage=35", "-XX:MaxDirectMemorySize=128m", "-jar", "/app/loom-echo.jar"]
# --bind 0.0.0.0: inside a container loopback is unreachable from outside; the platform's network isolates.
CMD ["serve", "--bind", "0.0.0.0", "--port", "7007", "--metrics-port", "9090"]
