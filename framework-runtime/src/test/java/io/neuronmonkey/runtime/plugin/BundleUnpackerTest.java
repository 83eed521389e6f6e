package io.neuronmonkey.runtime.plugin;

import io.neuronmonkey.runtime.LockHolder;
import io.neuronmonkey.runtime.TestBundles;
import io.neuronmonkey.runtime.TestPluginSources;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bundles are expanded by one start-up at a time, completely, before PF4J looks at them. */
class BundleUnpackerTest {

    @TempDir
    static Path work;
    static Path linearZip;

    @BeforeAll
    static void buildBundles() throws IOException {
        linearZip = TestBundles.bundle(work.resolve("built"), work, TestBundles.properties("linear-test", "1.2.3"),
                TestPluginSources.linearPlugin());
    }

    private static Path freshDir(String name) throws IOException {
        Path dir = Files.createDirectories(work.resolve(name));
        Files.copy(linearZip, dir.resolve("linear-test.zip"));
        return dir;
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static List<String> analyzers(PluginHost host) {
        return List.copyOf(host.registry().all(ExtensionPoints.ANALYZER).keySet());
    }

    @Test
    void startUpsRacingOnFreshBundlesAllSeeEveryExtension() throws Exception {
        Path dir = freshDir("race");
        int n = 4;
        CyclicBarrier go = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        List<Future<List<String>>> starts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            starts.add(pool.submit(() -> {
                go.await();
                try (PluginHost host = PluginHost.start(dir, "0.1.0", m -> { })) {
                    return analyzers(host);
                }
            }));
        }
        for (Future<List<String>> f : starts) {
            assertEquals(List.of("explode", "sum"), f.get(60, TimeUnit.SECONDS));
        }
        pool.shutdown();
        assertEquals(List.of(BundleUnpacker.LOCK, "linear-test", "linear-test.zip"), names(dir), "no temporary folder is left");
        assertTrue(Files.isRegularFile(dir.resolve("linear-test/" + BundleUnpacker.MARKER)));
        assertEquals(List.of(), BundleUnpacker.stale(dir));
    }

    @Test
    void aStartUpWaitsForAnotherProcessUnpackingAndSaysSo() throws Exception {
        Path dir = freshDir("wait");
        List<String> notices = new CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        Future<List<String>> start;
        try (LockHolder other = LockHolder.lock(dir.resolve(BundleUnpacker.LOCK), work)) {
            start = pool.submit(() -> {
                try (PluginHost host = PluginHost.start(dir, "0.1.0", notices::add)) {
                    return analyzers(host);
                }
            });
            for (int i = 0; i < 600 && notices.isEmpty(); i++) {
                Thread.sleep(50);
            }
            assertEquals(List.of("waiting for another neuronmonkey process to finish unpacking plugin bundles in " + dir + " ..."), notices);
            assertFalse(start.isDone(), "nothing is loaded while the other process holds the lock");
            assertFalse(Files.exists(dir.resolve("linear-test")));
        }
        assertEquals(List.of("explode", "sum"), start.get(60, TimeUnit.SECONDS));
        pool.shutdown();
    }

    @Test
    void aHalfExpandedFolderIsReplacedAndAChangedZipIsExpandedAgain() throws Exception {
        Path dir = freshDir("half");
        // what PF4J's in-place expansion leaves when its process dies midway: a descriptor and no classes
        Files.createDirectories(dir.resolve("linear-test/lib"));
        Files.copy(work.resolve("built/linear-test.zip"), dir.resolve("linear-test/lib/partial.zip.bin"));
        Files.writeString(dir.resolve("linear-test/plugin.properties"), TestBundles.properties("linear-test", "1.2.3"));
        assertEquals(List.of(dir.resolve("linear-test.zip")), BundleUnpacker.stale(dir));
        try (PluginHost host = PluginHost.start(dir, "0.1.0", m -> { })) {
            assertEquals(List.of("explode", "sum"), analyzers(host));
        }
        assertFalse(Files.exists(dir.resolve("linear-test/lib/partial.zip.bin")), "the folder is the zip's content, complete");
        assertEquals(List.of(), BundleUnpacker.stale(dir));
        Files.setLastModifiedTime(dir.resolve("linear-test.zip"), FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        assertEquals(List.of(dir.resolve("linear-test.zip")), BundleUnpacker.stale(dir), "a rebuilt zip is expanded again");
        try (PluginHost host = PluginHost.start(dir, "0.1.0", m -> { })) {
            assertEquals(List.of("explode", "sum"), analyzers(host));
        }
        assertEquals(List.of(), BundleUnpacker.stale(dir));
        assertEquals(List.of(BundleUnpacker.LOCK, "linear-test", "linear-test.zip"), names(dir));
    }
}
