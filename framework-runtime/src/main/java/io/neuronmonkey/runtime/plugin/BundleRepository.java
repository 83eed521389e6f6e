package io.neuronmonkey.runtime.plugin;

import org.pf4j.PluginRepository;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * The bundles of a plugins folder: plugin folders, plugin jars, and zips, which are unpacked beside themselves only
 * after a check that they are readable zips holding a descriptor and no entry that would land outside their folder.
 * A zip that fails the check is refused with the reason (PF4J alone would skip it without a word) and the folder it
 * may have been unpacked into earlier is not used; so is a folder unpacked from a zip that is gone.
 */
final class BundleRepository implements PluginRepository {

    private final List<Path> roots;
    private final Consumer<RefusedPlugin> refuse;

    BundleRepository(List<Path> roots, Consumer<RefusedPlugin> refuse) {
        this.roots = List.copyOf(roots);
        this.refuse = refuse;
    }

    @Override
    public List<Path> getPluginPaths() {
        List<Path> out = new ArrayList<>();
        for (Path root : roots) {
            List<Path> entries;
            try (Stream<Path> s = Files.list(root)) {
                entries = s.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
            } catch (IOException e) {
                continue;
            }
            Set<Path> skip = new HashSet<>();
            for (Path p : entries) {
                if (Files.isRegularFile(p) && isZip(p)) {
                    Path folder = unpackedFolder(p);
                    skip.add(folder);
                    Optional<String> problem = problem(p);
                    if (problem.isPresent()) {
                        refuse.accept(new RefusedPlugin(p, problem.get()));
                        continue;
                    }
                    try {
                        unpack(p, folder);
                    } catch (IOException e) {
                        refuse.accept(new RefusedPlugin(p, "cannot unpack the zip: " + e.getMessage()));
                        continue;
                    }
                    skip.remove(folder);
                }
            }
            try (Stream<Path> s = Files.list(root)) {
                entries = s.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
            } catch (IOException e) {
                continue;
            }
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") || skip.contains(p) || BundleUnpacker.isOrphan(p)) {
                    continue;
                }
                if (Files.isDirectory(p) || Files.isRegularFile(p) && name.toLowerCase(Locale.ROOT).endsWith(".jar")) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    @Override
    public boolean deletePluginPath(Path pluginPath) {
        // bundles are never deleted by NeuronMonkey
        return false;
    }

    /**
     * Unpacks a checked zip into the folder beside it when that is missing or older than the zip, into a hidden
     * folder first that is renamed into place, so that no half-unpacked bundle is ever loaded.
     */
    static void unpack(Path zip, Path folder) throws IOException {
        if (Files.isDirectory(folder) && Files.getLastModifiedTime(folder).compareTo(Files.getLastModifiedTime(zip)) >= 0) {
            return;
        }
        Path tmp = Files.createTempDirectory(zip.getParent(), "." + folder.getFileName() + ".unpacking-");
        try {
            try (ZipFile z = new ZipFile(zip.toFile())) {
                Enumeration<? extends ZipEntry> it = z.entries();
                while (it.hasMoreElements()) {
                    ZipEntry e = it.nextElement();
                    Path target = tmp.resolve(e.getName()).normalize();
                    if (!target.startsWith(tmp)) {
                        throw new IOException("entry '" + e.getName() + "' would be written outside the bundle's folder");
                    }
                    if (e.isDirectory()) {
                        Files.createDirectories(target);
                    } else {
                        Files.createDirectories(target.getParent());
                        try (InputStream in = z.getInputStream(e)) {
                            Files.copy(in, target);
                        }
                    }
                }
            }
            try {
                Files.move(tmp, folder, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException taken) {
                // another process unpacked it meanwhile: use theirs; only a folder older than the zip is replaced
                if (Files.isDirectory(folder) && Files.getLastModifiedTime(folder).compareTo(Files.getLastModifiedTime(zip)) >= 0) {
                    return;
                }
                deleteTree(folder);
                Files.move(tmp, folder, StandardCopyOption.ATOMIC_MOVE);
            }
        } finally {
            if (Files.exists(tmp)) {
                deleteTree(tmp);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    static boolean isZip(Path p) {
        return p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".zip");
    }

    static Path unpackedFolder(Path zip) {
        String name = zip.getFileName().toString();
        return zip.resolveSibling(name.substring(0, name.length() - 4));
    }

    /** Why a zip cannot be a bundle, or empty when it looks like one. */
    static Optional<String> problem(Path zip) {
        try {
            if (Files.size(zip) == 0) {
                return Optional.of("empty file (0 bytes), not a plugin bundle; a bundle is a zip holding plugin.properties and lib/*.jar");
            }
        } catch (IOException e) {
            return Optional.of("cannot read the zip: " + e.getMessage());
        }
        try (ZipFile z = new ZipFile(zip.toFile())) {
            if (z.size() == 0) {
                return Optional.of("empty zip: it holds no files; a bundle holds plugin.properties and lib/*.jar");
            }
            boolean descriptor = false;
            Enumeration<? extends ZipEntry> it = z.entries();
            while (it.hasMoreElements()) {
                String name = it.nextElement().getName();
                if (escapes(name)) {
                    return Optional.of("the zip entry '" + name + "' would be written outside the bundle's folder; nothing "
                            + "of the zip was unpacked");
                }
                descriptor |= name.equals("plugin.properties") || name.equals("META-INF/MANIFEST.MF");
            }
            if (!descriptor) {
                return Optional.of("no plugin.properties at the top of the zip; a bundle holds plugin.properties (plugin.id, "
                        + "plugin.version, ...) and lib/*.jar");
            }
            return Optional.empty();
        } catch (ZipException e) {
            return Optional.of("not a readable zip file (" + e.getMessage() + "): is it truncated, or not a zip at all?");
        } catch (IOException e) {
            return Optional.of("cannot read the zip: " + e.getMessage());
        }
    }

    private static boolean escapes(String name) {
        String n = name.replace('\\', '/');
        if (n.startsWith("/") || n.matches("^[A-Za-z]:.*")) {
            return true;
        }
        for (String part : n.split("/")) {
            if (part.equals("..")) {
                return true;
            }
        }
        return false;
    }
}
