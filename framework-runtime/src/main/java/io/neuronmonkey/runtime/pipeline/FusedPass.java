package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.NeuronMonkeyException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * One pass over a data set that feeds several consumers (streaming accumulators, the activation cache writer). With
 * more than one thread, data loading and model runs happen on worker threads while consumers update on their own
 * lanes: each consumer still sees every batch exactly once and in data order, on one thread at a time, so its result
 * is identical whatever the thread count. In-flight batches are bounded, so memory does not grow with the data.
 */
final class FusedPass {

    /** Where a batch's activations come from: a model run, or the cache. */
    interface Activations {
        Map<String, Tensor> of(Batch batch, long index);
    }

    /** Something fed with every batch in order. */
    interface Consumer {
        String id();

        List<String> layers();

        void accept(ActivationBatch batch);
    }

    /** A consumer that failed, and why; the others went on. */
    record Failure(String id, RuntimeException error) {
    }

    private FusedPass() {
    }

    /**
     * @return the consumers that failed (the pass itself failing throws)
     */
    static List<Failure> run(Dataset data, int batchSize, Activations source, List<? extends Consumer> consumers, int threads,
                             ProgressReporter progress, BooleanSupplier cancelled) {
        Map<String, RuntimeException> failed = new ConcurrentHashMap<>();
        if (threads <= 1) {
            Iterator<Batch> it = data.batches(batchSize);
            long index = 0;
            while (it.hasNext() && (consumers.isEmpty() || failed.size() < consumers.size())) {
                checkCancelled(cancelled);
                Batch b = it.next();
                Map<String, Tensor> act = source.of(b, index++);
                for (Consumer c : consumers) {
                    feed(c, b, act, failed);
                }
                progress.advance(b.size());
            }
        } else {
            parallel(data, batchSize, source, consumers, threads, progress, cancelled, failed);
        }
        List<Failure> out = new ArrayList<>();
        for (Consumer c : consumers) {
            if (failed.containsKey(c.id())) {
                out.add(new Failure(c.id(), failed.get(c.id())));
            }
        }
        return out;
    }

    private static void feed(Consumer c, Batch b, Map<String, Tensor> act, Map<String, RuntimeException> failed) {
        if (failed.containsKey(c.id())) {
            return;
        }
        Map<String, Tensor> own = new LinkedHashMap<>();
        for (String l : c.layers()) {
            own.put(l, act.get(l));
        }
        try {
            c.accept(new ActivationBatch(b, own));
        } catch (RuntimeException e) {
            failed.put(c.id(), e);
        }
    }

    private record Item(long index, Batch batch, Map<String, Tensor> activations) {
    }

    private static void parallel(Dataset data, int batchSize, Activations source, List<? extends Consumer> consumers, int threads,
                                 ProgressReporter progress, BooleanSupplier cancelled, Map<String, RuntimeException> failed) {
        Iterator<Batch> it = data.batches(batchSize);
        Object itLock = new Object();
        long[] nextIndex = {0};
        boolean[] exhausted = {false};
        Map<Long, Item> ready = new ConcurrentHashMap<>();
        Object readyLock = new Object();
        AtomicReference<RuntimeException> passError = new AtomicReference<>();
        Semaphore inFlight = new Semaphore(2 * threads + 2);
        ExecutorService workers = Executors.newFixedThreadPool(threads, daemon("nm-model"));
        List<ExecutorService> lanes = new ArrayList<>();
        for (int i = 0; i < consumers.size(); i++) {
            lanes.add(Executors.newSingleThreadExecutor(daemon("nm-consumer-" + i)));
        }
        try {
            for (int w = 0; w < threads; w++) {
                workers.submit(() -> {
                    while (passError.get() == null) {
                        try {
                            inFlight.acquire();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                        Batch b = null;
                        long index = -1;
                        try {
                            synchronized (itLock) {
                                if (!exhausted[0] && it.hasNext()) {
                                    b = it.next();
                                    index = nextIndex[0]++;
                                } else {
                                    exhausted[0] = true;
                                }
                            }
                        } catch (RuntimeException e) {
                            passError.compareAndSet(null, e);
                        }
                        if (b == null) {
                            inFlight.release();
                            synchronized (readyLock) {
                                readyLock.notifyAll();
                            }
                            return;
                        }
                        try {
                            Map<String, Tensor> act = source.of(b, index);
                            ready.put(index, new Item(index, b, act));
                        } catch (RuntimeException e) {
                            passError.compareAndSet(null, e);
                        }
                        synchronized (readyLock) {
                            readyLock.notifyAll();
                        }
                    }
                });
            }
            long next = 0;
            while (true) {
                Item item;
                synchronized (readyLock) {
                    while ((item = ready.remove(next)) == null) {
                        if (passError.get() != null) {
                            throw passError.get();
                        }
                        boolean done;
                        synchronized (itLock) {
                            done = exhausted[0] && next >= nextIndex[0];
                        }
                        if (done) {
                            break;
                        }
                        checkCancelled(cancelled);
                        readyLock.wait(200);
                    }
                }
                if (item == null) {
                    break;
                }
                Item current = item;
                if (consumers.isEmpty()) {
                    inFlight.release();
                }
                AtomicInteger pending = new AtomicInteger(consumers.size());
                for (int i = 0; i < consumers.size(); i++) {
                    Consumer c = consumers.get(i);
                    lanes.get(i).submit(() -> {
                        try {
                            feed(c, current.batch(), current.activations(), failed);
                        } catch (Error e) {
                            // a lane must never drop a batch silently: the consumer is failed, not left incomplete
                            failed.putIfAbsent(c.id(), new NeuronMonkeyException("analyzer failed: " + e, e));
                        } finally {
                            if (pending.decrementAndGet() == 0) {
                                inFlight.release();
                            }
                        }
                    });
                }
                progress.advance(current.batch().size());
                next++;
            }
            for (ExecutorService lane : lanes) {
                lane.shutdown();
            }
            for (ExecutorService lane : lanes) {
                if (!lane.awaitTermination(1, TimeUnit.HOURS)) {
                    throw new AnalysisException("analyzers did not finish within an hour after the last batch");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NeuronMonkeyException("pass interrupted", e);
        } finally {
            passError.compareAndSet(null, new NeuronMonkeyException("pass stopped"));
            workers.shutdownNow();
            lanes.forEach(ExecutorService::shutdownNow);
        }
    }

    private static void checkCancelled(BooleanSupplier cancelled) {
        if (cancelled.getAsBoolean()) {
            throw new NeuronMonkeyException("run cancelled");
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
