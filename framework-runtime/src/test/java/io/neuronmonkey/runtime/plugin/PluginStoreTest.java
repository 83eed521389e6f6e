package io.neuronmonkey.runtime.plugin;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.runtime.TestBundles;
import io.neuronmonkey.runtime.TestPluginSources;
import io.neuronmonkey.runtime.config.ConfigProblem;
import io.neuronmonkey.runtime.config.ConfigValidationException;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.store.Hashing;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The user plugins folder: install, remove, verify and pinning, with real bundles compiled in the test and loaded
 * by the real plugin manager through {@link PluginHost}, beside a second folder standing for the shipped bundles.
 */
class PluginStoreTest {

    @TempDir
    static Path work;
    static Path v1;
    static Path v2;
    static Path other;

    @BeforeAll
    static void buildBundles() throws IOException {
        v1 = TestBundles.bundle(work.resolve("built-v1"), work.resolve("src-v1"), TestBundles.properties("acme-median", "1.0.0"),
                TestPluginSources.analyzer("acme", "Median", "median", false));
        v2 = TestBundles.bundle(work.resolve("built-v2"), work.resolve("src-v2"), TestBundles.properties("acme-median", "2.0.0"),
                TestPluginSources.analyzer("acme", "Median", "median", false));
        other = TestBundles.bundle(work.resolve("built-other"), work.resolve("src-other"), TestBundles.properties("linear-test", "1.2.3"),
                TestPluginSources.linearPlugin());
    }

    /** A fresh pair of folders: "shipped" (with the linear bundle) and an empty user folder. */
    private static Path[] folders(String name) throws IOException {
        Path shipped = Files.createDirectories(work.resolve(name).resolve("shipped"));
        Files.copy(other, shipped.resolve(other.getFileName()));
        return new Path[]{shipped, work.resolve(name).resolve("user")};
    }

    private static PluginStore store(Path[] f) {
        return new PluginStore(f[1], List.of(f[0]), "0.1.0");
    }

