package dev.loomecho.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;

/** Client {@code SSLContext}s for loom-echo's own clients ({@code load --tls-ca}), trusting given CAs only. */
public final class ClientContexts {

    private ClientContexts() {
    }

    /**
     * A client context whose only trust anchors are the PEM certificates in {@code caFile} (a CA, or a
     * self-signed server certificate). It checks the chain, not the host name. A file that is missing or
     * holds no certificate raises {@link IllegalArgumentException} naming it.
     */
    public static SSLContext trusting(Path caFile) {
        if (!Files.isRegularFile(caFile)) {
            throw new IllegalArgumentException(caFile + ": " + (Files.exists(caFile) ? "not a regular file" : "no such file"));
        }
        try {
            return KeyStores.context(null, KeyStores.trusting(Pem.certificates(caFile)));
        } catch (IOException e) {
            throw new IllegalArgumentException(caFile + ": cannot be read (" + e + ")", e);
        }
    }
}
