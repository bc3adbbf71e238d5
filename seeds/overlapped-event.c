/*
 * overlapped_event.c - overlapped I/O with event objects (seed post 001; also 002 and 003) as an echo
 * server.
 *
 * Nothing here asks "is this socket ready?". The program starts an operation - AcceptEx, WSARecv,
 * WSASend - with a WSAOVERLAPPED whose hEvent is an event object, and the call returns at once
 * (WSA_IO_PENDING). Winsock does the I/O into or out of the program's buffer, which must stay put until
 * then, and signals the event when it is done; WSAGetOverlappedResult then says how many bytes moved.
 * One thread waits for all the events with WSAWaitForMultipleEvents, so the limit is the same as
 * WSAEventSelect's: 64 events per wait, one of them the accept's, so at most 63 clients. The 64th is
 * accepted (AcceptEx has no condition function) and closed at once.
 *
 * Each connection has one operation in flight - a receive, or the send of what it received - so one
 * WSAOVERLAPPED and one buffer per connection are enough, and a client that does not read its echo stops
 * the server reading from it.
 *
 * Java: FutureEngine (AsynchronousSocketChannel.read returns a Future; Future.get() is the wait).
 */
#include "seed.h"

#define MAX_CLIENTS (WSA_MAXIMUM_WAIT_EVENTS - 1) /* place 0 of the wait is the accept's */

typedef struct {
    WSAOVERLAPPED overlapped; /* the operation in flight; its hEvent is this connection's event */
    SOCKET socket;
    BOOL sending;             /* which operation is in flight: WSASend (TRUE) or WSARecv */
    int received;             /* bytes the last WSARecv put in buffer */
    int sent;                 /* of which WSASend completions have sent this many */
    WSABUF pending;           /* the buffer of the operation in flight; Winsock may read it and */
    DWORD flags;              /* write the flags until the operation completes, so neither is on the stack */
    char buffer[];            /* seed_buffer_size bytes */
} Connection;

/* One index into both: place 0 is the accept in flight, places 1..count-1 the clients. */
static WSAEVENT events[WSA_MAXIMUM_WAIT_EVENTS];
static Connection *connections[WSA_MAXIMUM_WAIT_EVENTS];
static int count;

/* The accept in flight: AcceptEx needs the socket it will connect, made before the client arrives. */
static LPFN_ACCEPTEX accept_ex;
static SOCKET listener;
static SOCKET next_client;
static WSAOVERLAPPED accept_overlapped;
static char accept_addresses[2 * SEED_ACCEPT_ADDRESS_LENGTH];

/* An operation started: TRUE if it is pending or already done (its event is signaled either way). */
static BOOL started(int result) {
    return result == 0 || WSAGetLastError() == WSA_IO_PENDING;
}

static void start_accept(void) {
    next_client = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    if (next_client == INVALID_SOCKET) {
        seed_fail("WSASocket for AcceptEx");
    }
    memset(&accept_overlapped, 0, sizeof accept_overlapped);
    accept_overlapped.hEvent = events[0];
    DWORD unused;
    if (!accept_ex(listener, next_client, accept_addresses, 0 /* no first data: complete on connect */,
                   SEED_ACCEPT_ADDRESS_LENGTH, SEED_ACCEPT_ADDRESS_LENGTH, &unused, &accept_overlapped)
        && WSAGetLastError() != ERROR_IO_PENDING) {
        seed_fail("AcceptEx");
    }
}

static BOOL start_receive(Connection *connection) {
    memset(&connection->overlapped, 0, offsetof(WSAOVERLAPPED, hEvent)); /* keep hEvent */
    connection->sending = FALSE;
    connection->pending = (WSABUF) {seed_buffer_size, connection->buffer};
    connection->flags = 0;
    return started(WSARecv(connection->socket, &connection->pending, 1, NULL, &connection->flags,
                           &connection->overlapped, NULL));
}

/* Sends what is left; a completed WSASend may have taken less than asked (the seeds assumed all). */
static BOOL start_send(Connection *connection) {
    memset(&connection->overlapped, 0, offsetof(WSAOVERLAPPED, hEvent));
    connection->sending = TRUE;
    connection->pending.buf = connection->buffer + connection->sent;
    connection->pending.len = connection->received - connection->sent;
    return started(WSASend(connection->socket, &connection->pending, 1, NULL, 0,
                           &connection->overlapped, NULL));
}

