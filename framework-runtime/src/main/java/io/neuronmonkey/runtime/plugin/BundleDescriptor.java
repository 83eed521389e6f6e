package io.neuronmonkey.runtime.plugin;

import org.pf4j.DefaultVersionManager;
import org.pf4j.PluginDependency;
import org.pf4j.PluginDescriptor;
import org.pf4j.PropertiesPluginDescriptorFinder;
import org.pf4j.VersionManager;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A bundle's descriptor ({@code plugin.properties}): id, version, provider, description, license, the NeuronMonkey
 * versions it works with ({@code plugin.requires}, a version range) and the plugins it needs
 * ({@code plugin.dependencies}, {@code id@range} separated by commas). {@link #problems} names every field that is
 * missing or malformed.
 *
 * @param dependencies as written, one {@code id} or {@code id@range} each
 */
public record BundleDescriptor(String id, String version, String provider, String description, String license,
                               String requires, List<String> dependencies) {

    static final Pattern PLUGIN_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    static final Pattern SEMVER = Pattern.compile("\\d+\\.\\d+\\.\\d+([-+][0-9A-Za-z.+-]+)?");

    public BundleDescriptor {
        dependencies = List.copyOf(dependencies);
    }

    /** The descriptor PF4J read. */
    static BundleDescriptor of(PluginDescriptor d) {
        List<String> deps = new ArrayList<>();
        for (PluginDependency p : d.getDependencies()) {
            String range = p.getPluginVersionSupport();
            deps.add(p.getPluginId() + (p.isOptional() ? "?" : "") + (range == null || "*".equals(range) ? "" : "@" + range));
        }
        return new BundleDescriptor(d.getPluginId(), d.getVersion(), d.getProvider(), d.getPluginDescription(), d.getLicense(),
                d.getRequires(), deps);
    }

    /** The {@code plugin.properties} at the top of a zip, read as PF4J reads it; empty when the zip has none. */
    static Optional<BundleDescriptor> read(Path zip) throws IOException {
        try (ZipFile z = new ZipFile(zip.toFile())) {
            ZipEntry e = z.getEntry(PropertiesPluginDescriptorFinder.DEFAULT_PROPERTIES_FILE_NAME);
            if (e == null) {
                return Optional.empty();
            }
            Properties p = new Properties();
            try (InputStream in = z.getInputStream(e)) {
                p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
            }
            return Optional.of(of(new Finder().descriptor(p)));
        }
    }

    /** The descriptor of a zip, or of a folder's {@code plugin.properties}; empty when there is none or it cannot be read. */
    static Optional<BundleDescriptor> readAny(Path bundle) {
        try {
            if (Files.isDirectory(bundle)) {
                Path f = bundle.resolve(PropertiesPluginDescriptorFinder.DEFAULT_PROPERTIES_FILE_NAME);
                if (!Files.isRegularFile(f)) {
                    return Optional.empty();
                }
                Properties p = new Properties();
                try (InputStream in = Files.newInputStream(f)) {
                    p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
                }
                return Optional.of(of(new Finder().descriptor(p)));
            }
            return BundleRepository.isZip(bundle) ? read(bundle) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** PF4J's own reading of the properties, so that install sees what the plugin manager will see. */
    private static final class Finder extends PropertiesPluginDescriptorFinder {
        PluginDescriptor descriptor(Properties p) {
            return createPluginDescriptor(p);
        }
    }

    /** Every missing or malformed field, each naming the field, what was found and what is valid; empty when fine. */
    public List<String> problems() {
        VersionManager versions = new DefaultVersionManager();
        List<String> bad = new ArrayList<>();
        if (blank(id)) {
            bad.add("field 'plugin.id' is missing or empty");
        } else if (!PLUGIN_ID.matcher(id).matches()) {
            bad.add("field 'plugin.id' must be letters, digits, '.', '_' or '-', found '" + id + "'");
        }
        if (blank(version)) {
            bad.add("field 'plugin.version' is missing or empty");
        } else if (!SEMVER.matcher(version).matches()) {
            bad.add("field 'plugin.version' must be a semantic version like 1.2.0, found '" + version + "'");
        }
        if (blank(provider)) {
            bad.add("field 'plugin.provider' is missing or empty (who made the bundle)");
        }
        if (blank(description)) {
            bad.add("field 'plugin.description' is missing or empty (one line on what the bundle provides)");
        }
        if (blank(license)) {
            bad.add("field 'plugin.license' is missing or empty (an SPDX id such as Apache-2.0)");
        }
        if (!blank(requires) && !validRange(versions, requires)) {
            bad.add("field 'plugin.requires' must be a version range like >=0.1.0 or ^0.1, found '" + requires + "'");
        }
        for (String d : dependencies) {
            int at = d.indexOf('@');
            String depId = (at < 0 ? d : d.substring(0, at)).replace("?", "");
            if (!PLUGIN_ID.matcher(depId).matches()) {
                bad.add("field 'plugin.dependencies' names a plugin id '" + depId + "' that is not letters, digits, '.', '_' or '-'");
            } else if (at >= 0 && !validRange(versions, d.substring(at + 1))) {
                bad.add("field 'plugin.dependencies': the version range of '" + depId + "' must be like >=1.0.0 or ^1.2, found '"
                        + d.substring(at + 1) + "'");
            }
        }
        return bad;
    }

    /** Whether a version range (PF4J's, from java-semver: {@code >=1.2.0}, {@code ^1.2}, {@code 1.x}, {@code >=1 & <2}) parses. */
    static boolean validRange(VersionManager versions, String range) {
        try {
            versions.checkVersionConstraint("0.0.0", range);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
