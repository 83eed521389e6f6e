package io.neuronmonkey.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tokenizer library's native code loads in a fresh JVM as it does inside a plugin: from the jar, into an empty
 * cache folder, offline, with a context class loader that cannot see the jar.
 */
class NativeLibraryTest {

    @TempDir
    Path dir;

    @Test
    void loadsFromTheJarIntoAnEmptyCacheOfflineWhateverTheContextClassLoader() throws Exception {
        Path tokenizer = TokenizerFiles.wordPiece(dir.resolve("tokenizer.json"));
        Path cache = dir.resolve("djl-cache");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-DDJL_CACHE_DIR=" + cache, "-Dai.djl.offline=true", IsolatedTokenizerMain.class.getName(),
                tokenizer.toString(), "The dog playing.")
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM finished");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("ids [2, 4, 10, 6, 7, 9, 3]"), out);
        try (Stream<Path> files = Files.walk(cache)) {
            List<String> libs = files.map(f -> f.getFileName().toString()).filter(n -> n.contains("tokenizers.")).toList();
            assertEquals(1, libs.size(), "the native library was extracted into the given cache: " + libs);
        }
    }
}
