package io.neuronmonkey.runtime.plugin;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.PluginException;
import io.neuronmonkey.runtime.store.AtomicFiles;
import io.neuronmonkey.runtime.store.Hashing;
import org.pf4j.DefaultVersionManager;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * The user plugins folder: bundles installed with {@code neuronmonkey plugins install}, used in addition to the
 * bundles NeuronMonkey ships. Installing checks the bundle before anything is copied (a readable zip, no entry
 * outside its folder, a complete descriptor, a {@code plugin.requires} this version meets, an id no other folder
 * uses), copies it atomically (a hidden temporary file renamed into place) as {@code <id>-<version>.zip} and
 * writes its SHA-256 beside it. The files it wrote are listed in {@value #REGISTRY}; only those are ever replaced
 * or deleted, so a bundle someone copied in by hand is left alone.
 */
public final class PluginStore {

    /** The list of bundle zips this class installed in the folder, one {@code <file name> <sha256>} per line. */
    public static final String REGISTRY = ".neuronmonkey-installed";
    private static final String LOCK = ".neuronmonkey-install.lock";

    private final Path dir;
    private final List<Path> others;
    private final String systemVersion;

    /**
     * @param dir           the user plugins folder (created on the first install)
     * @param others        the other plugin folders read with it (the shipped bundles, --plugins folders)
     * @param systemVersion the version {@code plugin.requires} is checked against
     */
    public PluginStore(Path dir, List<Path> others, String systemVersion) {
        this.dir = dir.toAbsolutePath().normalize();
        this.others = others.stream().map(p -> p.toAbsolutePath().normalize()).filter(p -> !p.equals(this.dir)).toList();
        this.systemVersion = systemVersion;
    }

    /** The user plugins folder. */
    public Path dir() {
        return dir;
    }

    /** A bundle in the user folder: its file, descriptor (null when unreadable) and whether this class installed it. */
    public record Bundle(Path file, BundleDescriptor descriptor, boolean installedByNeuronMonkey) {
    }

    /**
     * What an install did.
     *
     * @param replaced the bundles of the same id it removed (installed earlier by this class)
     * @param unchanged the same bundle was already installed; nothing was copied
     */
    public record Installed(BundleDescriptor descriptor, Path file, String sha256, List<Bundle> replaced, boolean unchanged) {
    }

    /** One bundle file checked by {@link #verify}: {@code ok} false when its checksum or unpacked copy does not match. */
    public record Verification(Path file, boolean ok, String detail) {
    }

    /**
     * Installs a bundle zip, or a bundle folder (plugin.properties at its top, packed into a zip first).
     *
     * @param force replace a bundle of the same id that this class installed earlier, whatever its version
     * @throws ConfigException when the bundle is refused; nothing is copied then
     */
    public Installed install(Path source, boolean force, Consumer<String> notice) {
        if (!Files.exists(source)) {
            throw new ConfigException("plugin bundle not found: " + source.toAbsolutePath());
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new ConfigException("cannot create the user plugins folder " + dir + ": " + e.getMessage());
        }
        return locked(() -> {
            Path packed = null;
            try {
                Path zip = source;
                if (Files.isDirectory(source)) {
                    packed = dir.resolve(".packing-" + UUID.randomUUID() + ".zip");
                    pack(source, packed);
                    zip = packed;
                }
                return installZip(source, zip, force, notice);
            } finally {
                if (packed != null) {
                    Files.deleteIfExists(packed);
                }
            }
        });
    }

    private Installed installZip(Path source, Path zip, boolean force, Consumer<String> notice) throws IOException {
        String label = source.toAbsolutePath().toString();
        Optional<String> problem = BundleRepository.problem(zip);
        if (problem.isPresent()) {
            throw refused(label, problem.get());
        }
        BundleDescriptor d = BundleDescriptor.read(zip).orElseThrow(() -> refused(label,
                "no plugin.properties at the top of the bundle; install takes bundles described by plugin.properties"));
        List<String> bad = d.problems();
        if (!bad.isEmpty()) {
            throw refused(label, "invalid plugin descriptor (plugin.properties): " + String.join("; ", bad));
        }
        if (d.requires() != null && !d.requires().isBlank()
                && !new DefaultVersionManager().checkVersionConstraint(systemVersion, d.requires())) {
            throw refused(label, "plugin '" + d.id() + "' requires NeuronMonkey " + d.requires() + " (plugin.requires); this is "
                    + systemVersion);
        }
        for (Path other : others) {
            for (Bundle b : bundles(other, Set.of())) {
                if (b.descriptor() != null && d.id().equals(b.descriptor().id())) {
                    throw refused(label, "plugin id '" + d.id() + "' is already used by " + b.file()
                            + " (a folder neuronmonkey reads but does not manage); two bundles cannot share an id");
                }
            }
        }
        Map<String, String> registry = registry();
        String name = d.id() + "-" + d.version() + ".zip";
        Path target = dir.resolve(name);
        String sha256 = Hashing.sha256(zip);
        List<Bundle> same = bundles(dir, registry.keySet()).stream()
                .filter(b -> b.descriptor() != null && d.id().equals(b.descriptor().id())).toList();
        for (Bundle b : same) {
            if (!b.installedByNeuronMonkey()) {
                throw refused(label, "plugin '" + d.id() + "' is already in " + dir + " as " + b.file().getFileName()
                        + ", which neuronmonkey did not install, so it is not replaced; remove it yourself to install this one");
            }
        }
        if (same.size() == 1 && same.get(0).file().equals(target) && sha256.equals(registry.get(name))
                && sha256.equals(Hashing.sha256(target))) {
            return new Installed(d, target, sha256, List.of(), true);
        }
        if (!same.isEmpty() && !force) {
            throw new ConfigException("plugin '" + d.id() + "' is already installed: " + String.join(", ", same.stream()
                    .map(b -> b.file().getFileName() + " (version " + b.descriptor().version() + ")").toList())
                    + "; installing " + d.version() + " from " + label + " replaces it: pass --force");
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !registry.containsKey(name)) {
            throw refused(label, dir.resolve(name) + " exists and neuronmonkey did not write it; it is not replaced");
        }
        Path tmp = dir.resolve("." + name + ".installing-" + UUID.randomUUID());
        try {
            Files.copy(zip, tmp);
            String copied = Hashing.sha256(tmp);
            if (!copied.equals(sha256)) {
                throw new PluginException("the bundle " + label + " changed while it was being copied; nothing was installed");
            }
            registry.put(name, sha256);
            writeRegistry(registry);
            AtomicFiles.move(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
        BundleFiles.writeChecksum(target, sha256);
        List<Bundle> replaced = new ArrayList<>();
        for (Bundle b : same) {
            if (!b.file().equals(target)) {
                delete(b.file(), registry);
                replaced.add(b);
            }
        }
        BundleUnpacker.unpack(dir, notice);
        return new Installed(d, target, sha256, replaced, false);
    }

    private static ConfigException refused(String bundle, String why) {
        return new ConfigException("plugin bundle " + bundle + " refused: " + why + "; nothing was installed");
    }

    /**
     * Removes the bundle of this plugin id that this class installed: its zip, its {@code .sha256} and its
     * unpacked folder.
     *
     * @return the removed bundle files
     * @throws ConfigException when no such bundle is installed, or the one there was not installed by this class
     */
    public List<Path> remove(String id) {
        if (!Files.isDirectory(dir)) {
            throw notInstalled(id, Map.of());
        }
        return locked(() -> {
            Map<String, String> registry = registry();
            List<Bundle> mine = bundles(dir, registry.keySet()).stream()
                    .filter(b -> b.descriptor() != null && id.equals(b.descriptor().id())).toList();
            if (mine.isEmpty()) {
                throw notInstalled(id, registry);
            }
            for (Bundle b : mine) {
                if (!b.installedByNeuronMonkey()) {
                    throw new ConfigException("plugin '" + id + "' in " + b.file() + " was not installed by neuronmonkey, so it is "
                            + "not deleted; remove it yourself");
                }
            }
            List<Path> removed = new ArrayList<>();
            for (Bundle b : mine) {
                delete(b.file(), registry);
                removed.add(b.file());
            }
            return removed;
        });
    }

    /** No bundle of this id in the user folder: where it comes from instead, or what is installed. */
    private ConfigException notInstalled(String id, Map<String, String> registry) {
        for (Path other : others) {
            for (Bundle b : bundles(other, Set.of())) {
                if (b.descriptor() != null && id.equals(b.descriptor().id())) {
                    return new ConfigException("plugin '" + id + "' is not in the user plugins folder " + dir + "; it comes from "
                            + b.file() + ", which neuronmonkey does not manage");
                }
            }
        }
        List<String> ids = bundles(dir, registry.keySet()).stream().filter(b -> b.descriptor() != null)
                .map(b -> b.descriptor().id()).sorted().toList();
        return new ConfigException("no plugin '" + id + "' is installed in " + dir + " (installed: "
                + (ids.isEmpty() ? "none" : String.join(", ", ids)) + ")");
    }

    /** Deletes an installed zip, its checksum and its unpacked folder, and drops it from the registry. */
    private void delete(Path zip, Map<String, String> registry) throws IOException {
        Path folder = BundleRepository.unpackedFolder(zip);
        Files.deleteIfExists(zip);
        Files.deleteIfExists(BundleFiles.checksumFile(zip));
        if (Files.isRegularFile(folder.resolve(BundleUnpacker.MARKER))) {
            AtomicFiles.deleteTree(folder);
        }
        registry.remove(zip.getFileName().toString());
        writeRegistry(registry);
    }

    /** The bundles in the user folder. */
    public List<Bundle> installed() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        return bundles(dir, registry().keySet());
    }

    /**
     * Every bundle zip of the user folder and the other folders against its {@code .sha256} (hashed from its bytes,
     * not from any cache) and its unpacked folder against the zip's entries (size and CRC-32 of each file, no file
     * more or less). A zip without a checksum file is reported, and counts as a failure only in the user folder,
     * where install always writes one.
     */
    public List<Verification> verify() {
        List<Verification> out = new ArrayList<>();
        List<Path> roots = new ArrayList<>(others);
        if (Files.isDirectory(dir)) {
            roots.add(0, dir);
        }
        Set<String> mine = Files.isDirectory(dir) ? registry().keySet() : Set.of();
        for (Path root : roots) {
            for (Path zip : zips(root)) {
                out.add(verify(zip, root.equals(dir) && mine.contains(zip.getFileName().toString())));
            }
        }
        return out;
    }

    private static Verification verify(Path zip, boolean mine) {
        String actual;
        try {
            actual = Hashing.sha256(zip);
        } catch (IOException e) {
            return new Verification(zip, false, "cannot be read: " + e.getMessage());
        }
        Optional<String> recorded;
        try {
            recorded = BundleFiles.recorded(zip);
        } catch (PluginException e) {
            return new Verification(zip, false, e.getMessage());
        }
        if (recorded.isEmpty()) {
            return new Verification(zip, !mine, "no " + BundleFiles.checksumFile(zip).getFileName() + " beside it (SHA-256 "
                    + actual + ")");
        }
        if (!recorded.get().equals(actual)) {
            return new Verification(zip, false, "checksum mismatch: " + BundleFiles.checksumFile(zip).getFileName() + " records "
                    + recorded.get() + ", the file has " + actual);
        }
        Optional<String> copy = unpackedDifference(zip);
        return copy.map(s -> new Verification(zip, false, "SHA-256 " + actual + " matches, but the unpacked copy differs: " + s))
                .orElseGet(() -> new Verification(zip, true, "SHA-256 " + actual));
    }

    /** How the folder unpacked from a zip differs from the zip's entries, if it does (and it was unpacked by us). */
    private static Optional<String> unpackedDifference(Path zip) {
        Path folder = BundleRepository.unpackedFolder(zip);
        if (!Files.isRegularFile(folder.resolve(BundleUnpacker.MARKER))) {
            return Optional.empty();
        }
        Set<String> expected = new HashSet<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            Enumeration<? extends ZipEntry> it = z.entries();
            while (it.hasMoreElements()) {
                ZipEntry e = it.nextElement();
                if (e.isDirectory()) {
                    continue;
                }
                expected.add(e.getName());
                Path f = folder.resolve(e.getName());
                if (!Files.isRegularFile(f)) {
                    return Optional.of(e.getName() + " is missing");
                }
                if (Files.size(f) != e.getSize() || crc(f) != e.getCrc()) {
                    return Optional.of(e.getName() + " was changed");
                }
            }
            try (Stream<Path> walk = Files.walk(folder)) {
                for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                    String rel = folder.relativize(p).toString().replace('\\', '/');
                    if (!rel.equals(BundleUnpacker.MARKER) && !expected.contains(rel)) {
                        return Optional.of(rel + " is not in the zip");
                    }
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("cannot be read: " + e.getMessage());
        }
    }

    private static long crc(Path f) throws IOException {
        CRC32 crc = new CRC32();
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                crc.update(buf, 0, n);
            }
        }
        return crc.getValue();
    }

    private static List<Path> zips(Path root) {
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".") && Files.isRegularFile(p) && BundleRepository.isZip(p))
                    .sorted().toList();
        } catch (IOException e) {
            throw new PluginException("cannot read the plugins folder " + root + ": " + e.getMessage(), e);
        }
    }

    /** The zips and plain bundle folders of a folder (not folders unpacked from a zip), with their descriptors. */
    private static List<Bundle> bundles(Path root, Set<String> mine) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Bundle> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.sorted().toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith(".")) {
                    continue;
                }
                boolean zip = Files.isRegularFile(p) && BundleRepository.isZip(p);
                boolean folder = Files.isDirectory(p) && !Files.isRegularFile(p.resolve(BundleUnpacker.MARKER))
                        && !Files.isRegularFile(p.resolveSibling(name + ".zip"));
                if (zip || folder) {
                    out.add(new Bundle(p, BundleDescriptor.readAny(p).orElse(null), zip && mine.contains(name)));
                }
            }
        } catch (IOException e) {
            throw new PluginException("cannot read the plugins folder " + root + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Packs a bundle folder into a zip, entries in path order; refused without a plugin.properties at its top. */
    private static void pack(Path folder, Path zip) throws IOException {
        if (!Files.isRegularFile(folder.resolve("plugin.properties"))) {
            throw refused(folder.toAbsolutePath().toString(), "a bundle folder holds plugin.properties at its top (and lib/*.jar)");
        }
        try (OutputStream out = Files.newOutputStream(zip); ZipOutputStream z = new ZipOutputStream(out);
             Stream<Path> walk = Files.walk(folder)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                String rel = folder.relativize(p).toString().replace('\\', '/');
                if (rel.equals(BundleUnpacker.MARKER)) {
                    continue;
                }
                z.putNextEntry(new ZipEntry(rel));
                Files.copy(p, z);
                z.closeEntry();
            }
        }
    }

    private Map<String, String> registry() {
        Map<String, String> out = new TreeMap<>();
        Path f = dir.resolve(REGISTRY);
        if (!Files.isRegularFile(f)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                String[] parts = line.strip().split("\\s+");
                if (parts.length == 2) {
                    out.put(parts[0], parts[1]);
                }
            }
        } catch (IOException e) {
            throw new PluginException("cannot read " + f + ": " + e.getMessage(), e);
        }
        return out;
    }

    private void writeRegistry(Map<String, String> registry) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(registry).forEach((k, v) -> sb.append(k).append(' ').append(v).append('\n'));
        AtomicFiles.write(dir.resolve(REGISTRY), sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    private interface Work<T> {
        T run() throws IOException;
    }

    /** One install or remove at a time per folder, across processes. */
    private <T> T locked(Work<T> work) {
        try {
            try (FileChannel ch = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock lock = ch.lock()) {
                return work.run();
            }
        } catch (IOException e) {
            throw new PluginException("cannot change the user plugins folder " + dir + ": " + e.getMessage(), e);
        }
    }
}
