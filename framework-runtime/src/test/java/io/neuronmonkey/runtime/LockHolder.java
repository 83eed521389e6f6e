package io.neuronmonkey.runtime;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Another process holding an exclusive lock on a file, as a live run or start-up elsewhere would: a small Java
 * program started with the JDK's source launcher. Closing this kills it, which releases the lock.
 */
public final class LockHolder implements AutoCloseable {

    private static final String SOURCE = """
            import java.nio.channels.FileChannel;
            import java.nio.file.*;
            public class HoldLock {
                public static void main(String[] a) throws Exception {
                    FileChannel ch = FileChannel.open(Path.of(a[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    ch.lock();
                    System.out.println("locked");
                    System.out.flush();
                    Thread.sleep(600_000);
                }
            }
            """;

    private final Process process;

    private LockHolder(Process process) {
        this.process = process;
    }

    /** Returns once the other process holds the lock. */
    public static LockHolder lock(Path file, Path work) throws IOException {
        Path source = work.resolve("HoldLock.java");
        if (!Files.exists(source)) {
            Files.writeString(source, SOURCE);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, source.toString(), file.toString()).redirectErrorStream(true).start();
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (!"locked".equals(line)) {
            p.destroyForcibly();
            throw new IllegalStateException("lock holder did not start: " + line);
        }
        return new LockHolder(p);
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }
}
