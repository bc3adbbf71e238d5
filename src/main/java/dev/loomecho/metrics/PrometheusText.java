package dev.loomecho.metrics;

import dev.loomecho.Stats;

/** Renders {@link Stats} and {@link RuntimeGauges} as Prometheus text: HELP and TYPE lines, then one sample per metric. */
final class PrometheusText {

    private PrometheusText() {
    }

    static String render(String engine, Stats stats, RuntimeGauges threads) {
        String labels = "{engine=\"" + engine + "\"}";
        StringBuilder text = new StringBuilder(1024);
        counter(text, "loomecho_connections_accepted_total", "TCP connections admitted and served.", labels, stats.accepted());
        gauge(text, "loomecho_connections_active", "TCP connections open now.", labels, stats.active());
        counter(text, "loomecho_connections_rejected_total", "TCP connections closed at once: max-connections reached.", labels, stats.rejected());
        counter(text, "loomecho_connections_idle_closed_total", "TCP connections closed by the idle timeout.", labels, stats.idleClosed());
        counter(text, "loomecho_connection_errors_total", "TCP connections ended by an unexpected error.", labels, stats.errors());
        counter(text, "loomecho_received_bytes_total", "Bytes read from TCP clients.", labels, stats.bytesIn());
        counter(text, "loomecho_sent_bytes_total", "Bytes echoed to TCP clients.", labels, stats.bytesOut());
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
