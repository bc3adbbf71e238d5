package dev.loomecho;

/**
 * A snapshot of a server's counters, taken by {@link EchoServer#stats()}.
 *
 * @param accepted   connections admitted and served since start
 * @param active     connections open right now
 * @param rejected   connections closed at once because {@code maxConnections} were already open
 * @param bytesIn    bytes read from clients
 * @param bytesOut   bytes written back to clients
 * @param idleClosed connections closed by the idle timeout
 * @param errors     connections that ended with an unexpected error (resets and EOFs are not errors)
 * @param udpEchoed  UDP datagrams echoed
 * @param udpDropped UDP datagrams dropped by the reflection guards or the per-source rate limit
 */
public record Stats(
        long accepted, long active, long rejected, long bytesIn, long bytesOut, long idleClosed, long errors,
        long udpEchoed, long udpDropped) {
}
