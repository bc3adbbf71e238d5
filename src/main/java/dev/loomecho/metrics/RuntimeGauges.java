package dev.loomecho.metrics;

import java.lang.management.ManagementFactory;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * What the JVM's threads are doing now: live platform (OS) threads, and the virtual-thread scheduler's
 * view — its parallelism (carrier threads it aims to run), pool size (carriers that exist), virtual
 * threads mounted on a carrier, and virtual threads queued for one. The scheduler figures come from the
 * {@code jdk.management:type=VirtualThreadScheduler} MBean of JDK 24+, read by attribute name so this
 * compiles and runs on Java 21, where they are -1.
 *
 * @param platformThreads         live platform threads, carriers included
 * @param schedulerParallelism    carrier threads the scheduler aims for; -1 where unknown
 * @param schedulerPoolSize       carrier threads that exist; -1 where unknown
 * @param mountedVirtualThreads   virtual threads running on a carrier now; -1 where unknown
 * @param queuedVirtualThreads    virtual threads ready to run, waiting for a carrier; -1 where unknown
 */
public record RuntimeGauges(long platformThreads, long schedulerParallelism, long schedulerPoolSize,
                            long mountedVirtualThreads, long queuedVirtualThreads) {

    private static final ObjectName SCHEDULER = schedulerName();
    private static final String[] ATTRIBUTES =
            {"Parallelism", "PoolSize", "MountedVirtualThreadCount", "QueuedVirtualThreadCount"};

    /** Reads the gauges now. */
    public static RuntimeGauges read() {
        long[] scheduler = {-1, -1, -1, -1};
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            if (SCHEDULER != null && server.isRegistered(SCHEDULER)) {
                AttributeList values = server.getAttributes(SCHEDULER, ATTRIBUTES);
                for (Attribute value : values.asList()) {
                    int i = java.util.Arrays.asList(ATTRIBUTES).indexOf(value.getName());
                    if (i >= 0 && value.getValue() instanceof Number number) {
                        scheduler[i] = number.longValue();
                    }
                }
            }
        } catch (JMException unavailable) {
            // an older JDK or another VM: the scheduler gauges stay -1
        }
        return new RuntimeGauges(ManagementFactory.getThreadMXBean().getThreadCount(),
                scheduler[0], scheduler[1], scheduler[2], scheduler[3]);
    }

    private static ObjectName schedulerName() {
        try {
            return new ObjectName("jdk.management:type=VirtualThreadScheduler");
        } catch (JMException impossible) {
            return null;
        }
    }
}
