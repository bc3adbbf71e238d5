/*
 * eventselect.c - the WSAEventSelect model (seed post 000; also 003 and 004) as an echo server.
 *
 * One thread, one event object per socket. WSAEventSelect(socket, event, FD_READ | FD_WRITE | FD_CLOSE)
 * asks Winsock to record those network events and signal the event; WSAWaitForMultipleEvents sleeps
 * until one of the events is signaled; WSAEnumNetworkEvents says which network events happened and
 * resets the event. A wait takes at most WSA_MAXIMUM_WAIT_EVENTS (64) handles and the listener's event
 * is one of them: so this server serves at most 63 clients, and refuses the 64th through WSAAccept's
 * condition function. (Post 003's other way past the limit, one worker thread per 64 sockets, is just
 * more of these loops; the post's own code accepted unconditionally and wrote past its arrays.)
 *
 * Re-enabling, the rule that shapes the code: after FD_READ is recorded, Winsock records it again only
 * once recv() has been called; FD_WRITE only after a send() failed with WSAEWOULDBLOCK. A program that
 * skips a recv() never hears of that socket's data again. (The JDK's Linux poller re-arms each socket
 * before every wait for the same reason: EPOLLONESHOT reports a socket once until it is armed again.)
 *
 * Java: SelectorEngine (one thread, one Selector: a SelectionKey per socket instead of an event per socket).
 */
#include "seed.h"

#define MAX_CLIENTS (WSA_MAXIMUM_WAIT_EVENTS - 1) /* place 0 of the wait is the listener's */

typedef struct {
    int received;        /* bytes in buffer still to echo; 0 = nothing to echo */
    int sent;            /* how many of them were sent already */
    BOOL peer_finished;  /* FD_CLOSE came: the client sends nothing more, but unread data may remain */
    char buffer[];       /* seed_buffer_size bytes */
} Client;

/* Three arrays with one index: place 0 is the listener, places 1..count-1 the clients. */
static SOCKET sockets[WSA_MAXIMUM_WAIT_EVENTS];
static WSAEVENT events[WSA_MAXIMUM_WAIT_EVENTS];
static Client *clients[WSA_MAXIMUM_WAIT_EVENTS];
static int count;

static int CALLBACK admit_while_room(LPWSABUF caller_id, LPWSABUF caller_data, LPQOS sqos, LPQOS gqos,
                                     LPWSABUF callee_id, LPWSABUF callee_data, GROUP *group,
                                     DWORD_PTR clients_in_use) {
    return clients_in_use < MAX_CLIENTS ? CF_ACCEPT : CF_REJECT;
}

static void accept_or_refuse(SOCKET listener) {
    SOCKET socket = WSAAccept(listener, NULL, NULL, admit_while_room, (DWORD_PTR) (count - 1));
    if (socket == INVALID_SOCKET) {
        int error = WSAGetLastError();
        if (error == WSAECONNREFUSED) {
            printf("%s: refused a client: all %d client places are in use (WSA_MAXIMUM_WAIT_EVENTS=%d)\n",
                   seed_model, MAX_CLIENTS, WSA_MAXIMUM_WAIT_EVENTS);
        } else if (error != WSAEWOULDBLOCK) {
            printf("%s: WSAAccept failed with Winsock error %d\n", seed_model, error);
        }
        return;
    }
    Client *client = calloc(1, sizeof *client + seed_buffer_size);
    WSAEVENT event = WSACreateEvent(); /* manual-reset, not signaled */
    if (client == NULL || event == WSA_INVALID_EVENT) {
        printf("%s: no memory or event for a new client: closing it\n", seed_model);
        if (event != WSA_INVALID_EVENT) {
            WSACloseEvent(event);
        }
        free(client);
        closesocket(socket);
        return;
    }
    /* An accepted socket inherits the listener's selection (FD_ACCEPT, the listener's event): replace it.
       WSAEventSelect also makes the socket non-blocking. */
    WSAEventSelect(socket, event, FD_READ | FD_WRITE | FD_CLOSE);
    sockets[count] = socket;
    events[count] = event;
    clients[count] = client;
    count++;
}

