#!/usr/bin/env python3
"""One connection alternating one 64 KiB message with two 10 B messages, against each engine.

The pattern that grew one connection's direct memory to 255 MiB before the buffer pool (issue 16): every
64 KiB read doubled the read buffer, every two small reads halved it, and each size change allocated a new
direct buffer that only a GC would free. Here each echo is verified, and the server's buffer memory
(loomecho_buffer_bytes_in_use + _pooled from /metrics) and RSS are sampled every 100 ms.

Usage, from the project root after ./run.sh build:  python3 bench/alternation.py [SECONDS] [JAVA]
(JAVA defaults to $JAVA_HOME/bin/java; the server runs with -Xmx256m as in the issue's measurement).
"""
import os, re, socket, subprocess, sys, time, urllib.request

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10
JAVA = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.environ["JAVA_HOME"], "bin", "java")
PORT, METRICS = 7300, 7301
BIG, SMALL = bytes(range(256)) * 256, b"0123456789"  # 64 KiB, every byte value; 10 B


def rss(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+) kB", status.read())[1]) * 1024


def buffer_bytes():
    text = urllib.request.urlopen(f"http://127.0.0.1:{METRICS}/metrics", timeout=5).read().decode()
    return sum(int(float(m[1])) for m in re.finditer(r"^loomecho_buffer_bytes_(?:in_use|pooled)\{[^}]*\} (\S+)", text, re.M))


def echo(sock, message):
    sock.sendall(message)
    got = b""
    while len(got) < len(message):
        chunk = sock.recv(len(message) - len(got))
        if not chunk:
            raise AssertionError("the server closed mid-echo")
        got += chunk
    if got != message:
        raise AssertionError("wrong echo")


def run(engine):
    server = subprocess.Popen([JAVA, "-Xmx256m", "-jar", "target/loom-echo.jar", "serve", "--port", str(PORT),
                               "--metrics-port", str(METRICS), "--engine", engine],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in server.stdout:  # the metrics line comes after the listener's
            if "metrics on" in line or "/metrics" in line:
                break
        start_rss, peak_rss, peak_buffers, rounds = rss(server.pid), 0, 0, 0
        with socket.create_connection(("127.0.0.1", PORT), timeout=10) as sock:
            end, next_sample = time.monotonic() + SECONDS, 0
            while time.monotonic() < end:
                echo(sock, BIG)
                echo(sock, SMALL)
                echo(sock, SMALL)
                rounds += 1
                if time.monotonic() >= next_sample:
                    peak_buffers = max(peak_buffers, buffer_bytes())
                    peak_rss = max(peak_rss, rss(server.pid))
                    next_sample = time.monotonic() + 0.1
        print(f"| {engine} | {rounds:,} | {peak_buffers / 1024:,.0f} KiB | {start_rss / 2**20:,.1f} MiB / {peak_rss / 2**20:,.1f} MiB |")
    finally:
        server.terminate()
        server.wait(30)


print(f"One connection, {SECONDS:g} s of 64 KiB, 10 B, 10 B echoes (all verified), -Xmx256m:\n")
print("| engine | rounds | buffer memory peak (in use + pooled) | RSS start / peak |\n|---|---|---|---|")
for engine in ["virtual", "platform", "completion", "future", "selector"]:
    run(engine)
