package dev.loomecho.load;

import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;

/** Why a connection of a load run failed. {@link LoadResult} counts each, so a failed run says why. */
public enum Failure {
    WRONG_BYTE("wrong-byte", "an echoed byte differed from the one sent"),
    EXTRA_BYTES("extra-bytes", "the server sent bytes that were never sent to it"),
    SHORT_ECHO("short-echo", "the server closed the connection before the whole echo was back"),
    CLOSED_DURING_HOLD("closed-during-hold",
            "the server closed the connection before its first echo, after the --hold: is its idle timeout shorter?"),
    RESET("reset", "the connection was reset (or closed by the server while the client was sending)"),
    TIMEOUT("timeout", "the server sent nothing for the whole --timeout while an echo was due"),
    NOT_CLOSED("not-closed", "the server did not close the connection within the --timeout after the client's half-close"),
    IO_ERROR("io-error", "an I/O error"),
    CLIENT_ERROR("client-error", "the load generator itself failed on the connection (out of memory?)");

    private final String key;
    private final String description;

    Failure(String key, String description) {
        this.key = key;
        this.description = description;
    }

    /** The name in {@code --json} output. */
    public String key() {
        return key;
    }

    public String description() {
        return description;
    }

    /** What a failed socket operation means for the run. */
    static Failure of(IOException e) {
        if (e instanceof SocketTimeoutException) {
            return TIMEOUT;
        }
        String message = e.getMessage();
        // The JDK has no subclass for these: "Connection reset", "Connection reset by peer", "Broken pipe".
        if (e instanceof SocketException && message != null && (message.contains("reset") || message.contains("Broken pipe"))) {
            return RESET;
        }
        return IO_ERROR;
    }
}
