package dev.loomecho.seeds;

import java.util.Locale;
import java.util.OptionalInt;

/**
 * The seed servers in {@code seeds/}, one per Winsock model, each with the limit its model sets and
 * the engine that replaces it (docs/MODELS.md).
 */
public enum SeedModel {
    /** {@code FD_SETSIZE} = 64 handles per fd_set, the listener being one of them. */
    SELECT("select", 63, "selector"),
    /** One thread and one message queue; no limit on sockets. */
    ASYNCSELECT("asyncselect", 0, "selector"),
    /** {@code WSA_MAXIMUM_WAIT_EVENTS} = 64 events per wait, the listener's being one of them. */
    EVENTSELECT("eventselect", 63, "selector"),
    /** The same 64-event wait, the accept's event being one of them. */
    OVERLAPPED_EVENT("overlapped-event", 63, "future"),
    /** One thread runs every completion routine; no limit on sockets. */
    OVERLAPPED_ROUTINE("overlapped-routine", 0, "completion"),
    /** A fixed pool of threads on one port; no limit on sockets. */
    IOCP("iocp", 0, "completion");

    private final String fileName;
    private final int capacity;
    private final String engine;

    SeedModel(String fileName, int capacity, String engine) {
        this.fileName = fileName;
        this.capacity = capacity;
        this.engine = engine;
    }

    /** Its name in {@code seeds/NAME.c} and {@code ./run.sh seed-server NAME}. */
    public String fileName() {
        return fileName;
    }

    /** How many clients it serves at once before it refuses the next, if its model sets a limit. */
    public OptionalInt capacity() {
        return capacity == 0 ? OptionalInt.empty() : OptionalInt.of(capacity);
    }

    /** The loom-echo engine that stands for this model. */
    public String engine() {
        return engine;
    }

    static SeedModel named(String fileName) {
        for (SeedModel model : values()) {
            if (model.fileName.equals(fileName.trim().toLowerCase(Locale.ROOT))) {
                return model;
            }
        }
        throw new IllegalArgumentException("no seed server named '" + fileName + "'");
    }
}
