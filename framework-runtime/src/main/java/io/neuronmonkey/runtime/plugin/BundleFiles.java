package io.neuronmonkey.runtime.plugin;

import io.neuronmonkey.api.PluginException;
import io.neuronmonkey.runtime.store.AtomicFiles;
import io.neuronmonkey.runtime.store.Hashing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Bundle files and their checksums. A bundle zip's SHA-256 is kept beside it in {@code <bundle>.zip.sha256}, one
 * line as {@code sha256sum} writes it ({@code <64 hex digits><two spaces><file name>}), so that
 * {@code sha256sum -c} checks it too. A plugin loaded from a zip's unpacked folder is identified by the zip; one
 * loaded from a jar by the jar; one loaded from a plain folder by the SHA-256 of its file list, a line
 * {@code <sha256 of the file>  <path relative to the folder>} per file in path order.
 */
public final class BundleFiles {

    /** The suffix of the checksum file beside a bundle zip. */
    public static final String CHECKSUM_SUFFIX = ".sha256";

    private BundleFiles() {
    }

    /** The bundle file a plugin was loaded from: the zip beside an unpacked folder, else the path itself. */
    public static Path file(Path pluginPath) {
        String name = pluginPath.getFileName().toString();
        Path zip = pluginPath.resolveSibling(name + ".zip");
        if (Files.isDirectory(pluginPath) && Files.isRegularFile(pluginPath.resolve(BundleUnpacker.MARKER)) && Files.isRegularFile(zip)) {
            return zip;
        }
        return pluginPath;
    }

    /**
     * @throws PluginException when the bundle cannot be read
     */
    public static String sha256(Path file) {
        try {
            if (Files.isDirectory(file)) {
                StringBuilder list = new StringBuilder();
                try (Stream<Path> walk = Files.walk(file)) {
                    for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                        String rel = file.relativize(p).toString().replace('\\', '/');
                        if (!rel.equals(BundleUnpacker.MARKER)) {
                            list.append(Hashing.sha256(p)).append("  ").append(rel).append('\n');
                        }
                    }
                }
                return Hashing.sha256(list.toString().getBytes(StandardCharsets.UTF_8));
            }
            return BundleRepository.isZip(file) ? BundleUnpacker.sha256(file) : Hashing.sha256(file);
        } catch (IOException e) {
            throw new PluginException("cannot read the plugin bundle " + file + " to compute its SHA-256: " + e.getMessage(), e);
        }
    }

    /** {@code <zip>.sha256} beside a bundle zip. */
    public static Path checksumFile(Path zip) {
        return zip.resolveSibling(zip.getFileName() + CHECKSUM_SUFFIX);
    }

    /**
     * The SHA-256 recorded beside a zip: the first word of its checksum file, when that is 64 hex digits.
     *
     * @return empty when there is no checksum file
     * @throws PluginException when the checksum file cannot be read or holds no SHA-256
     */
    public static Optional<String> recorded(Path zip) {
        Path f = checksumFile(zip);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            String text = Files.readString(f, StandardCharsets.UTF_8).strip();
            String first = text.isEmpty() ? "" : text.split("\\s+")[0].toLowerCase(Locale.ROOT);
            if (!first.matches("[0-9a-f]{64}")) {
                throw new PluginException(f + " holds no SHA-256 (64 hex digits first on its line), found '"
                        + (text.length() > 80 ? text.substring(0, 80) + "..." : text) + "'");
            }
            return Optional.of(first);
        } catch (IOException e) {
            throw new PluginException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code <zip>.sha256} atomically, as {@code sha256sum} would. */
    static void writeChecksum(Path zip, String sha256) {
        AtomicFiles.write(checksumFile(zip), (sha256 + "  " + zip.getFileName() + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
