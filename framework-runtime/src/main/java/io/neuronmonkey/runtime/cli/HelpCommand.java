package io.neuronmonkey.runtime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * {@code neuronmonkey help [COMMAND]}: the same text as {@code neuronmonkey [COMMAND] --help}. Unlike picocli's own
 * help command it refuses what it does not know (an option, a command that does not exist) with exit 2.
 */
@Command(name = "help", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Show a command's usage and options, or list the commands.")
final class HelpCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "COMMAND", description = "the command to describe (default: list the commands)")
    String command;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CommandLine top = spec.parent().commandLine();
        if (command == null) {
            top.usage(top.getOut());
            return Main.OK;
        }
        CommandLine sub = top.getSubcommands().get(command);
        if (sub == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), Main.unknownCommand(command, spec.parent()));
        }
        sub.usage(top.getOut());
        return Main.OK;
    }
}
