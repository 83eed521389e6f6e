package io.neuronmonkey.tensorflow;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import org.bytedeco.javacpp.Loader;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.TensorFlow;
import org.tensorflow.op.Ops;

import java.util.Locale;
import java.util.Map;

/**
 * Makes TensorFlow's native log honour {@code TF_CPP_MIN_LOG_LEVEL} (unset: 1, warnings and errors) for the lines
 * that bypass it. TensorFlow 2.18 logs part of its start-up through absl, which ignores that variable, and which
 * prefixes its first line with "All log messages before absl::InitializeLog() is called are written to STDERR":
 * <ul>
 *   <li>{@code libtensorflow_framework} exports absl's {@code SetMinLogLevel}: it is set to the threshold;</li>
 *   <li>{@code libtensorflow_cc} links a private absl copy that nothing reaches, and logs through it one INFO notice
 *   per process ("MLIR V1 optimization pass is not enabled", at the first session run). When INFO is below the
 *   threshold, a first run of a one-op graph happens here with the process's native standard error pointed at
 *   {@code /dev/null} for its duration (a few milliseconds, before any model loads), so both lines go there.</li>
 * </ul>
 * Once per JVM, before any other session runs. Where a symbol or libc call is missing nothing changes.
 */
final class NativeLogging {

    /** {@code absl::SetMinLogLevel(absl::LogSeverityAtLeast)} of the absl release TensorFlow Java 1.1.0 links. */
    static final String SET_MIN_LOG_LEVEL = "_ZN4absl12lts_2023080214SetMinLogLevelENS0_18LogSeverityAtLeastE";

    private static final int STDERR = 2;
    private static final int O_WRONLY = 1;

    private static volatile Boolean applied;

    private NativeLogging() {
    }

    /**
     * Applies the threshold once per JVM.
     *
     * @return true when absl's level in {@code libtensorflow_framework} was set
     */
    static boolean quiet() {
        Boolean done = applied;
        if (done != null) {
            return done;
        }
        synchronized (NativeLogging.class) {
            if (applied == null) {
                int level = level(System.getenv("TF_CPP_MIN_LOG_LEVEL"));
                boolean set = setFrameworkLevel(level);
                firstRun(level > 0);
                applied = set;
            }
            return applied;
        }
    }

    /** @return the absl severity (0 info, 1 warning, 2 error, 3 fatal) for a {@code TF_CPP_MIN_LOG_LEVEL} value */
    static int level(String env) {
        if (env == null || env.isBlank()) {
            return 1;
        }
        try {
            return Math.max(0, Math.min(3, Integer.parseInt(env.trim())));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    private static boolean setFrameworkLevel(int level) {
        TensorFlow.version(); // loads the native libraries
        for (Map.Entry<String, String> lib : Loader.getLoadedLibraries().entrySet()) {
            String path = lib.getValue();
            if (path == null || !path.toLowerCase(Locale.ROOT).contains("tensorflow_framework")) {
                continue;
            }
            try {
                Function f = NativeLibrary.getInstance(path).getFunction(SET_MIN_LOG_LEVEL);
                f.invokeVoid(new Object[] {level});
                return true;
            } catch (UnsatisfiedLinkError e) {
                return false;
            }
        }
        return false;
    }

    /** Runs a one-op graph, with native standard error muted when {@code mute}. */
    private static void firstRun(boolean mute) {
        int saved = mute ? mute() : -1;
        try (Graph g = new Graph(); Session s = new Session(g)) {
            Ops.create(g).withName("neuronmonkey_first_run").constant(0f);
            try (Result r = s.runner().fetch("neuronmonkey_first_run").run()) {
                r.size();
            }
        } finally {
            if (saved >= 0) {
                restore(saved);
            }
        }
    }

    /** @return a duplicate of the original standard error descriptor, or -1 when it could not be muted */
    private static int mute() {
        try {
            System.err.flush();
            NativeLibrary libc = NativeLibrary.getInstance("c");
            int saved = libc.getFunction("dup").invokeInt(new Object[] {STDERR});
            if (saved < 0) {
                return -1;
            }
            int devNull = libc.getFunction("open").invokeInt(new Object[] {"/dev/null", O_WRONLY});
            if (devNull < 0 || libc.getFunction("dup2").invokeInt(new Object[] {devNull, STDERR}) < 0) {
                libc.getFunction("close").invokeInt(new Object[] {saved});
                return -1;
            }
            libc.getFunction("close").invokeInt(new Object[] {devNull});
            return saved;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return -1;
        }
    }

    private static void restore(int saved) {
        NativeLibrary libc = NativeLibrary.getInstance("c");
        libc.getFunction("dup2").invokeInt(new Object[] {saved, STDERR});
        libc.getFunction("close").invokeInt(new Object[] {saved});
    }
}