/* Sends what is left of the buffer; FALSE when the connection is finished. */
static BOOL send_rest(SOCKET socket, Client *client, BOOL *blocked) {
    while (client->sent < client->received) {
        int n = send(socket, client->buffer + client->sent, client->received - client->sent, 0);
        if (n == SOCKET_ERROR) {
            /* WOULDBLOCK re-enables FD_WRITE: the event fires when there is room again. (A send that
               takes only part of the buffer does not, so loop until all is sent or WOULDBLOCK.) */
            *blocked = TRUE;
            return WSAGetLastError() == WSAEWOULDBLOCK;
        }
        client->sent += n;
    }
    client->received = client->sent = 0;
    return TRUE;
}

/*
 * Echoes as far as the socket allows: first what is still unsent, then one read (which re-enables
 * FD_READ) and its echo. After FD_CLOSE no new FD_READ need come, so it reads on until recv() returns 0.
 * Returns FALSE when the connection is finished.
 */
static BOOL echo(SOCKET socket, Client *client) {
    BOOL blocked = FALSE;
    do {
        if (!send_rest(socket, client, &blocked)) {
            return FALSE;
        }
        if (blocked) {
            return TRUE; /* wait for FD_WRITE; meanwhile, unread data stays in the kernel: back-pressure */
        }
        int n = recv(socket, client->buffer, seed_buffer_size, 0);
        if (n == 0) {
            return FALSE; /* the client's last byte has come, and everything before it was echoed */
        }
        if (n == SOCKET_ERROR) {
            return WSAGetLastError() == WSAEWOULDBLOCK; /* nothing to read: wait for FD_READ */
        }
        client->received = n;
        client->sent = 0;
        if (!send_rest(socket, client, &blocked)) {
            return FALSE;
        }
    } while (client->peer_finished && !blocked);
    return TRUE;
}

static BOOL serve(SOCKET socket, Client *client, const WSANETWORKEVENTS *happened) {
    if ((happened->lNetworkEvents & FD_READ) && happened->iErrorCode[FD_READ_BIT] != 0) {
        return FALSE;
    }
    if (happened->lNetworkEvents & FD_CLOSE) {
        if (happened->iErrorCode[FD_CLOSE_BIT] != 0) {
            return FALSE; /* reset or aborted: no one is left to echo to */
        }
        client->peer_finished = TRUE; /* the seeds closed here and lost whatever was still unread */
    }
    return echo(socket, client);
}

static void remove_client(int index) {
    closesocket(sockets[index]);
    WSACloseEvent(events[index]);
    free(clients[index]);
    count--; /* the last place moves into the gap, in all three arrays */
    sockets[index] = sockets[count];
    events[index] = events[count];
    clients[index] = clients[count];
}

int main(int argc, char **argv) {
    seed_model = "eventselect";
    SOCKET listener = seed_listen(seed_parse_options(argc, argv));
    sockets[0] = listener;
    events[0] = WSACreateEvent();
    WSAEventSelect(listener, events[0], FD_ACCEPT); /* the listener is non-blocking from here on */
    count = 1;
    printf("%s: WSA_MAXIMUM_WAIT_EVENTS=%d: one wait holds the listener's event and at most %d clients'; client %d is refused\n",
           seed_model, WSA_MAXIMUM_WAIT_EVENTS, MAX_CLIENTS, MAX_CLIENTS + 1);
    seed_ready(listener);

    for (;;) {
        /* Never an empty wait (the listener's event is always there), so no spinning without clients. */
        DWORD signaled = WSAWaitForMultipleEvents(count, events, FALSE, WSA_INFINITE, FALSE);
        if (signaled == WSA_WAIT_FAILED) {
            seed_fail("WSAWaitForMultipleEvents");
        }
        /* The wait names only the lowest signaled place. Look at every place from there on (post 000's
           loop), or a busy client in a low place would starve the ones above it. */
        for (int i = (int) (signaled - WSA_WAIT_EVENT_0); i < count;) {
            WSANETWORKEVENTS happened;
            if (WSAEnumNetworkEvents(sockets[i], events[i], &happened) == SOCKET_ERROR) {
                if (i == 0) {
                    seed_fail("WSAEnumNetworkEvents on the listener");
                }
                remove_client(i); /* a socket Winsock cannot report on is of no use */
            } else if (i == 0) {
                if (happened.lNetworkEvents & FD_ACCEPT) {
                    accept_or_refuse(listener);
                }
                i++;
            } else if (happened.lNetworkEvents == 0 || serve(sockets[i], clients[i], &happened)) {
                i++;
            } else {
                remove_client(i); /* place i now holds the last client: look at it too */
            }
        }
    }
}
