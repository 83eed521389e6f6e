package io.neuronmonkey.experiments;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        List<String> cmd = new ArrayList<>();
        cmd.add("bash");
        cmd.add(ROOT.resolve("neuronmonkey").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile());
        pb.environment().put("NEURONMONKEY_SKIP_BUILD", "1");
        pb.environment().remove("NEURONMONKEY_PLUGINS");
        pb.environment().put("NEURONMONKEY_CACHE", workDir.resolve("activation-cache").toString());
        Path out = Files.createTempFile(workDir, "stdout", ".txt");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("neuronmonkey " + String.join(" ", args) + " did not finish");
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }
}
