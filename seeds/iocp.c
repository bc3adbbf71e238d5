/*
 * iocp.c - an I/O completion port (seed post 002) as an echo server.
 *
 * CreateIoCompletionPort makes the port; called again with a socket, it associates the socket and a
 * completion key (here: the connection) with it. From then on every overlapped operation on that socket
 * queues a completion packet - bytes moved, the key, the WSAOVERLAPPED - to the port when it is done. A
 * fixed pool of worker threads takes packets with GetQueuedCompletionStatus. The port wakes the thread
 * that waited last (LIFO, so few threads stay warm) and releases at most `concurrency` of them at a time
 * (0: one per CPU); a worker that blocks elsewhere lets the port release another (post 002's released
 * and paused thread lists), so the pool is bigger than the concurrency: MSDN's two threads per CPU.
 * That scheduling is the Windows kernel's, and Wine does not reproduce it: its wineserver ignores the
 * concurrency value (server/completion.c: "max concurrent active threads" parameter is not used), so
 * here every worker with a packet runs at once. Under Wine this shows the API and the pool, not the limit.
 *
 * No limit on sockets and no thread per connection: the thread count stays the same however many
 * clients there are. Each connection has one operation in flight, so each packet hands its connection to
 * exactly one worker, and no lock is needed.
 *
 * Java: CompletionEngine (an AsynchronousChannelGroup's fixed pool); on Windows the JDK's sun.nio.ch.Iocp
 * is this very loop.
 */
#include "seed.h"

#define ACCEPT_KEY 0 /* the listener's completion key; clients' keys are their Connection pointers */

typedef struct {
    WSAOVERLAPPED overlapped; /* the operation in flight */
    SOCKET socket;
    BOOL sending;             /* which operation is in flight: WSASend (TRUE) or WSARecv */
    int received;             /* bytes the last WSARecv put in buffer */
    int sent;                 /* of which WSASend completions have sent this many */
    WSABUF pending;           /* the buffer of the operation in flight; Winsock may read it and */
    DWORD flags;              /* write the flags until the operation completes, so neither is on the stack */
    char buffer[];            /* seed_buffer_size bytes */
} Connection;

static HANDLE port;
static SOCKET listener;
static LPFN_ACCEPTEX accept_ex;

/* The one AcceptEx in flight; only the worker that takes its packet touches these, then starts the next. */
static SOCKET next_client;
static WSAOVERLAPPED accept_overlapped;
static char accept_addresses[2 * SEED_ACCEPT_ADDRESS_LENGTH];

/* An operation started: TRUE if it is pending or already done. Either way a packet will come (no
   FILE_SKIP_COMPLETION_PORT_ON_SUCCESS here); only a call that fails at once queues none. */
static BOOL started(int result) {
    return result == 0 || WSAGetLastError() == WSA_IO_PENDING;
}

static void start_accept(void) {
    next_client = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    if (next_client == INVALID_SOCKET) {
        seed_fail("WSASocket for AcceptEx");
    }
    memset(&accept_overlapped, 0, sizeof accept_overlapped);
    DWORD unused;
    if (!accept_ex(listener, next_client, accept_addresses, 0, SEED_ACCEPT_ADDRESS_LENGTH,
                   SEED_ACCEPT_ADDRESS_LENGTH, &unused, &accept_overlapped)
        && WSAGetLastError() != ERROR_IO_PENDING) {
        seed_fail("AcceptEx");
    }
}

static void finish(Connection *connection) {
    closesocket(connection->socket); /* no operation is in flight: its packet was just taken */
    free(connection);
}

static void start_receive(Connection *connection) {
    memset(&connection->overlapped, 0, sizeof connection->overlapped);
    connection->sending = FALSE;
    connection->pending = (WSABUF) {seed_buffer_size, connection->buffer};
    connection->flags = 0;
    if (!started(WSARecv(connection->socket, &connection->pending, 1, NULL, &connection->flags,
                         &connection->overlapped, NULL))) {
        finish(connection);
    }
}

