package io.neuronmonkey.runtime.plugin;

import io.neuronmonkey.api.PluginException;
import io.neuronmonkey.runtime.TestBundles;
import io.neuronmonkey.runtime.TestPluginSources;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        try (PluginHost host = PluginHost.start(pluginsDir("one", linearZip), "0.1.0")) {
            assertEquals(List.of(new PluginInfo("linear-test", "1.2.3", "STARTED", "test plugin linear-test",
                    host.plugins().get(0).path())), host.plugins());
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

    @Test
    void duplicateNamesFailAtStartWithBothPluginIds() throws IOException {
        Path dup = TestBundles.bundle(work.resolve("dup-built"), work, TestBundles.properties("dup-test", "0.0.1"),
                TestPluginSources.duplicatePlugin());
        PluginException e = assertThrows(PluginException.class, () -> PluginHost.start(pluginsDir("dup", linearZip, dup), "0.1.0"));
        assertTrue(e.getMessage().contains("two visualizers are named 'text'"), e.getMessage());
        assertTrue(e.getMessage().contains("'linear-test'") && e.getMessage().contains("'dup-test'"), e.getMessage());
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
