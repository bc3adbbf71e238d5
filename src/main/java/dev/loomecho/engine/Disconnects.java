package dev.loomecho.engine;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Tells ordinary ends of a conversation (reset, broken pipe, closed under us) from real errors. */
final class Disconnects {

    static final Logger log = LoggerFactory.getLogger(Connection.class);

    private Disconnects() {
    }

    static boolean isExpected(Throwable t) {
        if (t instanceof ClosedChannelException          // and AsynchronousCloseException: closed by another thread
                || t instanceof EOFException
                || t instanceof TimeoutException
                || t instanceof InterruptedException
                || t instanceof SSLException) {         // the TLS peer's doing: a failed handshake, a truncation, a bad record
            return true;
        }
        if (t instanceof IOException) {
            String message = String.valueOf(t.getMessage());
            return message.contains("reset") || message.contains("Broken pipe") || message.contains("closed");
        }
        return false;
    }
}
