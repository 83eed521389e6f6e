package io.neuronmonkey.runtime.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The CLI in this JVM, as the launcher runs it: {@link Main#execute} returns the exit code instead of exiting. */
public final class InProcessCli {

    /**
     * What one command did.
     *
     * @param code the exit code
     * @param out  standard output
     * @param err  standard error
     */
    public record Result(int code, String out, String err) {
    }

    private InProcessCli() {
    }

    /**
     * @param args the command line
     * @return exit code and both streams; calls are serialized, since they swap System.out and System.err
     */
    public static synchronized Result run(List<String> args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.execute(args.toArray(String[]::new));
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
