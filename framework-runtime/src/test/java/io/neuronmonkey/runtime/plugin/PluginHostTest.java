package io.neuronmonkey.runtime.plugin;

import io.neuronmonkey.api.PluginException;
import io.neuronmonkey.runtime.TestBundles;
import io.neuronmonkey.runtime.TestPluginSources;
import io.neuronmonkey.runtime.store.Hashing;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PluginHostTest {

    @TempDir
    static Path work;
    static Path linearZip;

    @BeforeAll
    static void buildBundles() throws IOException {
        linearZip = TestBundles.bundle(work.resolve("built"), work, TestBundles.properties("linear-test", "1.2.3"),
                TestPluginSources.linearPlugin());
    }

    private static Path pluginsDir(String name, Path... zips) throws IOException {
        Path dir = Files.createDirectories(work.resolve(name));
        for (Path z : zips) {
            Files.copy(z, dir.resolve(z.getFileName()));
        }
        return dir;
    }

    @Test
    void extensionsFromABundleAreRegisteredByPointAndName() throws IOException {
        Path dir = pluginsDir("one", linearZip);
        try (PluginHost host = PluginHost.start(dir, "0.1.0")) {
            // the bundle file is the zip (not its unpacked folder), hashed from its bytes
            assertEquals(List.of(new PluginInfo("linear-test", "1.2.3", "STARTED", "test plugin linear-test",
                    dir.resolve("linear-test").toAbsolutePath(), dir.resolve("linear-test.zip").toAbsolutePath(),
                    Hashing.sha256(dir.resolve("linear-test.zip")))), host.plugins());
            ExtensionRegistry r = host.registry();
            assertEquals(List.of("linear"), List.copyOf(r.all(ExtensionPoints.BACKEND).keySet()));
            assertEquals(List.of("table"), List.copyOf(r.all(ExtensionPoints.DATA_SOURCE).keySet()));
            assertEquals(List.of("explode", "sum"), List.copyOf(r.all(ExtensionPoints.ANALYZER).keySet()));
            assertEquals(List.of("text"), List.copyOf(r.all(ExtensionPoints.VISUALIZER).keySet()));
            RegisteredExtension<?> sum = r.require(ExtensionPoints.ANALYZER, "sum");
            assertEquals("linear-test", sum.pluginId());
            assertEquals("testplugin.SumAnalyzer$Params", sum.paramsType().getName(), "params type read from the generic signature");
            // the extension class comes from the plugin's own class loader, not the application's
            assertTrue(sum.instance().getClass().getClassLoader() != PluginHostTest.class.getClassLoader());
        }
    }

    @Test
    void unknownNameListsTheKnownOnes() throws IOException {
        try (PluginHost host = PluginHost.start(pluginsDir("two", linearZip), "0.1.0")) {
            PluginException e = assertThrows(PluginException.class, () -> host.registry().require(ExtensionPoints.ANALYZER, "summ"));
            assertEquals("unknown analyzer 'summ'; did you mean 'sum'? known: explode, sum", e.getMessage());
        }
    }

    private static Map<String, String> reasons(PluginHost host) {
        Map<String, String> out = new TreeMap<>();
        for (RefusedPlugin r : host.refused()) {
            out.merge(r.path().getFileName().toString(), r.reason(), (a, b) -> a + " | " + b);
        }
        return out;
    }

    private static Path bundle(String dir, String properties, Map<String, String> sources) throws IOException {
        return TestBundles.bundle(work.resolve(dir), work, properties, sources);
    }

    @Test
    void bundleReusingANameIsRefusedWithBothIdsWhileTheOthersLoad() throws IOException {
        // the shipped bundle keeps its name even though the third-party id sorts first
        Path shipped = bundle("shipped-built", TestBundles.properties("linear-shipped", "1.0.0")
                .replace("plugin.provider=tests", "plugin.provider=NeuronMonkey"), TestPluginSources.linearPlugin());
        Path clash = bundle("clash-built", TestBundles.properties("acme-stats", "2.0.0"),
                TestPluginSources.analyzer("acme", "Sum", "sum", false));
        Path dup = bundle("dup-built", TestBundles.properties("dup-test", "0.0.1"), TestPluginSources.duplicatePlugin());
        Path fine = bundle("fine-built", TestBundles.properties("fine-test", "0.0.1"),
                TestPluginSources.analyzer("fine", "Median", "median", false));
        try (PluginHost host = PluginHost.start(pluginsDir("dup", shipped, clash, dup, fine), "0.1.0")) {
            assertEquals(List.of("fine-test", "linear-shipped"), host.plugins().stream().map(PluginInfo::id).toList());
            assertEquals(Map.of(
                    "acme-stats", "plugin 'acme-stats' declares analyzer 'sum', which plugin 'linear-shipped' already provides; "
                            + "the bundle was not loaded (rename its extension, or remove one of the two bundles)",
                    "dup-test", "plugin 'dup-test' declares visualizer 'text', which plugin 'linear-shipped' already provides; "
                            + "the bundle was not loaded (rename its extension, or remove one of the two bundles)"),
                    reasons(host));
            assertEquals("linear-shipped", host.registry().require(ExtensionPoints.ANALYZER, "sum").pluginId());
            assertEquals(List.of("explode", "median", "sum"), List.copyOf(host.registry().all(ExtensionPoints.ANALYZER).keySet()));
        }
    }

    @Test
    void eachBrokenBundleIsRefusedWithOneLineWhileTheOthersLoad() throws IOException {
        Path noDep = bundle("b-nodep", TestBundles.properties("needs-missing", "1.0.0") + "plugin.dependencies=nowhere\n",
                TestPluginSources.analyzer("nodep", "A", "nodep", false));
        Path transitive = bundle("b-trans", TestBundles.properties("needs-needy", "1.0.0") + "plugin.dependencies=needs-missing\n",
                TestPluginSources.analyzer("trans", "A", "trans", false));
        Path wrongDep = bundle("b-wrongdep", TestBundles.properties("needs-new-linear", "1.0.0")
                + "plugin.dependencies=linear-test@>=2.0.0\n", TestPluginSources.analyzer("wrongdep", "A", "wrongdep", false));
        Path future = bundle("b-future", TestBundles.properties("from-the-future", "1.0.0") + "plugin.requires=>=9.0.0\n",
                TestPluginSources.analyzer("future", "A", "future", false));
        Path noClass = bundle("b-noclass", TestBundles.properties("no-class", "1.0.0") + "plugin.class=does.not.Exist\n",
                TestPluginSources.analyzer("noclass", "A", "noclass", false));
        Map<String, String> mixed = new java.util.LinkedHashMap<>(TestPluginSources.analyzer("mixed", "Bad", "bad", true));
        mixed.putAll(TestPluginSources.analyzer("mixed", "Good", "good", false));
        Path half = bundle("b-mixed", TestBundles.properties("half-good", "1.0.0"), mixed);
        try (PluginHost host = PluginHost.start(pluginsDir("broken", linearZip, noDep, transitive, wrongDep, future, noClass, half),
                "0.1.0")) {
            assertEquals(List.of("half-good", "linear-test"), host.plugins().stream().map(PluginInfo::id).toList());
            List<String> reasons = host.refused().stream().map(RefusedPlugin::reason).sorted().toList();
            assertEquals(List.of(
                    "plugin 'from-the-future' requires NeuronMonkey >=9.0.0 (plugin.requires); this is 0.1.0, so it was not loaded",
                    "plugin 'half-good': analyzer 'bad' (mixed.Bad) could not be created, so it was not registered: "
                            + "IllegalStateException: licence file not found",
                    "plugin 'needs-missing' needs plugin 'nowhere' (plugin.dependencies), which is not in the plugins folder",
                    "plugin 'needs-needy' needs plugin 'needs-missing', which was refused",
                    "plugin 'needs-new-linear' needs plugin 'linear-test' version >=2.0.0 (plugin.dependencies), but the "
                            + "plugins folder has 1.2.3",
                    "plugin 'no-class' did not start: its plugin.class 'does.not.Exist' is not in the bundle's lib/*.jar "
                            + "(ClassNotFoundException: does.not.Exist); name an existing class, or leave plugin.class out"),
                    reasons);
            assertTrue(reasons.stream().noneMatch(r -> r.contains("\n")), "one line each");
            assertEquals(List.of("explode", "good", "sum"), List.copyOf(host.registry().all(ExtensionPoints.ANALYZER).keySet()));
        }
    }

    @Test
    void unreadableEmptyAndDescriptorlessZipsAreListedAsRefused() throws IOException {
        Path dir = pluginsDir("zips", linearZip);
        Files.write(dir.resolve("corrupt.zip"), "this is not a zip at all".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("truncated.zip"), Arrays.copyOf(Files.readAllBytes(linearZip), 200));
        Files.write(dir.resolve("zero.zip"), new byte[0]);
        zip(dir.resolve("empty.zip"), Map.of());
        zip(dir.resolve("no-descriptor.zip"), Map.of("lib/x.jar", "not really a jar"));
        zip(dir.resolve("slip.zip"), Map.of("plugin.properties", "plugin.id=slip\nplugin.version=1.0.0\n",
                "../../escaped.txt", "written outside"));
        try (PluginHost host = PluginHost.start(dir, "0.1.0")) {
            assertEquals(List.of("linear-test"), host.plugins().stream().map(PluginInfo::id).toList());
            Map<String, String> r = reasons(host);
            assertEquals(List.of("corrupt.zip", "empty.zip", "no-descriptor.zip", "slip.zip", "truncated.zip", "zero.zip"),
                    List.copyOf(r.keySet()));
            assertTrue(r.get("corrupt.zip").startsWith("not a readable zip file ("), r.toString());
            assertTrue(r.get("truncated.zip").startsWith("not a readable zip file ("), r.toString());
            assertEquals("empty zip: it holds no files; a bundle holds plugin.properties and lib/*.jar", r.get("empty.zip"));
            assertTrue(r.get("zero.zip").startsWith("empty file (0 bytes), not a plugin bundle"), r.toString());
            assertTrue(r.get("no-descriptor.zip").startsWith("no plugin.properties at the top of the zip"), r.toString());
            assertEquals("the zip entry '../../escaped.txt' would be written outside the bundle's folder; nothing of the zip "
                    + "was unpacked", r.get("slip.zip"));
        }
        assertFalse(Files.exists(work.resolve("escaped.txt")));
        assertFalse(Files.exists(dir.resolve("slip")), "nothing of it unpacked");
        assertFalse(Files.exists(dir.resolve("corrupt")));
    }

    static void zip(Path file, Map<String, String> entries) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, String> e : new TreeMap<>(entries).entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
    }

    @Test
    void bundleWithBadDescriptorIsRefusedWithTheFieldNamedAndOthersStillLoad() throws IOException {
        Path noVersion = TestBundles.bundle(work.resolve("bad1"), work, "plugin.id=broken\nplugin.provider=x\n",
                TestPluginSources.duplicatePlugin());
        Path badVersion = TestBundles.bundle(work.resolve("bad2"), work, "plugin.id=oddversion\nplugin.version=one\n",
                TestPluginSources.duplicatePlugin());
        try (PluginHost host = PluginHost.start(pluginsDir("bad", linearZip, noVersion, badVersion), "0.1.0")) {
            assertEquals(List.of("linear-test"), host.plugins().stream().map(PluginInfo::id).toList());
            List<String> reasons = host.refused().stream().map(RefusedPlugin::reason).sorted().toList();
            assertEquals(2, reasons.size(), reasons.toString());
            assertTrue(reasons.stream().anyMatch(r -> r.contains("field 'plugin.version' is missing")), reasons.toString());
            assertTrue(reasons.stream().anyMatch(r -> r.contains("field 'plugin.version' must be a semantic version like 1.2.0, found 'one'")),
                    reasons.toString());
            assertEquals(1, host.registry().all(ExtensionPoints.VISUALIZER).size());
        }
    }

    @Test
    void missingPluginsDirectoryIsAClearError() {
        PluginException e = assertThrows(PluginException.class, () -> PluginHost.start(work.resolve("nowhere"), "0.1.0"));
        assertTrue(e.getMessage().startsWith("plugins directory not found: "), e.getMessage());
    }
}