static void remove_connection(int index) {
    closesocket(connections[index]->socket); /* no operation is in flight: its completion was just taken */
    WSACloseEvent(events[index]);
    free(connections[index]);
    count--;
    events[index] = events[count];
    connections[index] = connections[count];
}

static void add_or_refuse(SOCKET client) {
    /* Inherit the listener's properties, so getpeername, shutdown and the like work on the new socket. */
    setsockopt(client, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *) &listener, sizeof listener);
    if (count == WSA_MAXIMUM_WAIT_EVENTS) {
        closesocket(client);
        printf("%s: refused a client: all %d client places are in use (WSA_MAXIMUM_WAIT_EVENTS=%d)\n",
               seed_model, MAX_CLIENTS, WSA_MAXIMUM_WAIT_EVENTS);
        return;
    }
    Connection *connection = calloc(1, sizeof *connection + seed_buffer_size);
    WSAEVENT event = WSACreateEvent();
    if (connection == NULL || event == WSA_INVALID_EVENT) {
        printf("%s: no memory or event for a new client: closing it\n", seed_model);
        if (event != WSA_INVALID_EVENT) {
            WSACloseEvent(event);
        }
        free(connection);
        closesocket(client);
        return;
    }
    connection->socket = client;
    connection->overlapped.hEvent = event;
    events[count] = event;
    connections[count] = connection;
    count++;
    if (!start_receive(connection)) {
        remove_connection(count - 1);
    }
}

/* The operation of a connection completed with `bytes`: start the next one. FALSE when finished. */
static BOOL completed(Connection *connection, DWORD bytes) {
    if (!connection->sending) {
        if (bytes == 0) {
            return FALSE; /* end of stream: the client sent its last byte, and all of it was echoed */
        }
        connection->received = (int) bytes;
        connection->sent = 0;
        return start_send(connection);
    }
    connection->sent += (int) bytes;
    return connection->sent < connection->received ? start_send(connection) : start_receive(connection);
}

int main(int argc, char **argv) {
    seed_model = "overlapped-event";
    listener = seed_listen(seed_parse_options(argc, argv));
    accept_ex = seed_load_accept_ex(listener);
    events[0] = WSACreateEvent();
    count = 1;
    start_accept();
    printf("%s: WSA_MAXIMUM_WAIT_EVENTS=%d: one wait holds the accept's event and at most %d clients'; client %d is closed at once\n",
           seed_model, WSA_MAXIMUM_WAIT_EVENTS, MAX_CLIENTS, MAX_CLIENTS + 1);
    seed_ready(listener);

    for (;;) {
        /* The accept is always in flight, so the wait is never empty and never spins. */
        DWORD signaled = WSAWaitForMultipleEvents(count, events, FALSE, WSA_INFINITE, FALSE);
        if (signaled == WSA_WAIT_FAILED) {
            seed_fail("WSAWaitForMultipleEvents");
        }
        /* Only the lowest signaled place is named: ask every place from there on whether it is done. */
        for (int i = (int) (signaled - WSA_WAIT_EVENT_0); i < count;) {
            DWORD bytes, flags;
            if (i == 0) {
                if (WSAGetOverlappedResult(listener, &accept_overlapped, &bytes, FALSE, &flags)) {
                    WSAResetEvent(events[0]);
                    add_or_refuse(next_client);
                    start_accept();
                } else if (WSAGetLastError() != WSA_IO_INCOMPLETE) {
                    WSAResetEvent(events[0]);
                    closesocket(next_client); /* that client left before it was accepted */
                    start_accept();
                }
                i++;
                continue;
            }
            Connection *connection = connections[i];
            BOOL open;
            if (WSAGetOverlappedResult(connection->socket, &connection->overlapped, &bytes, FALSE, &flags)) {
                WSAResetEvent(events[i]); /* manual-reset: before the next operation can signal it again */
                open = completed(connection, bytes);
            } else {
                open = WSAGetLastError() == WSA_IO_INCOMPLETE; /* still in flight; else it failed (a reset) */
            }
            if (open) {
                i++;
            } else {
                remove_connection(i); /* place i now holds the last client: look at it too */
            }
        }
    }
}
