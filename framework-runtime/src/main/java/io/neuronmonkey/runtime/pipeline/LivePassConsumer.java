package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.model.LayerInfo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Feeds a {@link RunListener.PassWatcher} from a fused pass as one more consumer on its own lane; its failure is
 * ignored by the runner (it never fails a step) and it exists only when a listener asks for the pass.
 */
final class LivePassConsumer implements FusedPass.Consumer {

    /** The consumer id the runner recognizes and skips in the pass's failures. */
    static final String ID = "\u0000live-view";

    private final RunListener.PassWatcher watcher;
    private final List<String> layers;

    private LivePassConsumer(RunListener.PassWatcher watcher, List<String> layers) {
        this.watcher = watcher;
        this.layers = layers;
    }

    /** @return a consumer for the listener's watcher of this pass, or null when the listener watches nothing */
    static LivePassConsumer of(RunListener listener, String data, PreparedExperiment exp, List<String> fetch) {
        if (listener == RunListener.NONE || exp.model() == null) {
            return null;
        }
        Map<String, LayerInfo> byName = new LinkedHashMap<>();
        exp.model().layers().forEach(l -> byName.put(l.name(), l));
        List<LayerInfo> infos = new ArrayList<>();
        for (String name : fetch) {
            if (byName.containsKey(name)) {
                infos.add(byName.get(name));
            }
        }
        RunListener.PassWatcher w;
        try {
            w = listener.passStarted(data, List.copyOf(infos));
        } catch (RuntimeException e) {
            return null;
        }
        return w == null ? null : new LivePassConsumer(w, infos.stream().map(LayerInfo::name).toList());
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public List<String> layers() {
        return layers;
    }

    @Override
    public void accept(ActivationBatch batch) {
        watcher.accept(batch);
    }

    /** Tells the watcher the pass ended; a watcher's fault is ignored. */
    void finished() {
        try {
            watcher.finished();
        } catch (RuntimeException ignored) {
            // the live view is an observer: its faults never reach the run
        }
    }
}