    private static List<String> names(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".neuronmonkey-")).sorted().toList();
        }
    }

    private static List<String> loaded(Path[] f) {
        try (PluginHost host = PluginHost.start(List.of(f[0], f[1]), "0.1.0", m -> { })) {
            return host.plugins().stream().map(p -> p.id() + "@" + p.version()).toList();
        }
    }

    @Test
    void installCopiesTheBundleWritesItsChecksumAndItLoadsBesideTheShippedOnes() throws IOException {
        Path[] f = folders("install");
        PluginStore.Installed r = store(f).install(v1, false, m -> { });
        Path zip = f[1].resolve("acme-median-1.0.0.zip");
        assertEquals(zip, r.file());
        assertEquals(Hashing.sha256(v1), r.sha256());
        assertEquals(Hashing.sha256(v1), Hashing.sha256(zip), "the same bytes");
        assertEquals(Hashing.sha256(v1) + "  acme-median-1.0.0.zip\n", Files.readString(zip.resolveSibling("acme-median-1.0.0.zip.sha256")));
        assertEquals(List.of("acme-median-1.0.0", "acme-median-1.0.0.zip", "acme-median-1.0.0.zip.sha256"), names(f[1]),
                "unpacked right away; no temporary file left");
        assertEquals(List.of("acme-median@1.0.0", "linear-test@1.2.3"), loaded(f));
        try (PluginHost host = PluginHost.start(List.of(f[0], f[1]), "0.1.0", m -> { })) {
            PluginInfo p = host.plugins().get(0);
            assertEquals(zip, p.file());
            assertEquals(Hashing.sha256(v1), p.sha256());
            assertEquals("acme-median", host.registry().require(ExtensionPoints.ANALYZER, "median").pluginId());
        }

        // the same bundle again changes nothing; another version asks for --force, then replaces the one we installed
        assertTrue(store(f).install(v1, false, m -> { }).unchanged());
        ConfigException e = assertThrows(ConfigException.class, () -> store(f).install(v2, false, m -> { }));
        assertEquals("plugin 'acme-median' is already installed: acme-median-1.0.0.zip (version 1.0.0); installing 2.0.0 from "
                + v2.toAbsolutePath() + " replaces it: pass --force", e.getMessage());
        assertEquals(List.of("acme-median@1.0.0", "linear-test@1.2.3"), loaded(f));
        PluginStore.Installed forced = store(f).install(v2, true, m -> { });
        assertEquals(List.of(zip), forced.replaced().stream().map(PluginStore.Bundle::file).toList());
        assertEquals(List.of("acme-median-2.0.0", "acme-median-2.0.0.zip", "acme-median-2.0.0.zip.sha256"), names(f[1]));
        assertEquals(List.of("acme-median@2.0.0", "linear-test@1.2.3"), loaded(f));

        // remove takes the zip, its checksum and its unpacked copy
        assertEquals(List.of(f[1].resolve("acme-median-2.0.0.zip")), store(f).remove("acme-median"));
        assertEquals(List.of(), names(f[1]));
        assertEquals(List.of("linear-test@1.2.3"), loaded(f));
        ConfigException gone = assertThrows(ConfigException.class, () -> store(f).remove("acme-median"));
        assertEquals("no plugin 'acme-median' is installed in " + f[1].toAbsolutePath() + " (installed: none)", gone.getMessage());
        ConfigException shipped = assertThrows(ConfigException.class, () -> store(f).remove("linear-test"));
        assertTrue(shipped.getMessage().startsWith("plugin 'linear-test' is not in the user plugins folder"), shipped.getMessage());
        assertTrue(Files.exists(f[0].resolve("linear-test.zip")));
    }

    @Test
    void aBadBundleIsRefusedBeforeAnythingIsCopied() throws IOException {
        Path[] f = folders("refuse");
        Path bad = Files.createDirectories(work.resolve("bad-bundles"));
        Path corrupt = Files.write(bad.resolve("corrupt.zip"), Arrays.copyOf(Files.readAllBytes(v1), 300));
        Path slip = bad.resolve("slip.zip");
        PluginHostTest.zip(slip, Map.of("plugin.properties", TestBundles.properties("slip", "1.0.0"), "../../evil.txt", "x"));
        Path noLicense = TestBundles.bundle(bad.resolve("nolicense"), work.resolve("src-nolicense"),
                TestBundles.properties("nolicense", "1.0.0").replace("plugin.license=Apache-2.0\n", ""),
                TestPluginSources.analyzer("nol", "A", "nol", false));
        Path future = TestBundles.bundle(bad.resolve("future"), work.resolve("src-future"),
                TestBundles.properties("future", "1.0.0") + "plugin.requires=>=9.0.0\n", TestPluginSources.analyzer("fut", "A", "fut", false));
        Path clash = TestBundles.bundle(bad.resolve("clash"), work.resolve("src-clash"), TestBundles.properties("linear-test", "9.0.0"),
                TestPluginSources.analyzer("cl", "A", "cl", false));
        Map<Path, String> expected = Map.of(
                corrupt, "not a readable zip file (",
                slip, "the zip entry '../../evil.txt' would be written outside the bundle's folder",
                noLicense, "invalid plugin descriptor (plugin.properties): field 'plugin.license' is missing or empty",
                future, "plugin 'future' requires NeuronMonkey >=9.0.0 (plugin.requires); this is 0.1.0",
                clash, "plugin id 'linear-test' is already used by " + f[0].resolve("linear-test.zip").toAbsolutePath());
        for (Map.Entry<Path, String> x : expected.entrySet()) {
            ConfigException e = assertThrows(ConfigException.class, () -> store(f).install(x.getKey(), true, m -> { }));
            assertTrue(e.getMessage().startsWith("plugin bundle " + x.getKey().toAbsolutePath() + " refused: " + x.getValue()), e.getMessage());
            assertTrue(e.getMessage().endsWith("; nothing was installed"), e.getMessage());
            assertEquals(List.of(), names(f[1]), "nothing copied for " + x.getKey());
        }
        assertFalse(Files.exists(work.resolve("evil.txt")));
    }

    @Test
    void whatTheToolDidNotWriteIsNeverReplacedOrDeleted() throws IOException {
        Path[] f = folders("foreign");
        Files.createDirectories(f[1]);
        Path mine = Files.copy(v1, f[1].resolve("by-hand.zip"));
        ConfigException e = assertThrows(ConfigException.class, () -> store(f).install(v2, true, m -> { }));
        assertTrue(e.getMessage().contains("plugin 'acme-median' is already in " + f[1].toAbsolutePath() + " as by-hand.zip, which "
                + "neuronmonkey did not install, so it is not replaced"), e.getMessage());
        ConfigException r = assertThrows(ConfigException.class, () -> store(f).remove("acme-median"));
        assertEquals("plugin 'acme-median' in " + mine.toAbsolutePath() + " was not installed by neuronmonkey, so it is not deleted; "
                + "remove it yourself", r.getMessage());
        assertEquals(Hashing.sha256(v1), Hashing.sha256(mine));
        // a file of the target's name that the tool did not write is not overwritten either
        Files.delete(mine);
        Path squatter = Files.writeString(f[1].resolve("acme-median-2.0.0.zip"), "mine");
        assertThrows(ConfigException.class, () -> store(f).install(v2, true, m -> { }));
        assertEquals("mine", Files.readString(squatter));
    }

    @Test
    void aFolderUnpackedFromAZipThatIsGoneIsNotLoadedAndIsCleanedUp() throws IOException {
        Path[] f = folders("orphan");
        store(f).install(v1, false, m -> { });
        Path handMade = Files.createDirectories(f[1].resolve("hand-made"));
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(other.toFile())) {
            // an expanded bundle someone put there: no marker, no zip; it loads and is kept
            Files.writeString(handMade.resolve("plugin.properties"), TestBundles.properties("hand-made", "0.0.1"));
            Files.createDirectories(handMade.resolve("lib"));
            Files.write(handMade.resolve("lib/hand-made.jar"), z.getInputStream(z.getEntry("lib/linear-test.jar")).readAllBytes());
        }
        Files.delete(f[1].resolve("acme-median-1.0.0.zip"));
        assertTrue(Files.isDirectory(f[1].resolve("acme-median-1.0.0")));
        try (PluginHost host = PluginHost.start(List.of(f[0], f[1]), "0.1.0", m -> { })) {
            assertFalse(host.plugins().stream().anyMatch(p -> p.id().equals("acme-median")), host.plugins().toString());
        }
        assertFalse(Files.exists(f[1].resolve("acme-median-1.0.0")), "our leftover copy is deleted");
        assertTrue(Files.isRegularFile(handMade.resolve("plugin.properties")), "a folder we did not unpack is kept");
    }

    @Test
    void verifyChecksEveryZipAgainstItsChecksumAndItsUnpackedCopy() throws IOException {
        Path[] f = folders("verify");
        store(f).install(v1, false, m -> { });
        Path zip = f[1].resolve("acme-median-1.0.0.zip");
        String good = Hashing.sha256(v1);
        List<PluginStore.Verification> checks = store(f).verify();
        assertEquals(List.of(zip, f[0].resolve("linear-test.zip").toAbsolutePath()), checks.stream().map(PluginStore.Verification::file).toList());
        assertEquals(List.of(true, true), checks.stream().map(PluginStore.Verification::ok).toList(), checks.toString());
        assertEquals("SHA-256 " + good, checks.get(0).detail());
        assertTrue(checks.get(1).detail().startsWith("no linear-test.zip.sha256 beside it"), "reported, not a failure outside the user folder");

        // a changed byte in the unpacked jar
        Path jar = f[1].resolve("acme-median-1.0.0/lib/acme-median.jar");
        byte[] b = Files.readAllBytes(jar);
        b[b.length / 2] ^= 1;
        Files.write(jar, b);
        assertEquals("SHA-256 " + good + " matches, but the unpacked copy differs: lib/acme-median.jar was changed",
                store(f).verify().get(0).detail());

        // a different zip under the installed name
        Files.copy(v2, zip, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        PluginStore.Verification v = store(f).verify().get(0);
        assertFalse(v.ok());
        assertEquals("checksum mismatch: acme-median-1.0.0.zip.sha256 records " + good + ", the file has " + Hashing.sha256(v2), v.detail());
    }

    @Test
    void pinnedPluginsAreCheckedBeforeAnyWorkWithLineAndColumn() throws IOException {
        Path[] f = folders("pins");
        store(f).install(v1, false, m -> { });
        String good = Hashing.sha256(v1);
        String wrong = "0".repeat(64);
        ExperimentConfig ok = ExperimentParser.parse(work.resolve("ok.yaml"), """
                experiment: pinned
                plugins:
                  - {id: acme-median, version: "^1.0", sha256: %s}
                  - {id: linear-test}
                steps: []
                """.formatted(good.toUpperCase(java.util.Locale.ROOT)));
        assertEquals(good, ok.plugins().get(0).sha256(), "read in lower case");
        try (PluginHost host = PluginHost.start(List.of(f[0], f[1]), "0.1.0", m -> { })) {
            PluginPins.check(ok, host);
            ExperimentConfig bad = ExperimentParser.parse(work.resolve("bad.yaml"), """
                    experiment: pinned
                    plugins:
                      - {id: acme-median, version: ">=2.0.0", sha256: %s}
                      - {id: nowhere}
                    steps: []
                    """.formatted(wrong));
            ConfigValidationException e = assertThrows(ConfigValidationException.class, () -> PluginPins.check(bad, host));
            assertEquals(List.of(
                    "plugins[0].version (line 3, col 32) - plugin 'acme-median' is version 1.0.0 (" + f[1].resolve("acme-median-1.0.0.zip")
                            + "), outside the pinned range >=2.0.0",
                    "plugins[0].sha256 (line 3, col 51) - plugin 'acme-median': its bundle " + f[1].resolve("acme-median-1.0.0.zip")
                            + " has SHA-256 " + good + ", but the experiment pins " + wrong + "; it is not the bundle the experiment was written for",
                    "plugins[1].id (line 4, col 5) - plugin 'nowhere' is pinned, but no loaded bundle has that id (loaded: acme-median, "
                            + "linear-test); install it with 'neuronmonkey plugins install FILE'"),
                    e.problems().stream().map(ConfigProblem::toString).toList());
        }
    }

    @Test
    void malformedPinsAreNamedWithLineAndColumn() {
        ConfigValidationException e = assertThrows(ConfigValidationException.class, () -> ExperimentParser.parse(work.resolve("p.yaml"), """
                experiment: pinned
                plugins:
                  - {id: a, version: "not a range!"}
                  - {id: b, sha256: abc}
                  - {id: a}
                  - {version: "1.0.0", shasum: x}
                  - just-a-name
                steps: []
                """));
        List<String> lines = e.problems().stream().map(ConfigProblem::toString).toList();
        assertEquals(List.of(
                "plugins[0].version (line 3, col 22) - must be a version range like \"^1.2\", \"~1.2.3\", \">=1.0.0 & <2.0.0\" or \"1.2.3\", "
                        + "found 'not a range!'",
                "plugins[1].sha256 (line 4, col 21) - must be the bundle's SHA-256, 64 hex digits (as in its .sha256 file or "
                        + "'neuronmonkey plugins info ID'), found 'abc'",
                "plugins[2].id (line 5, col 10) - plugin 'a' is pinned twice; pin each plugin once",
                "plugins[3].shasum (line 6, col 24) - unknown key 'shasum'; known: id, sha256, version",
                "plugins[3].id (line 6, col 5) - 'id' is required",
                "plugins[4] (line 7, col 5) - a pinned plugin is a mapping {id, version, sha256} (version and sha256 optional), found "
                        + "'just-a-name'"), lines);
        ConfigValidationException notList = assertThrows(ConfigValidationException.class,
                () -> ExperimentParser.parse(work.resolve("q.yaml"), "experiment: x\nplugins: acme\nsteps: []\n"));
        assertTrue(notList.problems().get(0).toString().startsWith("plugins (line 2, col 10) - must be a list of plugins"),
                notList.problems().toString());
    }

    @Test
    void missingOrMalformedDescriptorFieldsAreRefusedWithTheFieldNamed() throws IOException {
        Path[] f = folders("fields");
        Files.createDirectories(f[1]);
        String base = TestBundles.properties("x", "1.0.0");
        Map<String, String> cases = Map.of(
                "no-license", base.replace("plugin.id=x", "plugin.id=no-license").replace("plugin.license=Apache-2.0\n", ""),
                "no-provider", base.replace("plugin.id=x", "plugin.id=no-provider").replace("plugin.provider=tests\n", ""),
                "no-description", base.replace("plugin.id=x", "plugin.id=no-description").replace("plugin.description=test plugin x\n", ""),
                "bad-requires", base.replace("plugin.id=x", "plugin.id=bad-requires") + "plugin.requires=soon!\n",
                "bad-dependency", base.replace("plugin.id=x", "plugin.id=bad-dependency") + "plugin.dependencies=linear-test@>>1\n");
        int i = 0;
        for (Map.Entry<String, String> c : cases.entrySet()) {
            TestBundles.bundle(f[1], work.resolve("src-field-" + i++), c.getValue(), TestPluginSources.analyzer("f" + i, "A", "f" + i, false));
        }
        try (PluginHost host = PluginHost.start(List.of(f[0], f[1]), "0.1.0", m -> { })) {
            assertEquals(List.of("linear-test"), host.plugins().stream().map(PluginInfo::id).toList(), "the others still load");
            String prefix = "invalid plugin descriptor (plugin.properties or MANIFEST.MF): ";
            Map<String, String> expected = Map.of(
                    "no-license", prefix + "field 'plugin.license' is missing or empty (an SPDX id such as Apache-2.0)",
                    "no-provider", prefix + "field 'plugin.provider' is missing or empty (who made the bundle)",
                    "no-description", prefix + "field 'plugin.description' is missing or empty (one line on what the bundle provides)",
                    "bad-requires", prefix + "field 'plugin.requires' must be a version range like >=0.1.0 or ^0.1, found 'soon!'",
                    "bad-dependency", prefix + "field 'plugin.dependencies': the version range of 'linear-test' must be like >=1.0.0 or "
                            + "^1.2, found '>>1'");
            for (Map.Entry<String, String> x : expected.entrySet()) {
                assertEquals(x.getValue(), host.refused().stream().filter(r -> r.path().getFileName().toString().equals(x.getKey()))
                        .map(RefusedPlugin::reason).findFirst().orElse("not refused"), x.getKey());
            }
        }
    }

    @Test
    void aBundleWhoseIdIsTakenInAnEarlierFolderIsRefusedNamingIt() throws IOException {
        Path[] f = folders("sameid");
        Files.createDirectories(f[1]);
        Files.copy(other, f[1].resolve("copy-of-linear.zip"));
        try (PluginHost host = PluginHost.start(List.of(f[0], f[1]), "0.1.0", m -> { })) {
            assertEquals(List.of(f[0].resolve("linear-test.zip").toAbsolutePath()), host.plugins().stream().map(PluginInfo::file).toList());
            assertEquals("plugin id 'linear-test' is already used by " + f[0].resolve("linear-test.zip").toAbsolutePath()
                            + ", which was loaded first; two bundles cannot share an id (remove one, or give this one another plugin.id)",
                    host.refusedReason("linear-test").orElseThrow());
        }
    }
}
