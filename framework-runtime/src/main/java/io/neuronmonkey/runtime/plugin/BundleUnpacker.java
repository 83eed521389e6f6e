package io.neuronmonkey.runtime.plugin;

import io.neuronmonkey.api.PluginException;
import io.neuronmonkey.runtime.store.AtomicFiles;
import io.neuronmonkey.runtime.store.Hashing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Expands plugin zips into folders beside them before the {@link BundleRepository} lists them, one process at a
 * time: an exclusive lock on {@code .neuronmonkey-unpack.lock} beside the bundles (threads of one process queue on
 * an in-process lock first), and a start-up that has to wait says so. Each zip goes into a hidden temporary folder
 * that is renamed into place when complete, and a folder counts as current only when its marker file names the
 * zip's size and modification time, so a folder left half-written by an older version is replaced too; the marker
 * also keeps the zip's SHA-256, so that provenance and pinned plugins do not hash every bundle on every start. A
 * folder this class unpacked (it holds the marker) whose zip is gone is deleted, so a removed bundle never loads
 * from its leftover copy. Zips the repository would refuse are left to it, which names the reason; so is a zip that
 * fails to expand here.
 */
final class BundleUnpacker {

    static final String LOCK = ".neuronmonkey-unpack.lock";
    static final String MARKER = ".neuronmonkey-unpacked";

    private static final Map<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

    private BundleUnpacker() {
    }

    /**
     * @param notice told once when this process has to wait for another one
     */
    static void unpack(Path pluginsDir, Consumer<String> notice) {
        Path dir = pluginsDir.toAbsolutePath().normalize();
        // a leftover copy alone is not loaded anyway: it is cleaned up where this process may write
        if (stale(dir).isEmpty() && (orphans(dir).isEmpty() || !Files.isWritable(dir))) {
            return;
        }
        ReentrantLock local = IN_PROCESS.computeIfAbsent(dir, d -> new ReentrantLock());
        if (!local.tryLock()) {
            notice.accept("waiting for another start-up in this process to finish unpacking plugin bundles in " + dir + " ...");
            local.lock();
        }
        try (FileChannel ch = open(dir)) {
            FileLock lock = ch.tryLock();
            if (lock == null) {
                notice.accept("waiting for another neuronmonkey process to finish unpacking plugin bundles in " + dir + " ...");
                lock = ch.lock();
            }
            try {
                for (Path folder : orphans(dir)) {
                    AtomicFiles.deleteTree(folder);
                }
                for (Path zip : stale(dir)) {
                    try {
                        expand(zip);
                    } catch (IOException e) {
                        // the repository tries again and refuses the bundle with the reason
                    }
                }
            } finally {
                lock.release();
            }
        } catch (OverlappingFileLockException e) {
            throw new PluginException("plugin bundles in " + dir + " are locked twice by this process: " + e);
        } catch (IOException e) {
            throw new PluginException("cannot unpack the plugin bundles in " + dir + ": " + e.getMessage(), e);
        } finally {
            local.unlock();
        }
    }

    private static FileChannel open(Path dir) throws IOException {
        try {
            return FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (AccessDeniedException e) {
            throw new PluginException("plugin bundles in " + dir + " need unpacking, but the folder is not writable (" + e.getMessage()
                    + "): unpack them once as a user who may write there, or copy them to a folder of yours and pass --plugins");
        } catch (FileSystemException e) {
            throw new PluginException("cannot lock the plugin bundles folder " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Zips whose folder is missing or was not completed from this exact zip. */
    static List<Path> stale(Path dir) {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") || !name.toLowerCase(Locale.ROOT).endsWith(".zip") || !Files.isRegularFile(p)) {
                    continue;
                }
                Path folder = BundleRepository.unpackedFolder(p);
                Path marker = folder.resolve(MARKER);
                if (!current(p, marker) && BundleRepository.problem(p).isEmpty()) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            throw new PluginException("cannot read the plugins directory " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * Folders this class unpacked (they hold its marker) whose zip is no longer beside them: a removed bundle's
     * leftover copy, which must not load.
     */
    static List<Path> orphans(Path dir) {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                if (isOrphan(p)) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            throw new PluginException("cannot read the plugins directory " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** A folder holding this class's marker without its zip beside it. */
    static boolean isOrphan(Path folder) {
        String name = folder.getFileName().toString();
        return !name.startsWith(".") && Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)
                && Files.isRegularFile(folder.resolve(MARKER)) && !Files.isRegularFile(folder.resolveSibling(name + ".zip"));
    }

    /** Whether the folder's marker was written for this exact zip (its first line is the zip's stamp). */
    private static boolean current(Path zip, Path marker) throws IOException {
        if (!Files.isRegularFile(marker)) {
            return false;
        }
        List<String> lines = Files.readAllLines(marker);
        return !lines.isEmpty() && lines.get(0).equals(stamp(zip));
    }

    /**
     * The SHA-256 of a bundle zip: the one its unpacked folder's marker recorded when the marker still matches the
     * zip's size and modification time, else computed from the zip's bytes.
     */
    static String sha256(Path zip) throws IOException {
        Path marker = BundleRepository.unpackedFolder(zip).resolve(MARKER);
        if (current(zip, marker)) {
            List<String> lines = Files.readAllLines(marker);
            if (lines.size() > 1 && lines.get(1).matches("sha256 [0-9a-f]{64}")) {
                return lines.get(1).substring(7);
            }
        }
        return Hashing.sha256(zip);
    }

    private static String stamp(Path zip) throws IOException {
        return Files.size(zip) + " " + Files.getLastModifiedTime(zip).toMillis();
    }

    /** Expands into a hidden sibling, then swaps it in; the old folder (if any) goes only after the swap. */
    private static void expand(Path zip) throws IOException {
        Path folder = BundleRepository.unpackedFolder(zip);
        String id = UUID.randomUUID().toString();
        Path tmp = zip.resolveSibling("." + folder.getFileName() + ".unpack-" + id);
        Path old = zip.resolveSibling("." + folder.getFileName() + ".old-" + id);
        try {
            Files.createDirectories(tmp);
            Path root = tmp.toAbsolutePath().normalize();
            try (InputStream in = Files.newInputStream(zip); ZipInputStream z = new ZipInputStream(in)) {
                for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
                    Path target = root.resolve(e.getName()).normalize();
                    if (!target.startsWith(root)) {
                        throw new IOException("zip entry '" + e.getName() + "' in " + zip.getFileName() + " points outside its folder");
                    }
                    if (e.isDirectory()) {
                        Files.createDirectories(target);
                    } else {
                        Files.createDirectories(target.getParent());
                        Files.copy(z, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            Files.writeString(tmp.resolve(MARKER), stamp(zip) + "\nsha256 " + Hashing.sha256(zip) + "\n");
            // the repository takes a folder at least as new as its zip as unpacked: make sure it is
            FileTime zipTime = Files.getLastModifiedTime(zip);
            FileTime now = FileTime.fromMillis(System.currentTimeMillis());
            Files.setLastModifiedTime(tmp, zipTime.compareTo(now) > 0 ? zipTime : now);
            if (Files.exists(folder, LinkOption.NOFOLLOW_LINKS)) {
                AtomicFiles.move(folder, old);
            }
            AtomicFiles.move(tmp, folder);
        } finally {
            AtomicFiles.deleteTree(tmp);
            try {
                AtomicFiles.deleteTree(old);
            } catch (RuntimeException ignored) {
                // a hidden leftover; PF4J skips hidden folders
            }
        }
    }
}
