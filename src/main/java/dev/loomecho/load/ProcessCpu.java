package dev.loomecho.load;

import java.lang.management.ManagementFactory;

/** CPU time used by this process so far, so a load run can say whether the client itself was the bottleneck. */
final class ProcessCpu {

    private ProcessCpu() {
    }

    /** Nanoseconds of CPU (user + system, every thread), or -1 where the JVM does not report it. */
    static long nanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }
}
