package dev.loomecho.engine;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * JFR events for connection open and close, so {@code jcmd PID JFR.start} recordings show them in JDK
 * Mission Control next to the JDK's own socket and virtual-thread events. Off unless a recording asks
 * for them; {@code isEnabled()} then costs next to nothing.
 */
final class ConnectionEvents {

    private ConnectionEvents() {
    }

    @Name("dev.loomecho.ConnectionOpened")
    @Label("Connection Opened")
    @Category({"loom-echo"})
    @Description("A client connection was admitted")
    @StackTrace(false)
    static final class Opened extends Event {
        @Label("Connection Id")
        long id;

        @Label("Remote Address")
        String remote;
    }

    @Name("dev.loomecho.ConnectionClosed")
    @Label("Connection Closed")
    @Category({"loom-echo"})
    @Description("A client connection ended; the event's duration is the connection's lifetime")
    @StackTrace(false)
    static final class Closed extends Event {
        @Label("Connection Id")
        long id;

        @Label("Remote Address")
        String remote;

        @Label("Bytes In")
        @DataAmount
        long bytesIn;

        @Label("Bytes Out")
        @DataAmount
        long bytesOut;

        @Label("Lifetime")
        @Timespan
        long lifetimeNanos;
    }

    static void opened(Connection connection) {
        Opened event = new Opened();
        if (event.isEnabled()) {
            event.id = connection.id();
            event.remote = String.valueOf(connection.remote());
            event.commit();
        }
    }

    static void closed(Connection connection, long lifetimeNanos) {
        Closed event = new Closed();
        if (event.isEnabled()) {
            event.id = connection.id();
            event.remote = String.valueOf(connection.remote());
            event.bytesIn = connection.received();
            event.bytesOut = connection.echoed();
            event.lifetimeNanos = lifetimeNanos;
            event.commit();
        }
    }
}
