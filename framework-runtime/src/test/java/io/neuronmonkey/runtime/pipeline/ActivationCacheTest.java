package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.runtime.LockHolder;
import io.neuronmonkey.runtime.TestBundles;
import io.neuronmonkey.runtime.TestPluginSources;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.plugin.PluginHost;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The activation cache never leaks the partial folders of failed, cancelled or killed passes, and counts them while they exist. */
class ActivationCacheTest {

    @TempDir
    static Path work;
    static Path plugins;

    @BeforeAll
    static void setUp() throws IOException {
        plugins = work.resolve("plugins");
        TestBundles.bundle(plugins, work, TestBundles.properties("linear-test", "1.0.0"), TestPluginSources.linearPlugin());
        Files.writeString(work.resolve("model.bin"), "weights are in the backend");
    }

    static ExperimentConfig config(String name, String dataParams, String layers) throws IOException {
        return ExperimentParser.parse(Files.writeString(work.resolve(name + ".yaml"), "experiment: " + name
                + "\nbatchSize: 8\nmodel: {backend: linear, path: model.bin}\ndata:\n  rows: {source: table, params: {"
                + dataParams + "}}\nsteps:\n  - {id: a, analyzer: sum, layers: [" + layers + "]}\n"));
    }

    static ExperimentRunner.Outcome run(PluginHost host, ExperimentConfig config, RunOptions options, ProgressReporter progress,
                                        String out) {
        Environment env = new Environment(config, progress, new AtomicBoolean());
        try (PreparedExperiment p = Preparer.prepare(config, host.registry(), env, true)) {
            ExperimentRunner r = ExperimentRunner.create(p, work.resolve(out), env, Provenance.of(p, host.plugins(), "0.1.0"), options);
            if (progress instanceof RunSafetyTest.InterruptDuring i) {
                i.runner = r;
            }
            return r.run();
        }
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static Path partial(Path root, String key) throws IOException {
        Path p = Files.createDirectories(root.resolve("." + key + ".partial-" + UUID.randomUUID()));
        Files.writeString(p.resolve("layer-0.f32"), "activations of a pass that never finished");
        return p;
    }

    static void age(Path dir, Instant when) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                Files.setLastModifiedTime(p, FileTime.from(when));
            }
        }
    }

    @Test
    void failedAndCancelledPassesLeaveNoPartialFolder() throws IOException {
        Path cache = work.resolve("cache-failed");
        try (PluginHost host = PluginHost.start(plugins, "0.1.0")) {
            for (int threads : new int[]{1, 3}) {
                ExperimentRunner.Outcome failed = run(host, config("fails", "count: 50, failAt: 30", "hidden"),
                        new RunOptions(threads, cache, 1 << 20), ProgressReporter.NONE, "out-fails-" + threads);
                assertEquals("failed", failed.steps().get(0).state());
                assertTrue(failed.steps().get(0).error().contains("failing at row 30 as asked"), failed.steps().get(0).error());
                assertEquals(List.of(), names(cache), threads + " thread(s): the pass failed, its partial entry went with it");
            }
            ExperimentRunner.Outcome cancelled = run(host, config("cancelled", "count: 50", "hidden"),
                    new RunOptions(1, cache, 1 << 20), new RunSafetyTest.InterruptDuring("rows", 2), "out-cancelled");
            assertTrue(cancelled.interrupted(), cancelled.toString());
            assertEquals(List.of(), names(cache), "a cancelled pass leaves nothing in the cache");
        }
    }

    @Test
    void partialsOfDeadWritersGoWhenTheCacheOpensAndLiveOrRecentOnesStay() throws Exception {
        Path root = Files.createDirectories(work.resolve("cache-stale"));
        String key = "0123456789abcdef0123456789abcdef";
        Instant now = Instant.now();
        Instant hourAgo = now.minusSeconds(3600);
        Path dead = partial(root, key);
        age(dead, hourAgo);
        Path recent = partial(root, key);
        Path otherProcess = partial(root, key);
        Path userFolder = Files.createDirectories(root.resolve(".my-notes.partial-keep"));
        age(userFolder, hourAgo);
        LayerInfo hidden = new LayerInfo("hidden", "Relu", new int[]{4}, LayerInfo.Role.HIDDEN);
        ActivationCache.Writer live = new ActivationCache.Writer(root, root.resolve(key), List.of(hidden), Map.of(), 10, 1 << 20);
        try (LockHolder other = LockHolder.lock(otherProcess.resolve(ActivationCache.WRITER_LOCK), work)) {
            age(otherProcess, hourAgo);
            try (Stream<Path> s = Files.list(root)) {
                for (Path p : s.filter(p -> p.getFileName().toString().startsWith("." + key) && !p.equals(dead)
                        && !p.equals(recent) && !p.equals(otherProcess)).toList()) {
                    age(p, hourAgo);
                }
            }
            assertEquals(List.of(dead), ActivationCache.removeStalePartials(root, now));
            assertTrue(Files.isDirectory(recent), "unchanged for less than " + ActivationCache.STALE_AFTER + ": may still be written");
            assertTrue(Files.isDirectory(otherProcess), "locked by a live writer in another process");
            assertTrue(Files.isDirectory(userFolder), "not a name the cache gives its partial folders");
            assertEquals(4, names(root).size(), "the live writer's folder stays too: " + names(root));
        }
        assertEquals(List.of(otherProcess), ActivationCache.removeStalePartials(root, now), "its writer died: the lock is gone");
        assertEquals(List.of(recent), ActivationCache.removeStalePartials(root, now.plus(ActivationCache.STALE_AFTER).plusSeconds(60)),
                "later, the recent one is stale too; the live writer of this process keeps its folder");
        assertEquals(2, names(root).size(), names(root).toString());
        live.abandon();
        assertEquals(List.of(".my-notes.partial-keep"), names(root));
    }

    @Test
    void partialFoldersCountTowardsTheSizeLimit() throws IOException {
        Path cache = work.resolve("cache-size");
        RunOptions options = new RunOptions(1, cache, 1 << 20);
        try (PluginHost host = PluginHost.start(plugins, "0.1.0")) {
            assertTrue(run(host, config("size-a", "count: 50", "hidden"), options, ProgressReporter.NONE, "out-size-a").ok());
            List<String> first = names(cache);
            assertEquals(1, first.size());
            // a pass being written elsewhere, already 5 MiB: with it the cache is over its 4 MiB limit (4 x the pass limit)
            Path writing = partial(cache, "fedcba9876543210fedcba9876543210");
            try (RandomAccessFile f = new RandomAccessFile(writing.resolve("layer-0.f32").toFile(), "rw")) {
                f.setLength(5L << 20);
            }
            assertTrue(run(host, config("size-b", "count: 50", "logits"), options, ProgressReporter.NONE, "out-size-b").ok());
            List<String> after = names(cache);
            assertFalse(after.contains(first.get(0)), "the older entry was evicted to make room: " + after);
            assertTrue(after.contains(writing.getFileName().toString()), "a partial folder is counted, never evicted");
            assertEquals(2, after.size(), after.toString());
        }
    }
}
