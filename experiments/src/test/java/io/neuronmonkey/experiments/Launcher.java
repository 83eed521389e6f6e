package io.neuronmonkey.experiments;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code neuronmonkey} launcher (module path, plugin bundles from the build) as a separate process. */
final class Launcher {

    static final Path ROOT = Path.of(System.getProperty("neuronmonkey.root", "..")).toAbsolutePath().normalize();

    record Result(int code, String out, String err) {
        String all() {
            return out + err;
        }
    }

    private Launcher() {
    }

    static Result run(Path workDir, String... args) throws IOException, InterruptedException {
        return run(workDir, Map.of(), args);
    }

    /** @param env variables set for the launcher, e.g. NEURONMONKEY_PLUGINS */
    static Result run(Path workDir, Map<String, String> env, String... args) throws IOException, InterruptedException {
        Started s = start(workDir, env, List.of(), args);
        if (!s.process().waitFor(5, TimeUnit.MINUTES)) {
            s.process().destroyForcibly();
            throw new IllegalStateException("neuronmonkey " + String.join(" ", args) + " did not finish");
        }
        return s.result();
    }

    /** A launcher process under way; its output goes to files that can be read while it runs. */
    record Started(Process process, Path stdout, Path stderr) {
        String err() throws IOException {
            return Files.readString(stderr, StandardCharsets.UTF_8);
        }

        Result result() throws IOException {
            return new Result(process.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8), err());
        }
    }

    static Started start(Path workDir, String... args) throws IOException {
        return start(workDir, List.of(), args);
    }

    /** @param prefix a command the launcher runs under (empty for none), e.g. unshare */
    static Started start(Path workDir, List<String> prefix, String... args) throws IOException {
        return start(workDir, Map.of(), prefix, args);
    }

    /**
     * The user plugins folder is {@code user-plugins} in the work folder unless {@code env} names another, so that
     * no test reads the plugins of whoever runs it.
     */
    static Started start(Path workDir, Map<String, String> env, List<String> prefix, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add("bash");
        cmd.add(ROOT.resolve("neuronmonkey").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile());
        pb.environment().put("NEURONMONKEY_SKIP_BUILD", "1");
        pb.environment().put("NEURONMONKEY_PLUGINS", workDir.resolve("user-plugins").toString());
        pb.environment().putAll(env);
        pb.environment().put("NEURONMONKEY_CACHE", workDir.resolve("activation-cache").toString());
        Path out = Files.createTempFile(workDir, "stdout", ".txt");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        return new Started(pb.start(), out, err);
    }
}
