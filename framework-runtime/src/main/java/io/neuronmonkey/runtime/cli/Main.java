package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.NeuronMonkeyException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code neuronmonkey} command line. Exit codes: 0 success, 1 a step or the run failed, 2 invalid input
 * (configuration, unknown names, missing files, bad usage).
 */
@Command(name = "neuronmonkey", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Neuron activation analysis: run declarative YAML experiments over PF4J plugins.",
        subcommands = {RunCommand.class, ValidateCommand.class, PluginsCommand.class, InspectCommand.class,
                TrainCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int INVALID = 2;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI without exiting the JVM (tests call this). */
    public static int execute(String... args) {
        System.setProperty("java.awt.headless", "true");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        System.setProperty("org.slf4j.simpleLogger.log.org.pf4j", System.getProperty("org.slf4j.simpleLogger.log.org.pf4j", "off"));
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(Main::handle);
        cli.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("error: " + ex.getMessage());
            ex.getCommandLine().usage(err);
            return INVALID;
        });
        return cli.execute(args);
    }

    private static int handle(Exception ex, CommandLine cmd, CommandLine.ParseResult parse) {
        PrintWriter err = cmd.getErr();
        if (ex instanceof ConfigException) {
            err.println("error: " + ex.getMessage());
            return INVALID;
        }
        if (ex instanceof NeuronMonkeyException) {
            err.println("error: " + ex.getMessage());
            Throwable c = ex.getCause();
            while (c != null) {
                err.println("  caused by: " + c);
                c = c.getCause();
            }
            return FAILED;
        }
        err.println("internal error: " + ex);
        ex.printStackTrace(err);
        return FAILED;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"NeuronMonkey " + Launch.version(),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
