package io.neuronmonkey.experiments;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sharing a bundle through the real launcher, with the user plugins folder ({@code NEURONMONKEY_PLUGINS}) in a
 * temporary folder: install a third-party bundle, see it listed beside the shipped ones, run an experiment that pins
 * it by SHA-256 and find the bundle in provenance.json, tamper with it and see the run refused, remove it.
 */
class PluginSharingTest {

    @TempDir
    Path work;

    private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    void installPinRunTamperAndRemoveABundle() throws Exception {
        Path user = work.resolve("my-plugins");
        Map<String, String> env = Map.of("NEURONMONKEY_PLUGINS", user.toString());
        Path bundle = Bundles.zip(work.resolve("built"), work, "acme-count", Bundles.properties("acme-count", ""),
                Map.of("acme.Count", Bundles.analyzer("acme", "Count", "acme-count", false)));
        String sha = sha256(bundle);

        Launcher.Result in = Launcher.run(work, env, "plugins", "install", bundle.toString());
        assertEquals(0, in.code(), in.all());
        Path installed = user.resolve("acme-count-1.0.0.zip");
        assertTrue(in.out().contains("installed plugin 'acme-count' 1.0.0 into " + installed), in.out());
        assertTrue(in.out().contains("sha256 " + sha + " (written to acme-count-1.0.0.zip.sha256)"), in.out());
        assertEquals(sha + "  acme-count-1.0.0.zip\n", Files.readString(user.resolve("acme-count-1.0.0.zip.sha256")));

        Launcher.Result list = Launcher.run(work, env, "plugins", "list");
        assertEquals(0, list.code(), list.all());
        assertTrue(list.out().matches("(?s).*acme-count\\s+\\[acme-count].*"), list.out());
        assertTrue(list.out().contains("activation-stats"), "the shipped bundles still load:\n" + list.out());

        Path yaml = Files.writeString(work.resolve("pinned.yaml"), """
                experiment: pinned
                plugins:
                  - {id: acme-count, version: "^1.0", sha256: SHA}
                steps: []
                """.replace("SHA", sha));
        Launcher.Result run = Launcher.run(work, env, "run", yaml.toString(), "--out", work.resolve("out").toString());
        assertEquals(0, run.code(), run.all());
        String provenance = Files.readString(work.resolve("out/provenance.json"));
        assertTrue(provenance.replaceAll("\\s+", " ").contains("\"id\" : \"acme-count\", \"version\" : \"1.0.0\", \"state\" : \"STARTED\", "
                + "\"file\" : \"" + installed + "\", \"sha256\" : \"" + sha + "\""), provenance);

        // the same file name, other bytes: a changed description
        Path tampered = work.resolve("tampered.zip");
        try (ZipFile z = new ZipFile(installed.toFile()); OutputStream o = Files.newOutputStream(tampered); ZipOutputStream out = new ZipOutputStream(o)) {
            for (Enumeration<? extends ZipEntry> it = z.entries(); it.hasMoreElements(); ) {
                ZipEntry e = it.nextElement();
                byte[] b = z.getInputStream(e).readAllBytes();
                if (e.getName().equals("plugin.properties")) {
                    b = new String(b, StandardCharsets.UTF_8).replace("third-party acme-count", "not what it was").getBytes(StandardCharsets.UTF_8);
                }
                out.putNextEntry(new ZipEntry(e.getName()));
                out.write(b);
                out.closeEntry();
            }
        }
        Files.copy(tampered, installed, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String bad = sha256(installed);
        Launcher.Result refused = Launcher.run(work, env, "run", yaml.toString(), "--out", work.resolve("out2").toString());
        assertEquals(2, refused.code(), refused.all());
        assertTrue(refused.err().contains("plugins[0].sha256 (line 3, col 47) - plugin 'acme-count': its bundle " + installed
                + " has SHA-256 " + bad + ", but the experiment pins " + sha), refused.err());
        assertFalse(Files.exists(work.resolve("out2")), "refused before any work");
        Launcher.Result verify = Launcher.run(work, env, "plugins", "verify");
        assertEquals(1, verify.code(), verify.all());
        assertTrue(verify.out().contains("FAILED  " + installed + ": checksum mismatch: acme-count-1.0.0.zip.sha256 records " + sha
                + ", the file has " + bad), verify.out());

        Launcher.Result rm = Launcher.run(work, env, "plugins", "remove", "acme-count");
        assertEquals(0, rm.code(), rm.all());
        assertFalse(Files.exists(installed));
        assertFalse(Files.exists(user.resolve("acme-count-1.0.0.zip.sha256")));
        assertFalse(Files.exists(user.resolve("acme-count-1.0.0")), "the unpacked copy is gone too");
    }
}
