package io.neuronmonkey.datasets;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.data.DataContext;
import io.neuronmonkey.api.data.DataSource;
import io.neuronmonkey.api.data.Dataset;
import org.pf4j.Extension;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * NumPy {@code .npz} archives ({@code np.savez} and {@code np.savez_compressed}: a zip of {@code .npy} members), such
 * as Keras' {@code mnist.npz} with {@code x_train}, {@code y_train}, {@code x_test}, {@code y_test}. The chosen members
 * are unpacked once into a temporary folder, removed when the data set closes, and read as {@link NpySource} reads
 * {@code .npy} files.
 */
@Extension
@ExtensionName(value = "npz", description = "Examples and labels from members of a NumPy .npz archive")
public class NpzSource implements DataSource<NpzSource.Params> {

    /**
     * Params of {@code npz}.
     *
     * @param file       path of the archive, required
     * @param inputs     member holding the examples (dim 0), e.g. {@code x_test}; optional when the archive has one
     * @param labels     member holding integer labels, e.g. {@code y_test}, or null
     * @param classNames label names, or null for {@code "0".."max label"}
     * @param scale      factor applied to every input value
     * @param allowNonFinite whether NaN and infinite inputs are read rather than refused
     */
    public record Params(
            @Param(description = "path of a .npz archive") String file,
            @Param(description = "member with the examples, e.g. x_test (the .npy suffix may be left out); optional"
                    + " for a one-member archive") String inputs,
            @Param(description = "optional member with integer labels, e.g. y_test") String labels,
            @Param(description = "optional label names, indexed by label; default \"0\"..max label")
            List<String> classNames,
            @Param(defaultValue = "1.0", description = "factor applied to every input value") double scale,
            @Param(defaultValue = "false", description = "read NaN and infinite input values instead of failing on the "
                    + "first; the run then counts and reports them") boolean allowNonFinite) {

        /** Validates every field at once. */
        public Params {
            Violations.check()
                    .require(file != null && !file.isBlank(), "file", "must be the path of a .npz file, found "
                            + (file == null ? "nothing" : "'" + file + "'"))
                    .require(inputs == null || !inputs.isBlank(), "inputs", "must name a member or be absent")
                    .require(labels == null || !labels.isBlank(), "labels", "must name a member or be absent")
                    .require(classNames == null || labels != null, "classNames", "needs labels: give params.labels")
                    .require(classNames == null || !classNames.isEmpty(), "classNames", "must not be empty")
                    .require(Double.isFinite(scale), "scale", "must be finite, found " + scale)
                    .throwIfAny();
            classNames = classNames == null ? null : List.copyOf(classNames);
        }
    }

    /** Public no-arg constructor for PF4J. */
    public NpzSource() {
    }

    @Override
    public Dataset open(DataContext<Params> ctx) {
        Params p = ctx.params();
        Path archive = DataFiles.require(ctx, p.file(), "file");
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            List<String> members = new ArrayList<>();
            Collections.list(zip.entries()).forEach(e -> {
                if (!e.isDirectory() && e.getName().endsWith(".npy")) {
                    members.add(e.getName().substring(0, e.getName().length() - 4));
                }
            });
            String inputs = p.inputs();
            if (inputs == null) {
                if (members.size() != 1) {
                    throw new DataException("npz archive " + archive + " has " + members.size() + " members; say which"
                            + " holds the examples with params.inputs, one of: " + String.join(", ", members));
                }
                inputs = members.get(0);
            }
            ZipEntry in = entry(zip, inputs, "inputs", archive, members);
            ZipEntry lab = p.labels() == null ? null : entry(zip, p.labels(), "labels", archive, members);
            Path tmp = Files.createTempDirectory("neuronmonkey-npz-");
            Runnable cleanup = () -> {
                try (var files = Files.list(tmp)) {
                    for (Path f : files.toList()) {
                        Files.deleteIfExists(f);
                    }
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a temporary folder left behind is not worth failing a run for
                }
            };
            try {
                Path inputFile = unpack(zip, in, tmp.resolve(in.getName().replace('/', '_')));
                Path labelFile = lab == null ? null : unpack(zip, lab, tmp.resolve("labels-" + lab.getName().replace('/', '_')));
                return NpySource.open(inputFile, labelFile, p.classNames(), p.scale(), p.allowNonFinite(), cleanup);
            } catch (IOException | RuntimeException e) {
                cleanup.run();
                throw e;
            }
        } catch (IOException e) {
            throw new DataException("cannot read npz archive " + archive + ": " + e.getMessage(), e);
        }
    }

    private static ZipEntry entry(ZipFile zip, String name, String param, Path archive, List<String> members) {
        String member = name.endsWith(".npy") ? name.substring(0, name.length() - 4) : name;
        ZipEntry e = zip.getEntry(member + ".npy");
        if (e == null) {
            throw new DataException("npz archive " + archive + " has no member '" + member + "' (params." + param
                    + "); members: " + String.join(", ", members));
        }
        return e;
    }

    private static Path unpack(ZipFile zip, ZipEntry entry, Path to) throws IOException {
        try (InputStream in = zip.getInputStream(entry)) {
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
        to.toFile().deleteOnExit();
        return to;
    }
}
