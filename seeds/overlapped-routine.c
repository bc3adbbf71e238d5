/*
 * overlapped_routine.c - overlapped I/O with completion routines (seed posts 001 and 002) as an echo
 * server.
 *
 * WSARecv and WSASend get a completion routine instead of an event. When the I/O is done, Windows
 * queues the routine as an APC (asynchronous procedure call) to the thread that started the I/O, and
 * runs it only when that thread enters an alertable wait - here WSAWaitForMultipleEvents(..., TRUE),
 * which then returns WSA_WAIT_IO_COMPLETION. Each routine starts the connection's next operation, with
 * itself or its partner as the routine: receive -> send what came -> receive ...
 *
 * Its limit is not a number of sockets: only one handle is waited on (the accept's event), so there is
 * no 64-socket wall. It is the thread: every routine runs on the one thread that issued the I/O, so one
 * core serves every connection, and a slow routine delays all of them.
 *
 * Java: CompletionEngine (CompletionHandler.completed starts the next read or write), where a pool of
 * threads, not the issuing thread, runs the handlers.
 */
#include "seed.h"

typedef struct {
    WSAOVERLAPPED overlapped; /* first, so the routine's LPWSAOVERLAPPED is the connection (post 002) */
    SOCKET socket;
    int received;             /* bytes the last WSARecv put in buffer */
    int sent;                 /* of which WSASend completions have sent this many */
    WSABUF pending;           /* the buffer of the operation in flight; Winsock may read it and */
    DWORD flags;              /* write the flags until the operation completes, so neither is on the stack */
    char buffer[];            /* seed_buffer_size bytes */
} Connection;

static void CALLBACK received(DWORD error, DWORD bytes, LPWSAOVERLAPPED overlapped, DWORD flags);
static void CALLBACK sent(DWORD error, DWORD bytes, LPWSAOVERLAPPED overlapped, DWORD flags);

static void finish(Connection *connection) {
    closesocket(connection->socket); /* no operation is in flight: its routine is running */
    free(connection);
}

/* An operation started: TRUE if it is pending or already done (its routine runs in the next alertable wait). */
static BOOL started(int result) {
    return result == 0 || WSAGetLastError() == WSA_IO_PENDING;
}

static void start_receive(Connection *connection) {
    memset(&connection->overlapped, 0, sizeof connection->overlapped);
    connection->pending = (WSABUF) {seed_buffer_size, connection->buffer};
    connection->flags = 0;
    if (!started(WSARecv(connection->socket, &connection->pending, 1, NULL, &connection->flags,
                         &connection->overlapped, received))) {
        finish(connection);
    }
}

static void start_send(Connection *connection) {
    memset(&connection->overlapped, 0, sizeof connection->overlapped);
    connection->pending.buf = connection->buffer + connection->sent;
    connection->pending.len = connection->received - connection->sent;
    if (!started(WSASend(connection->socket, &connection->pending, 1, NULL, 0,
                         &connection->overlapped, sent))) {
        finish(connection);
    }
}

static void CALLBACK received(DWORD error, DWORD bytes, LPWSAOVERLAPPED overlapped, DWORD flags) {
    Connection *connection = (Connection *) overlapped;
    if (error != 0 || bytes == 0) {
        finish(connection); /* a reset, or the end of the stream with everything before it echoed */
        return;
    }
    connection->received = (int) bytes;
    connection->sent = 0;
    start_send(connection);
}

static void CALLBACK sent(DWORD error, DWORD bytes, LPWSAOVERLAPPED overlapped, DWORD flags) {
    Connection *connection = (Connection *) overlapped;
    if (error != 0) {
        finish(connection);
        return;
    }
    connection->sent += (int) bytes;
    if (connection->sent < connection->received) {
        start_send(connection); /* a send may complete with part of the buffer: send the rest */
    } else {
        start_receive(connection);
    }
}

int main(int argc, char **argv) {
    seed_model = "overlapped-routine";
    SOCKET listener = seed_listen(seed_parse_options(argc, argv));
    LPFN_ACCEPTEX accept_ex = seed_load_accept_ex(listener);
    WSAEVENT accepted = WSACreateEvent();
    printf("%s: one thread: every completion routine runs on the thread that started the I/O, in its alertable waits; no 64-socket limit\n",
           seed_model);
    seed_ready(listener);

    for (;;) {
        /* AcceptEx has no completion routine: its completion signals an event, waited on alertably. */
        SOCKET client = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
        if (client == INVALID_SOCKET) {
            seed_fail("WSASocket for AcceptEx");
        }
        char addresses[2 * SEED_ACCEPT_ADDRESS_LENGTH];
        WSAOVERLAPPED accept_overlapped = {0};
        accept_overlapped.hEvent = accepted;
        DWORD bytes, flags;
        if (!accept_ex(listener, client, addresses, 0, SEED_ACCEPT_ADDRESS_LENGTH, SEED_ACCEPT_ADDRESS_LENGTH,
                       &bytes, &accept_overlapped) && WSAGetLastError() != ERROR_IO_PENDING) {
            seed_fail("AcceptEx");
        }
        /* The alertable wait: completion routines run inside it, each making it return
           WSA_WAIT_IO_COMPLETION, until the accept's event is signaled. The seeds polled with
           SleepEx(1000, TRUE) and a flag shared unsynchronized with an accept thread. */
        DWORD woke;
        do {
            woke = WSAWaitForMultipleEvents(1, &accepted, FALSE, WSA_INFINITE, TRUE);
        } while (woke == WSA_WAIT_IO_COMPLETION);
        if (woke == WSA_WAIT_FAILED) {
            seed_fail("WSAWaitForMultipleEvents");
        }
        WSAResetEvent(accepted);
        if (!WSAGetOverlappedResult(listener, &accept_overlapped, &bytes, FALSE, &flags)) {
            closesocket(client); /* that client left before it was accepted */
            continue;
        }
        setsockopt(client, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *) &listener, sizeof listener);
        Connection *connection = calloc(1, sizeof *connection + seed_buffer_size);
        if (connection == NULL) {
            printf("%s: no memory for a new client: closing it\n", seed_model);
            closesocket(client);
            continue;
        }
        connection->socket = client;
        start_receive(connection);
    }
}
