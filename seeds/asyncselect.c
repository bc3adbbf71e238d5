/*
 * asyncselect.c - the WSAAsyncSelect model (seed posts 003 and 004) as an echo server.
 *
 * Readiness arrives as window messages. WSAAsyncSelect(socket, window, WM_SOCKET, FD_...) makes Winsock
 * post WM_SOCKET to the window when one of those network events happens (wParam: the socket; lParam:
 * the event, and an error code in its high word), and the thread's message loop - GetMessage,
 * DispatchMessage - hands each message to the window procedure. The window never shows: its parent is
 * HWND_MESSAGE, a message-only window, which is why this runs headless (under Wine too).
 *
 * The same re-enabling rule as WSAEventSelect: after FD_READ is posted, the next one comes only once
 * recv() has been called; FD_WRITE only after a send() failed with WSAEWOULDBLOCK.
 *
 * Its limit is not a number of sockets but the thread: every socket's events go through one message
 * queue and one window procedure, one message at a time, on the thread that created the window. And
 * Winsock hands back only the socket, so the program keeps its own socket -> state table (Java's
 * SelectionKey.attachment() is that table).
 *
 * Java: SelectorEngine (one thread, events dispatched one by one); the message loop is its select loop.
 */
#include "seed.h"

#define WM_SOCKET (WM_USER + 0)

typedef struct {
    SOCKET socket;
    int received;        /* bytes in buffer still to echo; 0 = nothing to echo */
    int sent;            /* how many of them were sent already */
    BOOL peer_finished;  /* FD_CLOSE came: the client sends nothing more, but unread data may remain */
    char buffer[];       /* seed_buffer_size bytes */
} Client;

static SOCKET listener;
static Client **clients; /* the socket -> state table: looked up by a linear scan, grown by doubling */
static int client_count, client_capacity;

static Client *find(SOCKET socket) {
    for (int i = 0; i < client_count; i++) {
        if (clients[i]->socket == socket) {
            return clients[i];
        }
    }
    return NULL;
}

static void remove_client(Client *client) {
    closesocket(client->socket); /* also stops its messages; any already queued find no client */
    for (int i = 0; i < client_count; i++) {
        if (clients[i] == client) {
            clients[i] = clients[--client_count];
            break;
        }
    }
    free(client);
}

static void accept_client(HWND window) {
    SOCKET socket = accept(listener, NULL, NULL);
    if (socket == INVALID_SOCKET) {
        return; /* WSAEWOULDBLOCK: the client left before we got to it */
    }
    Client *client = calloc(1, sizeof *client + seed_buffer_size);
    if (client != NULL && client_count == client_capacity) {
        int capacity = client_capacity == 0 ? 64 : 2 * client_capacity;
        Client **grown = realloc(clients, capacity * sizeof *grown);
        if (grown == NULL) {
            free(client);
            client = NULL;
        } else {
            clients = grown;
            client_capacity = capacity;
        }
    }
    if (client == NULL) {
        printf("%s: no memory for a new client: closing it\n", seed_model);
        closesocket(socket);
        return;
    }
    client->socket = socket;
    clients[client_count++] = client;
    /* The accepted socket inherits the listener's FD_ACCEPT selection: replace it. */
    WSAAsyncSelect(socket, window, WM_SOCKET, FD_READ | FD_WRITE | FD_CLOSE);
}

/* Sends what is left of the buffer; FALSE when the connection is finished. */
static BOOL send_rest(Client *client, BOOL *blocked) {
    while (client->sent < client->received) {
        int n = send(client->socket, client->buffer + client->sent, client->received - client->sent, 0);
        if (n == SOCKET_ERROR) {
            *blocked = TRUE; /* WOULDBLOCK re-enables FD_WRITE: a message comes when there is room */
            return WSAGetLastError() == WSAEWOULDBLOCK;
        }
        client->sent += n;
    }
    client->received = client->sent = 0;
    return TRUE;
}

/*
 * Echoes as far as the socket allows: what is still unsent, then one read (which re-enables FD_READ)
 * and its echo; after FD_CLOSE, reads on until recv() returns 0. FALSE when the connection is finished.
 * recv() decides, not the message's error code: a message can be stale (see window_procedure).
 */
static BOOL echo(Client *client) {
    BOOL blocked = FALSE;
    do {
        if (!send_rest(client, &blocked)) {
            return FALSE;
        }
        if (blocked) {
            return TRUE; /* wait for FD_WRITE; meanwhile unread data stays in the kernel: back-pressure */
        }
        int n = recv(client->socket, client->buffer, seed_buffer_size, 0);
        if (n == 0) {
            return FALSE; /* the client's last byte has come, and everything before it was echoed */
        }
        if (n == SOCKET_ERROR) {
            return WSAGetLastError() == WSAEWOULDBLOCK; /* nothing to read: wait for FD_READ */
        }
        client->received = n;
        client->sent = 0;
        if (!send_rest(client, &blocked)) {
            return FALSE;
        }
    } while (client->peer_finished && !blocked);
    return TRUE;
}

static LRESULT CALLBACK window_procedure(HWND window, UINT message, WPARAM wparam, LPARAM lparam) {
    if (message != WM_SOCKET) {
        return DefWindowProc(window, message, wparam, lparam);
    }
    SOCKET socket = (SOCKET) wparam;
    if (socket == listener) {
        if (WSAGETSELECTEVENT(lparam) == FD_ACCEPT) {
            accept_client(window);
        }
        return 0;
    }
    /* Messages posted before a socket was closed still arrive, possibly once its handle has been
       reused for a new client: so an unknown socket is ignored, and the error word is not trusted. */
    Client *client = find(socket);
    if (client == NULL) {
        return 0;
    }
    if (WSAGETSELECTEVENT(lparam) == FD_CLOSE) {
        client->peer_finished = TRUE; /* the seeds closed here and lost whatever was still unread */
    }
    if (!echo(client)) {
        remove_client(client);
    }
    return 0;
}

int main(int argc, char **argv) {
    seed_model = "asyncselect";
    listener = seed_listen(seed_parse_options(argc, argv));

    WNDCLASSA window_class = {0};
    window_class.lpfnWndProc = window_procedure;
    window_class.hInstance = GetModuleHandle(NULL);
    window_class.lpszClassName = "loom-echo-seed-asyncselect";
    if (!RegisterClassA(&window_class)) {
        seed_fail("RegisterClass");
    }
    HWND window = CreateWindowExA(0, window_class.lpszClassName, NULL, 0, 0, 0, 0, 0,
                                  HWND_MESSAGE /* message-only: no desktop needed */, NULL,
                                  window_class.hInstance, NULL);
    if (window == NULL) {
        seed_fail("CreateWindowEx(HWND_MESSAGE)");
    }
    if (WSAAsyncSelect(listener, window, WM_SOCKET, FD_ACCEPT) == SOCKET_ERROR) { /* also non-blocking */
        seed_fail("WSAAsyncSelect");
    }
    printf("%s: one thread: every socket's events are messages to one window, handled one at a time; no 64-socket limit\n",
           seed_model);
    seed_ready(listener);

    /* The message loop is the event loop. GetMessage blocks while the queue is empty: no spinning. */
    MSG message;
    BOOL got;
    while ((got = GetMessage(&message, NULL, 0, 0)) > 0) {
        DispatchMessage(&message);
    }
    if (got < 0) {
        seed_fail("GetMessage");
    }
    return 0;
}
