# loom-echo container image. Build: docker build -t loom-echo .   Run: docker run -p 7007:7007 loom-echo
# Stage 1 builds the runnable jar with Maven on JDK 25; stage 2 runs it on the official Temurin 25 JRE.
FROM maven:3.9-eclipse-temurin-25 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q -DskipTests package

FROM eclipse-temurin:25-jre
RUN useradd --system --uid 10001 loomecho
COPY --from=build /src/target/loom-echo.jar /app/loom-echo.jar
USER 10001
# 7007: the echo (TCP); 9090: Prometheus metrics; 9091: the control API (change faults over HTTP), off
# unless asked for. Off loopback it needs a token, best passed in the environment (ps shows arguments):
#   docker run -p 7007:7007 -p 9091:9091 -e LOOM_ECHO_CONTROL_TOKEN="$(openssl rand -hex 32)" loom-echo --control-port 9091
EXPOSE 7007 9090 9091
# java runs as PID 1, so `docker stop` (SIGTERM) reaches loom-echo directly: it drains and exits 0.
# --bind 0.0.0.0: inside a container loopback is unreachable from outside; the platform's network isolates.
# Memory budget for the 512 MiB limit of deploy/kubernetes.yaml: heap 35 % of the limit (179 MiB; an idle
# connection needs 1.8 KB of it, 10,000 need 18 MiB), read buffers 128 MiB of direct memory (the pool caps
# itself at 112 MiB: 10,000 idle connections hold 2.5 MiB, and about 1,500 of them can echo 64 KiB
# messages at once; beyond that connections keep smaller buffers), metaspace and code cache about 60 MiB,
# the JVM's own threads, GC and other native memory about 60 MiB: 430 MiB, leaving room for the kernel's
# socket buffers charged to the container. The cgroup limit is what the JVM reads (MaxRAMPercentage).
ENTRYPOINT ["java", "--enable-preview", "-XX:MaxRAMPercentage=35", "-XX:MaxDirectMemorySize=128m", "-jar", "/app/loom-echo.jar", \
            "serve", "--bind", "0.0.0.0", "--port", "7007", "--metrics-port", "9090"]
