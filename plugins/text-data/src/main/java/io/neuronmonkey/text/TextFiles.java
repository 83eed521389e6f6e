package io.neuronmonkey.text;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.RunEnvironment;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** Path resolution, existence checks and content hashing shared by the text sources. */
final class TextFiles {

    private TextFiles() {
    }

    /**
     * @param env   the run environment that resolves relative paths
     * @param path  the path as written in YAML
     * @param param the params key it came from, for messages (e.g. {@code path})
     * @return the resolved path of an existing regular file
     * @throws DataException naming the resolved path and the param when the file does not exist
     */
    static Path require(RunEnvironment env, String path, String param) {
        Path resolved = env.resolve(path);
        if (!Files.isRegularFile(resolved)) {
            String what = Files.isDirectory(resolved) ? "file is a directory: " : "file not found: ";
            throw new DataException(what + resolved + " (params." + param + ")");
        }
        return resolved;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    /**
     * @param files files to hash, in order
     * @param extra text hashed after them (params that change the content)
     * @return the hex SHA-256 of the files' bytes followed by {@code extra} as UTF-8
     */
    static String sha256Of(List<Path> files, String extra) {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        for (Path f : files) {
            try (InputStream in = Files.newInputStream(f)) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    md.update(buf, 0, n);
                }
            } catch (IOException e) {
                throw new DataException("cannot read " + f + " to fingerprint it: " + e.getMessage(), e);
            }
        }
        md.update(extra.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * @param text text to hash as UTF-8
     * @return its hex SHA-256
     */
    static String sha256Of(String text) {
        return HexFormat.of().formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
