package io.neuronmonkey.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.neuronmonkey.api.ModelException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A bounded cache of ONNX Runtime sessions, one per rewritten model (a set of captured values and intervened
 * values), least recently used first out. A session in use by a run is closed only when that run returns it.
 */
final class Sessions implements AutoCloseable {

    /** One cached session and how many runs hold it. */
    static final class Lease implements AutoCloseable {
        final OrtSession session;
        private final Sessions owner;
        private int users;
        private boolean evicted;

        private Lease(OrtSession session, Sessions owner) {
            this.session = session;
            this.owner = owner;
        }

        @Override
        public void close() {
            owner.release(this);
        }
    }

    private final OrtEnvironment env;
    private final OrtSession.SessionOptions options;
    private final int capacity;
    private final String where;
    private final LinkedHashMap<String, Lease> cache = new LinkedHashMap<>(16, 0.75f, true);
    private int created;
    private int building;
    private boolean closed;

    Sessions(OrtEnvironment env, OrtSession.SessionOptions options, int capacity, String where) {
        this.env = env;
        this.options = options;
        this.capacity = capacity;
        this.where = where;
    }

    /**
     * @param key   what the model holds
     * @param model builds the serialized model on a miss
     * @return the session, held until the lease is closed
     */
    Lease acquire(String key, Supplier<byte[]> model) {
        synchronized (this) {
            requireOpen();
            Lease l = cache.get(key);
            if (l != null) {
                l.users++;
                return l;
            }
            building++;
        }
        // sessions are built outside the lock: building one can take a while, and other fetch sets may run meanwhile
        OrtSession session;
        try {
            session = env.createSession(model.get(), options);
        } catch (OrtException e) {
            throw new ModelException(where + ": ONNX Runtime cannot build the session for " + key + ": "
                    + e.getMessage(), e);
        } finally {
            built();
        }
        List<Lease> retired = new ArrayList<>();
        Lease lease;
        synchronized (this) {
            if (closed) {
                closeQuietly(session);
                requireOpen();
            }
            Lease raced = cache.get(key);
            if (raced != null) {
                closeQuietly(session);
                raced.users++;
                return raced;
            }
            lease = new Lease(session, this);
            lease.users = 1;
            cache.put(key, lease);
            created++;
            Iterator<Map.Entry<String, Lease>> it = cache.entrySet().iterator();
            while (cache.size() > capacity && it.hasNext()) {
                Lease old = it.next().getValue();
                if (old == lease) {
                    continue;
                }
                it.remove();
                old.evicted = true;
                if (old.users == 0) {
                    retired.add(old);
                }
            }
        }
        retired.forEach(r -> closeQuietly(r.session));
        return lease;
    }

    /** A build has ended: the options of a cache closed meanwhile are released once no build uses them. */
    private void built() {
        boolean last;
        synchronized (this) {
            building--;
            last = closed && building == 0;
        }
        if (last) {
            options.close();
        }
    }

    private void release(Lease l) {
        boolean close;
        synchronized (this) {
            l.users--;
            close = l.users == 0 && l.evicted;
        }
        if (close) {
            closeQuietly(l.session);
        }
    }

    /** @return how many sessions were built so far (a measure of cache misses) */
    synchronized int created() {
        return created;
    }

    private void requireOpen() {
        if (closed) {
            throw new ModelException(where + " is closed");
        }
    }

    private static void closeQuietly(OrtSession s) {
        try {
            s.close();
        } catch (OrtException e) {
            // a session that cannot be closed has nothing left to release
        }
    }

    @Override
    public void close() {
        List<Lease> all;
        boolean idle;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            idle = building == 0;
            all = new ArrayList<>(cache.values());
            cache.clear();
        }
        for (Lease l : all) {
            synchronized (this) {
                l.evicted = true;
                if (l.users > 0) {
                    continue;
                }
            }
            closeQuietly(l.session);
        }
        if (idle) {
            options.close();
        }
    }
}
