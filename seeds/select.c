/*
 * select.c - the select model (seed posts 003 and 004) as an echo server.
 *
 * One thread. Each turn it rebuilds two fd_sets from its table of sockets (read interest, write
 * interest), calls select(), which blocks until one of them is ready, and scans the table with FD_ISSET.
 * An fd_set is a fixed array of FD_SETSIZE handles, 64 unless the program redefines it before including
 * winsock2.h, and the listening socket is one of them: so this server serves at most 63 clients. The
 * 64th is refused with WSAAccept and a condition function, as post 003 advises; accepted, it would never
 * be served, because FD_SET silently drops a handle that does not fit.
 *
 * Java: SelectorEngine (one thread, one Selector, each connection interested in READ or in WRITE).
 */
#include "seed.h"

#define MAX_CLIENTS (FD_SETSIZE - 1) /* the listener takes the last place in the read set */

typedef struct {
    SOCKET socket;
    int received; /* bytes in buffer still to echo; 0 = waiting to read */
    int sent;     /* how many of them were sent already */
    char buffer[]; /* seed_buffer_size bytes */
} Client;

static Client *clients[MAX_CLIENTS];
static int client_count;

/* Called by WSAAccept before it hands over a connection: the seed's "admit only while there is room". */
static int CALLBACK admit_while_room(LPWSABUF caller_id, LPWSABUF caller_data, LPQOS sqos, LPQOS gqos,
                                     LPWSABUF callee_id, LPWSABUF callee_data, GROUP *group,
                                     DWORD_PTR clients_in_use) {
    return clients_in_use < MAX_CLIENTS ? CF_ACCEPT : CF_REJECT;
}

static void accept_or_refuse(SOCKET listener) {
    SOCKET socket = WSAAccept(listener, NULL, NULL, admit_while_room, (DWORD_PTR) client_count);
    if (socket == INVALID_SOCKET) {
        int error = WSAGetLastError();
        if (error == WSAECONNREFUSED) {
            printf("%s: refused a client: all %d client places are in use (FD_SETSIZE=%d)\n",
                   seed_model, MAX_CLIENTS, FD_SETSIZE);
        } else if (error != WSAEWOULDBLOCK) { /* WOULDBLOCK: the client left before we got to it */
            printf("%s: WSAAccept failed with Winsock error %d\n", seed_model, error);
        }
        return;
    }
    Client *client = calloc(1, sizeof *client + seed_buffer_size);
    if (client == NULL) {
        printf("%s: no memory for a new client: closing it\n", seed_model);
        closesocket(socket);
        return;
    }
    u_long non_blocking = 1; /* a ready socket must never block the one thread that serves them all */
    ioctlsocket(socket, FIONBIO, &non_blocking);
    client->socket = socket;
    clients[client_count++] = client;
}

/*
 * Sends what is left of the buffer. A send may take only part of it (the seeds ignored that): then the
 * rest waits for the socket to become writable. Returns FALSE when the connection is finished.
 */
static BOOL send_rest(Client *client) {
    while (client->sent < client->received) {
        int n = send(client->socket, client->buffer + client->sent, client->received - client->sent, 0);
        if (n == SOCKET_ERROR) {
            return WSAGetLastError() == WSAEWOULDBLOCK; /* full: select's write set says when to go on */
        }
        client->sent += n;
    }
    client->received = client->sent = 0; /* all echoed: read again */
    return TRUE;
}

static BOOL receive(Client *client) {
    int n = recv(client->socket, client->buffer, seed_buffer_size, 0);
    if (n > 0) {
        client->received = n;
        client->sent = 0;
        return send_rest(client);
    }
    if (n == 0) {
        return FALSE; /* the client sent its last byte, and everything before it has been echoed */
    }
    return WSAGetLastError() == WSAEWOULDBLOCK; /* anything else (a reset) ends this connection only */
}

static void remove_client(int index) {
    closesocket(clients[index]->socket);
    free(clients[index]);
    clients[index] = clients[--client_count]; /* the last client moves into the gap */
}

int main(int argc, char **argv) {
    seed_model = "select";
    SOCKET listener = seed_listen(seed_parse_options(argc, argv));
    u_long non_blocking = 1; /* select may report a client that then leaves: WSAAccept must not wait */
    ioctlsocket(listener, FIONBIO, &non_blocking);
    printf("%s: FD_SETSIZE=%d: one fd_set holds the listener and at most %d clients; client %d is refused\n",
           seed_model, FD_SETSIZE, MAX_CLIENTS, MAX_CLIENTS + 1);
    seed_ready(listener);

    for (;;) {
        fd_set readable, writable;
        FD_ZERO(&readable);
        FD_ZERO(&writable);
        /* The listener is always in the set, so select() blocks even with no client: the seeds' worker
           called it with an empty set, which returns at once, and spun at 100 % CPU. */
        FD_SET(listener, &readable);
        for (int i = 0; i < client_count; i++) {
            /* Back-pressure: while an echo is unsent, wait to write, not to read. */
            FD_SET(clients[i]->socket, clients[i]->received > 0 ? &writable : &readable);
        }
        if (select(0 /* ignored by Winsock */, &readable, &writable, NULL, NULL /* no timeout */) == SOCKET_ERROR) {
            seed_fail("select");
        }

        /* select() returned the sets holding only the ready sockets: scan every client against them. */
        for (int i = 0; i < client_count;) {
            Client *client = clients[i];
            BOOL open = TRUE;
            if (FD_ISSET(client->socket, &readable)) {
                open = receive(client);
            } else if (FD_ISSET(client->socket, &writable)) {
                open = send_rest(client);
            }
            if (open) {
                i++;
            } else {
                remove_client(i); /* slot i now holds the last client: look at it too */
            }
        }
        if (FD_ISSET(listener, &readable)) {
            accept_or_refuse(listener); /* after the scan: a place freed in this turn can take it */
        }
    }
}
