package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** SHA-256 fingerprints of model files, for provenance. */
final class ModelFiles {

    private ModelFiles() {
    }

    /**
     * A single file hashes its bytes; a directory hashes, per regular file in sorted relative-path order, the path
     * ('/'-separated), a NUL byte and the file's bytes.
     *
     * @param path a model file or directory
     * @return the lower-case hex digest
     */
    static String sha256(Path path) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            if (Files.isDirectory(path)) {
                List<Path> files;
                try (Stream<Path> walk = Files.walk(path)) {
                    files = walk.filter(Files::isRegularFile)
                            .sorted((a, b) -> relative(path, a).compareTo(relative(path, b)))
                            .toList();
                }
                for (Path f : files) {
                    md.update(relative(path, f).getBytes(StandardCharsets.UTF_8));
                    md.update((byte) 0);
                    digest(md, f);
                }
            } else {
                digest(md, path);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new ModelException("cannot read model files under " + path + " to fingerprint them: " + e, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private static String relative(Path root, Path file) {
        return root.relativize(file).toString().replace('\\', '/');
    }

    private static void digest(MessageDigest md, Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
    }
}