/* Sends what is left; a completed WSASend may have taken less than asked (the seeds assumed all). */
static void start_send(Connection *connection) {
    memset(&connection->overlapped, 0, sizeof connection->overlapped);
    connection->sending = TRUE;
    connection->pending.buf = connection->buffer + connection->sent;
    connection->pending.len = connection->received - connection->sent;
    if (!started(WSASend(connection->socket, &connection->pending, 1, NULL, 0,
                         &connection->overlapped, NULL))) {
        finish(connection);
    }
}

static void accepted(BOOL ok) {
    SOCKET client = next_client;
    start_accept(); /* the next accept first, so clients wait in the backlog as little as possible */
    if (!ok) {
        closesocket(client); /* that client left before it was accepted */
        return;
    }
    setsockopt(client, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *) &listener, sizeof listener);
    Connection *connection = calloc(1, sizeof *connection + seed_buffer_size);
    if (connection == NULL) {
        printf("%s: no memory for a new client: closing it\n", seed_model);
        closesocket(client);
        return;
    }
    connection->socket = client;
    if (CreateIoCompletionPort((HANDLE) client, port, (ULONG_PTR) connection, 0) == NULL) {
        printf("%s: could not associate a client with the port (error %lu): closing it\n", seed_model, GetLastError());
        finish(connection);
        return;
    }
    start_receive(connection);
}

/* A connection's operation completed with `bytes` (ok == FALSE: it failed, e.g. a reset). */
static void completed(Connection *connection, BOOL ok, DWORD bytes) {
    if (!ok) {
        finish(connection);
    } else if (!connection->sending) {
        if (bytes == 0) {
            finish(connection); /* end of stream: the client's last byte has come, and all was echoed */
            return;
        }
        connection->received = (int) bytes;
        connection->sent = 0;
        start_send(connection);
    } else {
        connection->sent += (int) bytes;
        if (connection->sent < connection->received) {
            start_send(connection);
        } else {
            start_receive(connection);
        }
    }
}

static DWORD WINAPI worker(LPVOID unused) {
    for (;;) {
        DWORD bytes = 0;
        ULONG_PTR key = 0;
        LPOVERLAPPED overlapped = NULL;
        BOOL ok = GetQueuedCompletionStatus(port, &bytes, &key, &overlapped, INFINITE);
        if (overlapped == NULL) {
            /* No packet at all: the port itself failed. (A server that stops would post one empty
               packet per worker with PostQueuedCompletionStatus and end here; this one runs until killed.) */
            seed_fail("GetQueuedCompletionStatus");
        }
        if (key == ACCEPT_KEY) {
            accepted(ok);
        } else {
            completed((Connection *) key, ok, bytes);
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    seed_model = "iocp";
    listener = seed_listen(seed_parse_options(argc, argv));
    accept_ex = seed_load_accept_ex(listener);
    port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0 /* concurrency: one per CPU */);
    if (port == NULL || CreateIoCompletionPort((HANDLE) listener, port, ACCEPT_KEY, 0) == NULL) {
        seed_fail("CreateIoCompletionPort");
    }
    SYSTEM_INFO system;
    GetSystemInfo(&system);
    int cpus = (int) system.dwNumberOfProcessors;
    int workers = 2 * cpus < MAXIMUM_WAIT_OBJECTS ? 2 * cpus : MAXIMUM_WAIT_OBJECTS; /* main waits for all in one call */
    printf("%s: %d worker threads (2 per CPU) share one port of concurrency %d (the CPUs): Windows releases at most %d at once (briefly more when a blocked one wakes),"
           " Wine does not enforce it; no 64-socket limit\n", seed_model, workers, cpus, cpus);
    start_accept();
    HANDLE threads[MAXIMUM_WAIT_OBJECTS];
    for (int i = 0; i < workers; i++) {
        threads[i] = CreateThread(NULL, 0, worker, NULL, 0, NULL);
        if (threads[i] == NULL) {
            seed_fail("CreateThread");
        }
    }
    seed_ready(listener);
    WaitForMultipleObjects(workers, threads, TRUE, INFINITE);
    return 0;
}
