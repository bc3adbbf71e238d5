package dev.loomecho.metrics;

import dev.loomecho.Stats;
import dev.loomecho.TlsStats;

/** Renders {@link Stats} and {@link RuntimeGauges} as Prometheus text: HELP and TYPE lines, then one sample per metric. */
final class PrometheusText {

    private PrometheusText() {
    }

    /**
     * With a TLS listener, each TCP connection metric has two samples, {@code tls="false"} for the plain
     * listener and {@code tls="true"} for the TLS one (they sum to the total), and the failed handshakes
     * are counted; without one, one sample each, labelled by engine only, as before TLS existed.
     */
    static String render(String engine, Stats stats, RuntimeGauges threads, boolean tls) {
        String labels = "{engine=\"" + engine + "\"}";
        StringBuilder text = new StringBuilder(1024);
        TlsStats secure = stats.tls();
        Listeners perListener = tls ? new Listeners("{engine=\"" + engine + "\",tls=\"false\"}",
                "{engine=\"" + engine + "\",tls=\"true\"}") : new Listeners(labels, null);
        perListener.counter(text, "loomecho_connections_accepted_total", "TCP connections admitted and served.", stats.accepted(), secure.accepted());
        perListener.gauge(text, "loomecho_connections_active", "TCP connections open now.", stats.active(), secure.active());
        perListener.counter(text, "loomecho_connections_rejected_total", "TCP connections closed at once: max-connections reached.", stats.rejected(), secure.rejected());
        perListener.counter(text, "loomecho_connections_idle_closed_total", "TCP connections closed by the idle timeout.", stats.idleClosed(), secure.idleClosed());
        perListener.counter(text, "loomecho_connection_errors_total", "TCP connections ended by an unexpected error.", stats.errors(), secure.errors());
        perListener.counter(text, "loomecho_received_bytes_total", "Bytes read from TCP clients (decrypted, over TLS).", stats.bytesIn(), secure.bytesIn());
        perListener.counter(text, "loomecho_sent_bytes_total", "Bytes echoed to TCP clients (before encryption, over TLS).", stats.bytesOut(), secure.bytesOut());
        if (tls) {
            counter(text, "loomecho_tls_handshake_failures_total", "TLS handshakes that failed: a side refused the other, or the client left.", labels, secure.handshakeFailures());
        }
        counter(text, "loomecho_udp_datagrams_echoed_total", "UDP datagrams echoed.", labels, stats.udpEchoed());
        counter(text, "loomecho_udp_datagrams_dropped_total", "UDP datagrams not answered: refused by the reflection guards or rate limit, or the reply failed.", labels, stats.udpDropped());
        gauge(text, "loomecho_buffer_bytes_in_use", "Native memory of the read buffers open connections hold.", labels, stats.bufferBytesInUse());
        gauge(text, "loomecho_buffer_bytes_pooled", "Native memory of read buffers allocated and free for reuse; unused ones are freed within about two seconds.", labels, stats.bufferBytesPooled());
        counter(text, "loomecho_buffer_allocation_failures_total", "Read buffers not handed out: memory cap reached or refused by the JVM.", labels, stats.bufferAllocationFailures());
        gauge(text, "loomecho_platform_threads", "Live platform (OS) threads in the JVM, carrier threads included.", labels, threads.platformThreads());
        // The virtual-thread scheduler's gauges exist only where the JVM reports them (JDK 24+).
        if (threads.schedulerParallelism() >= 0) {
            gauge(text, "loomecho_vthread_scheduler_parallelism", "Carrier threads the virtual-thread scheduler aims to run.", labels, threads.schedulerParallelism());
            gauge(text, "loomecho_vthread_scheduler_pool_size", "Carrier threads the virtual-thread scheduler has now.", labels, threads.schedulerPoolSize());
            gauge(text, "loomecho_vthread_scheduler_mounted", "Virtual threads mounted on a carrier now.", labels, threads.mountedVirtualThreads());
            gauge(text, "loomecho_vthread_scheduler_queued", "Virtual threads ready to run, queued for a carrier.", labels, threads.queuedVirtualThreads());
        }
        return text.toString();
    }

    /** The labels of each listener's sample: the plain one's, and the TLS one's or null when there is none. */
    private record Listeners(String plain, String tls) {

        void counter(StringBuilder text, String name, String help, long total, long tlsShare) {
            samples(text, name, help, "counter", total, tlsShare);
        }

        void gauge(StringBuilder text, String name, String help, long total, long tlsShare) {
            samples(text, name, help, "gauge", total, tlsShare);
        }

        private void samples(StringBuilder text, String name, String help, String type, long total, long tlsShare) {
            if (tls == null) {
                sample(text, name, help, type, plain, total);
                return;
            }
            sample(text, name, help, type, plain, Math.max(0, total - tlsShare)); // active is read a moment apart
            text.append(name).append(tls).append(' ').append(tlsShare).append('\n');
        }
    }

    private static void counter(StringBuilder text, String name, String help, String labels, long value) {
        sample(text, name, help, "counter", labels, value);
    }

    private static void gauge(StringBuilder text, String name, String help, String labels, long value) {
        sample(text, name, help, "gauge", labels, value);
    }

    private static void sample(StringBuilder text, String name, String help, String type, String labels, long value) {
        text.append("# HELP ").append(name).append(' ').append(help).append('\n')
            .append("# TYPE ").append(name).append(' ').append(type).append('\n')
            .append(name).append(labels).append(' ').append(value).append('\n');
    }
}
