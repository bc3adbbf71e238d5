/*
 * seed.h - what every seed server needs and none of them is about: the command line, the listening
 * socket, and the two lines a test or a learner waits for (the model's limit, then "listening on").
 * Each model's own .c file holds only the model.
 *
 * Everything here is static, so each server builds from one .c file with one gcc call (seeds/build.sh).
 */
#ifndef SEED_H
#define SEED_H

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Each connection's buffer: it reads at most this much, and echoes all of it before it reads again.
 * 1024 B is the seeds' MSGSIZE (post 003); --buffer-size changes it (the tests pass larger ones: under
 * Wine every Winsock call is a round trip to the wineserver, so bulk echo speed is set by the number of
 * calls). Bytes are counted, never NUL-terminated: the posts' `szMessage[ret] = '\0'` followed by
 * `strlen` cut binary data at its first zero byte and wrote past the buffer after a full read.
 */
static int seed_buffer_size = 1024;

static const char *seed_model; /* the name every line this program prints starts with */

static inline void seed_usage_error(const char *reason) {
    fprintf(stderr, "%s: %s\nusage: %s --port PORT [--buffer-size BYTES]   (PORT 0 picks a free port; BYTES 1..1048576, default 1024)\n",
            seed_model, reason, seed_model);
    exit(2);
}

/* Reads a whole number from `value` for `flag`, from `min` to `max`; anything else is a usage error. */
static inline int seed_number(const char *flag, const char *value, long min, long max) {
    char *end;
    long number = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || number < min || number > max) {
        char reason[200];
        snprintf(reason, sizeof reason, "%s must be a number from %ld to %ld, not '%.100s'", flag, min, max, value);
        seed_usage_error(reason);
    }
    return (int) number;
}

/* The flags: --port PORT (required) and --buffer-size BYTES. A wrong one prints its reason and exits 2. */
static inline int seed_parse_options(int argc, char **argv) {
    int port = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = seed_number("--port", argv[++i], 0, 65535);
        } else if (strcmp(argv[i], "--buffer-size") == 0 && i + 1 < argc) {
            seed_buffer_size = seed_number("--buffer-size", argv[++i], 1, 1 << 20);
        } else {
            char reason[200];
            snprintf(reason, sizeof reason, "unknown or incomplete argument '%.100s'", argv[i]);
            seed_usage_error(reason);
        }
    }
    if (port < 0) {
        seed_usage_error("--port is required");
    }
    return port;
}

/* An unexpected failure of the server itself (not of one connection): say which call, then stop. */
static inline void seed_fail(const char *call) {
    fprintf(stderr, "%s: %s failed with Winsock error %d\n", seed_model, call, WSAGetLastError());
    exit(1);
}

static inline int seed_local_port(SOCKET socket) {
    struct sockaddr_in address;
    int length = sizeof address;
    if (getsockname(socket, (struct sockaddr *) &address, &length) == SOCKET_ERROR) {
        seed_fail("getsockname");
    }
    return ntohs(address.sin_port);
}

/*
 * Starts Winsock and returns a socket listening on 127.0.0.1:port (the seeds bind INADDR_ANY; loopback
 * keeps a teaching server off the network). socket() sockets can already do overlapped I/O; WSASocket
 * with WSA_FLAG_OVERLAPPED says so, as the overlapped posts do.
 */
static inline SOCKET seed_listen(int port) {
    setvbuf(stdout, NULL, _IONBF, 0); /* a test reads these lines through a pipe: no buffering */
    WSADATA wsa;
    int started = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (started != 0) {
        fprintf(stderr, "%s: WSAStartup failed with error %d\n", seed_model, started);
        exit(1);
    }
    SOCKET listener = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    if (listener == INVALID_SOCKET) {
        seed_fail("WSASocket");
    }
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons((u_short) port);
    if (bind(listener, (struct sockaddr *) &address, sizeof address) == SOCKET_ERROR) {
        if (WSAGetLastError() == WSAEADDRINUSE) {
            fprintf(stderr, "%s: 127.0.0.1:%d is already in use\n", seed_model, port);
            exit(1);
        }
        seed_fail("bind");
    }
    if (listen(listener, SOMAXCONN) == SOCKET_ERROR) {
        seed_fail("listen");
    }
    return listener;
}

/* The line a test waits for: printed only once the socket listens, with the real port (for --port 0). */
static inline void seed_ready(SOCKET listener) {
    printf("%s: listening on 127.0.0.1:%d\n", seed_model, seed_local_port(listener));
}

/*
 * AcceptEx, the overlapped accept, is a Microsoft extension: a program asks the socket provider for it
 * by GUID (the JDK's Windows AsynchronousServerSocketChannel does the same).
 */
static inline LPFN_ACCEPTEX seed_load_accept_ex(SOCKET listener) {
    GUID guid = WSAID_ACCEPTEX;
    LPFN_ACCEPTEX accept_ex = NULL;
    DWORD bytes;
    if (WSAIoctl(listener, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof guid,
                 &accept_ex, sizeof accept_ex, &bytes, NULL, NULL) == SOCKET_ERROR) {
        seed_fail("WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER, AcceptEx)");
    }
    return accept_ex;
}

/* AcceptEx writes both addresses here, each with 16 bytes to spare, as its documentation requires. */
#define SEED_ACCEPT_ADDRESS_LENGTH (sizeof(struct sockaddr_in) + 16)

#endif
