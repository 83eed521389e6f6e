package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.runtime.store.AtomicFiles;
import io.neuronmonkey.runtime.store.Hashing;
import io.neuronmonkey.runtime.store.Json;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * Activations of a fused pass kept on disk, keyed by model hash + data hash + layer set + backend params
 * (preprocessing), so that re-running analyzers on the same model and data skips the model. An entry is written into
 * a hidden folder and renamed into place only when the pass completed; on use, every file's size and CRC-32 are
 * checked first, and a corrupt or partial entry is deleted and rebuilt, never used. One file per layer, example-major
 * raw little-endian float32, so a batch is one positioned bulk read per layer.
 * <p>
 * A writer holds an exclusive lock on {@code writer.lock} inside its hidden {@code .<key>.partial-<uuid>} folder for
 * as long as it writes, and removes the folder when its pass fails or is cancelled. A partial folder whose writer
 * died (killed) is removed when the cache is next opened, once it is unlocked and has not changed for
 * {@link #STALE_AFTER}; until then it counts towards the cache's size limit like any entry.
 */
final class ActivationCache {

    static final int FORMAT = 1;
    static final String WRITER_LOCK = "writer.lock";
    /** How long an unlocked partial folder must have been unchanged before it counts as abandoned. */
    static final Duration STALE_AFTER = Duration.ofMinutes(10);
    /** Partial folders being written by this process. */
    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();
    private static final Pattern PARTIAL = Pattern.compile("\\.[0-9a-f]{32}\\.partial-[0-9a-f-]{36}");

    private ActivationCache() {
    }

    /** What to do for one pass. */
    record Plan(String key, Path entry, Reader reader, WriterFactory writerFactory) {
        boolean hit() {
            return reader != null;
        }

        boolean writable() {
            return writerFactory != null;
        }

        Writer writer() {
            return writerFactory.create();
        }
    }

    interface WriterFactory {
        Writer create();
    }

    static Plan plan(RunOptions options, PreparedExperiment exp, String dataName, List<String> layers) {
        Dataset data = exp.data().get(dataName).dataset();
        if (options.cacheDir() == null || exp.model() == null || data.info().size() <= 0) {
            return new Plan(null, null, null, null);
        }
        Map<String, Object> keyParts = new LinkedHashMap<>();
        keyParts.put("format", FORMAT);
        keyParts.put("model", exp.model().fingerprint());
        keyParts.put("backend", exp.backend().name());
        keyParts.put("modelParams", Records.toMap(exp.modelParams()));
        keyParts.put("data", data.fingerprint());
        keyParts.put("examples", data.info().size());
        keyParts.put("layers", layers);
        String key = Hashing.sha256(Json.bytes(keyParts)).substring(0, 32);
        removeStalePartials(options.cacheDir(), Instant.now());
        Path entry = options.cacheDir().resolve(key);
        List<LayerInfo> infos = new ArrayList<>();
        long rowFloats = 0;
        for (String l : layers) {
            LayerInfo info = exp.model().layer(l).orElseThrow();
            infos.add(info);
            rowFloats += size(info);
        }
        long bytes = rowFloats * 4 * data.info().size();
        if (Files.isDirectory(entry)) {
            if (valid(entry, infos, data.info().size())) {
                return new Plan(key, entry, new Reader(entry, infos), null);
            }
            AtomicFiles.deleteTree(entry);
        }
        if (bytes > options.cacheMaxBytes()) {
            return new Plan(key, entry, null, null);
        }
        return new Plan(key, entry, null, () -> new Writer(options.cacheDir(), entry, infos, keyParts, data.info().size(),
                options.cacheMaxBytes()));
    }

    /**
     * Removes partial folders of writers that are gone: unlocked and unchanged for {@link #STALE_AFTER} before
     * {@code now}. A folder locked by a live writer, here or in another process, stays.
     *
     * @return the folders removed
     */
    static List<Path> removeStalePartials(Path root, Instant now) {
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return removed;
        }
        List<Path> partials;
        try (Stream<Path> s = Files.list(root)) {
            partials = s.filter(p -> PARTIAL.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p)).toList();
        } catch (IOException e) {
            return removed;
        }
        for (Path p : partials) {
            try {
                if (lastChange(p).isAfter(now.minus(STALE_AFTER)) || locked(p)) {
                    continue;
                }
                AtomicFiles.deleteTree(p);
                removed.add(p);
            } catch (IOException | RuntimeException e) {
                // another process may be removing it too; the next open tries again
            }
        }
        return removed;
    }

    private static Instant lastChange(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            long newest = 0;
            for (Path p : s.toList()) {
                newest = Math.max(newest, Files.getLastModifiedTime(p).toMillis());
            }
            return Instant.ofEpochMilli(newest);
        }
    }

    /**
     * True when a live writer holds the folder's lock (in this process or another). This process's writers are
     * known without opening their lock file: on POSIX systems closing any channel on a file drops every lock this
     * process holds on it.
     */
    private static boolean locked(Path partial) {
        if (LIVE.contains(partial.toAbsolutePath().normalize())) {
            return true;
        }
        Path lockFile = partial.resolve(WRITER_LOCK);
        if (!Files.isRegularFile(lockFile)) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock l = ch.tryLock();
            if (l == null) {
                return true;
            }
            l.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true;
        } catch (IOException e) {
            return true;
        }
    }

    private static long size(LayerInfo l) {
        long n = 1;
        for (int d : l.shape()) {
            n *= d;
        }
        return n;
    }

    static String fileName(int i) {
        return "layer-" + i + ".f32";
    }

    /** Checks completeness, sizes and checksums of an entry. */
    static boolean valid(Path entry, List<LayerInfo> layers, long examples) {
        try {
            Path metaFile = entry.resolve("meta.json");
            if (!Files.isRegularFile(metaFile)) {
                return false;
            }
            Map<String, Object> meta = Json.readMap(metaFile);
            if (!Boolean.TRUE.equals(meta.get("complete")) || ((Number) meta.get("examples")).longValue() != examples) {
                return false;
            }
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> files = (List<Map<String, Object>>) meta.get("layers");
            if (files.size() != layers.size()) {
                return false;
            }
            for (int i = 0; i < layers.size(); i++) {
                Path f = entry.resolve(fileName(i));
                long expected = size(layers.get(i)) * 4 * examples;
                if (!layers.get(i).name().equals(files.get(i).get("name")) || !Files.isRegularFile(f) || Files.size(f) != expected
                        || crc(f) != ((Number) files.get(i).get("crc32")).longValue()) {
                    return false;
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static long crc(Path f) throws IOException {
        CRC32 crc = new CRC32();
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                crc.update(buf, 0, n);
            }
        }
        return crc.getValue();
    }

    /** Replays a valid entry: positioned bulk reads, safe from several threads. */
    static final class Reader implements FusedPass.Activations {
        private final Path entry;
        private final List<LayerInfo> layers;

        Reader(Path entry, List<LayerInfo> layers) {
            this.entry = entry;
            this.layers = List.copyOf(layers);
        }

        @Override
        public Map<String, Tensor> of(Batch batch, long index) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            int n = batch.size();
            for (int i = 0; i < layers.size(); i++) {
                LayerInfo l = layers.get(i);
                int row = (int) size(l);
                ByteBuffer buf = ByteBuffer.allocate(n * row * 4).order(ByteOrder.LITTLE_ENDIAN);
                try (FileChannel ch = FileChannel.open(entry.resolve(fileName(i)), StandardOpenOption.READ)) {
                    long pos = batch.offset() * row * 4L;
                    while (buf.hasRemaining()) {
                        int r = ch.read(buf, pos + buf.position());
                        if (r < 0) {
                            throw new OutputException("activation cache " + entry + " ended early in " + fileName(i));
                        }
                    }
                } catch (IOException e) {
                    throw new OutputException("cannot read activation cache " + entry + ": " + e.getMessage(), e);
                }
                buf.flip();
                float[] f = new float[n * row];
                buf.asFloatBuffer().get(f);
                int[] shape = new int[l.shape().length + 1];
                shape[0] = n;
                System.arraycopy(l.shape(), 0, shape, 1, l.shape().length);
                out.put(l.name(), Tensor.ofFloats(f, shape));
            }
            return out;
        }
    }

    /** Records a pass as it happens (fed in data order like any consumer); commit renames it into place. */
    static final class Writer implements FusedPass.Consumer {
        private final Path root;
        private final Path entry;
        private final Path partial;
        private final List<LayerInfo> layers;
        private final Map<String, Object> key;
        private final long examples;
        private final long maxBytes;
        private final List<FileChannel> channels = new ArrayList<>();
        private final List<CRC32> crcs = new ArrayList<>();
        private FileChannel lockChannel;
        private ByteBuffer scratch = ByteBuffer.allocate(0);
        private long written;

        Writer(Path root, Path entry, List<LayerInfo> layers, Map<String, Object> key, long examples, long maxBytes) {
            this.root = root;
            this.entry = entry;
            this.layers = layers;
            this.key = key;
            this.examples = examples;
            this.maxBytes = maxBytes;
            this.partial = root.resolve("." + entry.getFileName() + ".partial-" + UUID.randomUUID());
            try {
                Files.createDirectories(partial);
                LIVE.add(partial.toAbsolutePath().normalize());
                lockChannel = FileChannel.open(partial.resolve(WRITER_LOCK), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                lockChannel.lock();
                for (int i = 0; i < layers.size(); i++) {
                    channels.add(FileChannel.open(partial.resolve(fileName(i)), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
                    crcs.add(new CRC32());
                }
            } catch (IOException e) {
                abandon();
                throw new OutputException("cannot create activation cache entry in " + root + ": " + e.getMessage(), e);
            }
        }

        @Override
        public String id() {
            return "activation-cache";
        }

        @Override
        public List<String> layers() {
            return layers.stream().map(LayerInfo::name).toList();
        }

        @Override
        public void accept(ActivationBatch batch) {
            try {
                for (int i = 0; i < layers.size(); i++) {
                    float[] f = batch.activation(layers.get(i).name()).floats();
                    if (scratch.capacity() < f.length * 4) {
                        scratch = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    }
                    scratch.clear();
                    scratch.asFloatBuffer().put(f);
                    scratch.limit(f.length * 4);
                    crcs.get(i).update(scratch.array(), 0, f.length * 4);
                    while (scratch.hasRemaining()) {
                        channels.get(i).write(scratch);
                    }
                }
                written += batch.size();
            } catch (IOException e) {
                throw new OutputException("cannot write activation cache: " + e.getMessage(), e);
            }
        }

        void commit() {
            try {
                closeChannels();
                if (written != examples) {
                    abandon();
                    return;
                }
                List<Map<String, Object>> files = new ArrayList<>();
                for (int i = 0; i < layers.size(); i++) {
                    files.add(Records.ordered("name", layers.get(i).name(), "file", fileName(i),
                            "shape", layers.get(i).shape(), "crc32", crcs.get(i).getValue()));
                }
                Json.write(partial.resolve("meta.json"), Records.ordered("complete", true, "examples", examples,
                        "key", key, "layers", files));
                Files.deleteIfExists(partial.resolve(WRITER_LOCK));
                AtomicFiles.deleteTree(entry);
                AtomicFiles.move(partial, entry);
                evict();
            } catch (IOException | RuntimeException e) {
                abandon();
            }
        }

        void abandon() {
            try {
                closeChannels();
            } catch (IOException ignored) {
                // the folder goes anyway
            }
            AtomicFiles.deleteTree(partial);
        }

        /** Closes the layer files and, last, the lock (closing its channel releases it). */
        private void closeChannels() throws IOException {
            for (FileChannel c : channels) {
                if (c.isOpen()) {
                    c.close();
                }
            }
            if (lockChannel != null && lockChannel.isOpen()) {
                lockChannel.close();
            }
            LIVE.remove(partial.toAbsolutePath().normalize());
        }

        /**
         * Keeps the cache under four times the per-pass limit by deleting the least recently written entries.
         * Partial folders (passes being written elsewhere, or abandoned ones not yet stale) count towards the limit
         * but are not deleted here.
         */
        private void evict() throws IOException {
            List<Path> entries;
            long total = 0;
            try (Stream<Path> s = Files.list(root)) {
                List<Path> all = s.toList();
                entries = all.stream().filter(p -> Files.isRegularFile(p.resolve("meta.json"))).toList();
                for (Path p : all) {
                    if (PARTIAL.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p)) {
                        total += treeSize(p);
                    }
                }
            }
            List<Path> byAge = new ArrayList<>(entries);
            byAge.sort(Comparator.comparing(p -> p.resolve("meta.json").toFile().lastModified()));
            Map<Path, Long> sizes = new LinkedHashMap<>();
            for (Path p : byAge) {
                long size = treeSize(p);
                sizes.put(p, size);
                total += size;
            }
            for (Path p : byAge) {
                if (total <= 4 * maxBytes || p.equals(entry)) {
                    continue;
                }
                AtomicFiles.deleteTree(p);
                total -= sizes.get(p);
            }
        }

        private static long treeSize(Path p) throws IOException {
            try (Stream<Path> s = Files.walk(p)) {
                return s.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
            }
        }
    }
}
