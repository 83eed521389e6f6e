package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.NeuronMonkeyException;
import io.neuronmonkey.api.Suggestions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * The {@code neuronmonkey} command line. Exit codes, the same in every command: 0 success, 1 a step or the run failed,
 * 2 invalid input (bad usage, configuration, unknown names, missing files). Every command takes {@code --help}; bad
 * usage is answered with what was wrong and what is valid (the commands, or the command's options), never with a
 * stack trace.
 */
@Command(name = "neuronmonkey", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Neuron activation analysis: run declarative YAML experiments over PF4J plugins.",
        subcommands = {RunCommand.class, ValidateCommand.class, PluginsCommand.class, InspectCommand.class,
                TrainCommand.class, BenchCommand.class, NewCommand.class, SchemaCommand.class, HelpCommand.class},
        footer = {"", "Exit codes: 0 success, 1 a step or the run failed, 2 invalid input.",
                "'neuronmonkey COMMAND --help' shows a command's arguments and options."})
public final class Main implements Callable<Integer> {

    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int INVALID = 2;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI without exiting the JVM (tests call this). */
    public static int execute(String... args) {
        System.setProperty("java.awt.headless", "true");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        System.setProperty("org.slf4j.simpleLogger.log.org.pf4j", System.getProperty("org.slf4j.simpleLogger.log.org.pf4j", "off"));
        CommandLine cli = commandLine();
        cli.setExecutionExceptionHandler(Main::handle);
        cli.setParameterExceptionHandler((ex, a) -> invalidUsage(ex));
        int code = cli.execute(args);
        cli.getOut().flush();
        cli.getErr().flush();
        return code;
    }

    /** The command tree, as {@link #execute} runs it. */
    static CommandLine commandLine() {
        return new CommandLine(new Main());
    }

    /** {@code neuronmonkey} alone: which commands there are. */
    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        err.println("error: missing command; commands: " + String.join(", ", spec.subcommands().keySet()));
        err.println("'neuronmonkey --help' describes them; 'neuronmonkey COMMAND --help' shows a command's options");
        return INVALID;
    }

    /** Bad usage: what was wrong, what is valid, and where the full help is. */
    static int invalidUsage(CommandLine.ParameterException ex) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("error: " + usageProblem(ex));
        String name = cmd.getCommandSpec().qualifiedName();
        err.print("usage: " + cmd.getHelp().synopsis(0));
        err.println("'" + name + " --help' shows " + (cmd.getSubcommands().isEmpty() ? "every option" : "every command"));
        err.flush();
        return INVALID;
    }

    static String usageProblem(CommandLine.ParameterException ex) {
        CommandLine cmd = ex.getCommandLine();
        CommandSpec spec = cmd.getCommandSpec();
        String name = spec.qualifiedName();
        String message = String.valueOf(ex.getMessage());
        String missing = null;
        if (ex instanceof CommandLine.MissingParameterException m) {
            missing = "missing " + String.join(", ", m.getMissing().stream().map(a -> a instanceof OptionSpec o
                    ? o.longestName() + " " + o.paramLabel() : ((PositionalParamSpec) a).paramLabel()).toList()) + " for '" + name + "'";
        }
        // an unknown option is named even when a required argument is missing too (it may be why)
        List<String> unmatched = ex instanceof CommandLine.UnmatchedArgumentException u ? u.getUnmatched() : cmd.getUnmatchedArguments();
        if (!unmatched.isEmpty() && (ex instanceof CommandLine.UnmatchedArgumentException || unmatched.get(0).startsWith("-"))) {
            String first = unmatched.get(0);
            if (first.startsWith("-") && first.length() > 1) {
                String option = first.contains("=") ? first.substring(0, first.indexOf('=')) : first;
                List<String> names = new ArrayList<>();
                List<String> described = new ArrayList<>();
                for (OptionSpec o : spec.options()) {
                    if (o.hidden()) {
                        continue;
                    }
                    // long names are compared with long names, short with short ('-v' is in every '--v...')
                    boolean longName = option.startsWith("--");
                    Stream.of(o.names()).filter(n -> n.startsWith("--") == longName).forEach(names::add);
                    described.add(o.longestName() + (o.typeInfo().isBoolean() ? "" : " " + o.paramLabel()));
                }
                List<String> near = Suggestions.near(option, names, 3);
                return "unknown option '" + option + "' for '" + name + "'"
                        + (near.isEmpty() ? "" : " (did you mean " + near.get(0) + "?)")
                        + "; options: " + String.join(", ", described) + (missing == null ? "" : "; also " + missing);
            }
            if (!spec.subcommands().isEmpty()) {
                return unknownCommand(first, spec);
            }
            List<String> positional = spec.positionalParameters().stream().filter(p -> !p.hidden()).map(PositionalParamSpec::paramLabel).toList();
            return "unexpected argument '" + first + "' for '" + name + "': it takes "
                    + (positional.isEmpty() ? "no arguments, only options" : "one " + String.join(" ", positional)
                    + (positional.size() == 1 && spec.positionalParameters().get(0).arity().max > 1 ? " or more" : ""));
        }
        return missing != null ? missing : message;
    }

    static String unknownCommand(String wanted, CommandSpec top) {
        List<String> near = Suggestions.near(wanted, top.subcommands().keySet(), 3);
        return "unknown command '" + wanted + "'" + (near.isEmpty() ? "" : " (did you mean '" + near.get(0) + "'?)")
                + "; commands: " + String.join(", ", top.subcommands().keySet());
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
