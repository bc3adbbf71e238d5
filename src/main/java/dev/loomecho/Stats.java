package dev.loomecho;

/**
 * A snapshot of a server's counters, taken by {@link EchoServer#stats()}.
 *
 * @param accepted   connections admitted and served since start
 * @param active     connections open right now
 * @param rejected   connections closed at once because {@code maxConnections} were already open, or because
 *                   no read buffer could be had for them (see {@code bufferAllocationFailures})
 * @param bytesIn    bytes read from clients
 * @param bytesOut   bytes written back to clients
 * @param idleClosed connections closed by the idle timeout
 * @param errors     connections that ended with an unexpected error (resets and EOFs are not errors)
 * @param udpEchoed  UDP datagrams echoed
 * @param udpDropped UDP datagrams not answered: refused by the reflection guards or the per-source rate
 *                   limit, or whose reply could not be sent (e.g. no route back to a spoofed source)
 * @param bufferBytesInUse   native memory of the read buffers open connections hold now
 * @param bufferBytesPooled  native memory of read buffers allocated and free for reuse; unused ones are
 *                           returned to the OS within about two seconds, except the smallest class's 64 KiB
 *                           slabs (kept while the server runs) and buffers the JDK holds for good (reused first)
 * @param bufferAllocationFailures read buffers not handed out: memory cap reached or refused by the JVM. A
 *                           connection that wanted to grow keeps its buffer; a new one is rejected
 * @param tls        the TLS listener's share of the TCP counters above, and its failed handshakes
 */
public record Stats(
        long accepted, long active, long rejected, long bytesIn, long bytesOut, long idleClosed, long errors,
        long udpEchoed, long udpDropped, long bufferBytesInUse, long bufferBytesPooled, long bufferAllocationFailures,
        TlsStats tls) {

    /** Counters of a server without a TLS listener. */
    public Stats(long accepted, long active, long rejected, long bytesIn, long bytesOut, long idleClosed, long errors,
                 long udpEchoed, long udpDropped, long bufferBytesInUse, long bufferBytesPooled,
                 long bufferAllocationFailures) {
        this(accepted, active, rejected, bytesIn, bytesOut, idleClosed, errors, udpEchoed, udpDropped, bufferBytesInUse,
                bufferBytesPooled, bufferAllocationFailures, TlsStats.NONE);
    }
}
