package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.runtime.TestBundles;
import io.neuronmonkey.runtime.TestPluginSources;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line's contract, one row per case, for every command: {@code --help} exits 0 with the usage; an
 * unknown option, a missing or unknown file, a bad {@code -P} or model path exit 2 with a message naming what the user
 * typed (an argument, or their file with line and column) and what is valid; a failure while running exits 1. Runs
 * the CLI in this JVM over the pure-Java test plugin (backend "linear", source "table", analyzers "sum", "explode").
 */
class CliContractTest {

    @TempDir
    static Path work;

    @BeforeAll
    static void setUp() throws IOException {
        TestBundles.bundle(work.resolve("plugins"), work, TestBundles.properties("linear-test", "1.0.0"), TestPluginSources.linearPlugin());
        Files.writeString(work.resolve("model.bin"), "weights are in the backend");
        Files.writeString(work.resolve("exp.yaml"), """
                experiment: exp
                batchSize: 4
                model: {backend: linear, path: model.bin}
                data:
                  rows: {source: table, params: {count: 20}}
                  more: {source: table, params: {count: 6}}
                steps:
                  - {id: a, analyzer: sum, data: rows}
                  - {id: report, visualizer: text}
                """);
        Files.writeString(work.resolve("bad-param.yaml"), """
                experiment: bad
                model: {backend: linear, path: model.bin, scale: abc}
                data: {rows: {source: table}}
                steps: []
                """);
        Files.writeString(work.resolve("failing.yaml"), """
                experiment: failing
                model: {backend: linear, path: model.bin}
                data: {rows: {source: table, params: {count: 20, failAt: 5}}}
                steps:
                  - {id: boom, analyzer: explode}
                """);
    }

    /** One case: the arguments ({@code @x} is the path x in the work folder), the exit code, what the output says. */
    record Row(String name, List<String> args, int exit, List<String> says) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Row row(String name, int exit, List<String> args, String... says) {
        return new Row(name, args, exit, List.of(says));
    }

    static String abs(String file) {
        return work.resolve(file).toString();
    }

    static Stream<Row> rows() {
        List<Row> rows = new ArrayList<>();
        // every command there is, also one added later: --help, and an option it does not have
        for (String c : Main.commandLine().getSubcommands().keySet()) {
            rows.add(row(c + " --help", 0, List.of(c, "--help"), "Usage: neuronmonkey " + c, "--help"));
            rows.add(row(c + " unknown option", 2, List.of(c, "--no-such-option"),
                    "error: unknown option '--no-such-option' for 'neuronmonkey " + c + "'; options: ", "--help"));
        }
        String commands = "commands: run, validate, plugins, inspect, train, bench, help";
        String p = "@plugins";
        String lin = "linear";
        rows.addAll(List.of(
                row("--help lists the commands", 0, List.of("--help"), "Usage: neuronmonkey", "run", "validate", "plugins", "inspect",
                        "train", "bench", "Exit codes: 0 success, 1 a step or the run failed, 2 invalid input"),
                row("no command", 2, List.of(), "error: missing command; " + commands),
                row("unknown command", 2, List.of("frobnicate"), "error: unknown command 'frobnicate'; " + commands),
                row("misspelt command", 2, List.of("valdate", "x.yaml"), "unknown command 'valdate' (did you mean 'validate'?); " + commands),
                row("unknown option before the command", 2, List.of("--bogus", "run"), "unknown option '--bogus' for 'neuronmonkey'; options: --help, --version"),
                row("misspelt option", 2, List.of("run", "@exp.yaml", "--thread", "2"),
                        "unknown option '--thread' for 'neuronmonkey run' (did you mean --threads?); options: ", "--threads N", "--out DIR"),
                row("unknown option and a missing file", 2, List.of("validate", "--verbose"),
                        "unknown option '--verbose' for 'neuronmonkey validate'; options: --plugins DIR, --help, --version; "
                                + "also missing FILE for 'neuronmonkey validate'"),
                row("help for an unknown command", 2, List.of("help", "nope"), "error: unknown command 'nope'; " + commands),
                row("help for a command", 0, List.of("help", "bench"), "Usage: neuronmonkey bench", "--data=NAME"),

                // a missing or unknown file
                row("run: missing file", 2, List.of("run", "@nope.yaml"), "error: experiment file not found: " + abs("nope.yaml")),
                row("run: no file", 2, List.of("run"), "error: missing FILE"),
                row("validate: missing file", 2, List.of("validate", "@nope.yaml"), "error: experiment file not found: " + abs("nope.yaml")),
                row("validate: no file", 2, List.of("validate"), "error: missing FILE for 'neuronmonkey validate'", "usage: neuronmonkey validate"),
                row("train: missing file", 2, List.of("train", "@nope.yaml"), "error: experiment file not found: " + abs("nope.yaml")),
                row("train: no file", 2, List.of("train"), "error: missing FILE for 'neuronmonkey train'"),
                row("inspect: missing file", 2, List.of("inspect", "@nope.yaml"), "error: experiment file not found: " + abs("nope.yaml")),
                row("inspect: nothing to inspect", 2, List.of("inspect"), "missing what to inspect: 'neuronmonkey inspect FILE' or"),
                row("bench: missing file", 2, List.of("bench", "@nope.yaml"), "error: experiment file not found: " + abs("nope.yaml")),
                row("plugins: missing plugins folder", 2, List.of("plugins", "--plugins", "@nope"),
                        "error: --plugins " + abs("nope") + " - not a folder of plugin bundles: " + abs("nope") + " does not exist"),
                row("plugins: an unknown subcommand", 2, List.of("plugins", "extra"),
                        "unknown command 'extra'; commands: list, install, remove, info, verify"),
                row("plugins remove: no id", 2, List.of("plugins", "remove"), "missing ID for 'neuronmonkey plugins remove'"),
                row("plugins install: missing file", 2, List.of("plugins", "install", "@nope.zip"),
                        "error: plugin bundle not found: " + abs("nope.zip")),
                row("validate: missing plugins folder", 2, List.of("validate", "@exp.yaml", "--plugins", "@nope"), "--plugins " + abs("nope") + " - "),

                // a bad -P or model path names the argument, never a file the user did not write
                row("inspect: missing model", 2, List.of("inspect", "--backend", lin, "--model", "@nope", "--plugins", p),
                        "neuronmonkey inspect: 1 error in the arguments", "--model " + abs("nope") + " - model not found: " + abs("nope")),
                row("inspect: bad -P value", 2, List.of("inspect", "--backend", lin, "--model", "@model.bin", "-P", "scale=abc", "--plugins", p),
                        "-P scale=abc - must be a number, found 'abc'"),
                row("inspect: -P unknown param", 2, List.of("inspect", "--backend", lin, "--model", "@model.bin", "-P", "sclae=2", "--plugins", p),
                        "-P sclae=2 - unknown param 'sclae'; did you mean 'scale'?"),
                row("inspect: every -P problem at once", 2, List.of("inspect", "--backend", lin, "--model", "@model.bin", "-P", "x=[",
                                "-P", "scale=abc", "--plugins", p),
                        "2 errors in the arguments", "-P x=[: YAML syntax error at line 1, col 2", "-P scale=abc - must be a number"),
                row("inspect: -P without =", 2, List.of("inspect", "--model", "@model.bin", "-P", "scale"), "--param", "KEY=VALUE"),
                row("inspect: -P path", 2, List.of("inspect", "--backend", lin, "--model", "@model.bin", "-P", "path=x", "--plugins", p),
                        "-P path=x - give the model's path as --model PATH"),
                row("inspect: unknown backend", 2, List.of("inspect", "--backend", "lineer", "--model", "@model.bin", "--plugins", p),
                        "--backend lineer - unknown backend 'lineer'; did you mean 'linear'?"),
                row("inspect: model that does not load", 2, List.of("inspect", "--backend", lin, "--model", "@plugins", "--plugins", p),
                        "--model " + abs("plugins") + " - not a model file: " + abs("plugins")),
                row("inspect: FILE and --model", 2, List.of("inspect", "@exp.yaml", "--model", "@model.bin"), "or --model PATH, not both"),
                row("bench: missing model", 2, List.of("bench", "--backend", lin, "@nope", "--analyzers", "sum", "--plugins", p),
                        "MODEL " + abs("nope") + " - model not found: " + abs("nope"),
                        // the source of the synthetic images is in the datasets bundle, which this folder lacks
                        "the synthetic images fed to model paths (data source 'synthetic-shapes', --input-size 28, --examples 8192) - "
                                + "unknown data source 'synthetic-shapes'; known: table"),
                row("bench: bad -P value", 2, List.of("bench", "--backend", lin, "@model.bin", "-P", "scale=abc", "--analyzers", "sum", "--plugins", p),
                        "-P scale=abc - must be a number, found 'abc'"),
                row("bench: bad param in the user's file", 2, List.of("bench", "@bad-param.yaml", "--analyzers", "sum", "--plugins", p),
                        abs("bad-param.yaml") + ": 1 error", "model.scale (line 2, col 50) - must be a number, found 'abc'"),
                row("validate: the same problem, the same code", 2, List.of("validate", "@bad-param.yaml", "--plugins", p),
                        "model.scale (line 2, col 50) - must be a number, found 'abc'"),
                row("bench: unknown data set", 2, List.of("bench", "@exp.yaml", "--data", "mor", "--plugins", p),
                        "--data mor - " + abs("exp.yaml") + " has no data set 'mor' (did you mean 'more'?); its data sets: rows, more"),
                row("bench: --data without a file", 2, List.of("bench", "@model.bin", "--data", "rows"), "--data rows chooses a data set of an experiment FILE.yaml"),
                row("bench: --input-size with a file", 2, List.of("bench", "@exp.yaml", "--input-size", "32"), "--input-size applies to model paths"),
                row("bench: analyzer that is not streaming", 2, List.of("bench", "@exp.yaml", "--analyzers", "explode", "--plugins", p),
                        "--analyzers explode - analyzer 'explode' runs its own passes over the model; bench fuses streaming analyzers: sum"),
                row("bench: unknown analyzer", 2, List.of("bench", "@exp.yaml", "--analyzers", "summ", "--plugins", p),
                        "--analyzers summ - unknown analyzer 'summ'; did you mean 'sum'?"),
                row("bench: every option problem at once", 2, List.of("bench", "@exp.yaml", "--batch", "0", "--repeats", "0", "--examples", "0"),
                        "3 errors in the arguments", "--batch must be between 1 and 65536, found 0", "--repeats must be between 1 and 1000, found 0",
                        "--examples must be at least 1, found 0"),
                row("bench: not a number", 2, List.of("bench", "--batch", "many"), "Invalid value for option '--batch': 'many' is not an int"),
                row("run: --threads 0", 2, List.of("run", "@exp.yaml", "--threads", "0"), "--threads must be between 1 and "),
                row("bench: --threads 0, the same message", 2, List.of("bench", "@exp.yaml", "--threads", "0"), "--threads must be between 1 and "),
                row("bench: --threads past the cap", 2, List.of("bench", "@exp.yaml", "--threads", "65"), "at most 64), found 65"),

                // success, and failure while running
                row("inspect a model by arguments", 0, List.of("inspect", "--backend", lin, "--model", "@model.bin", "-P", "scale=2", "--plugins", p),
                        "linear test model", "hidden", "logits"),
                row("inspect an experiment's model", 0, List.of("inspect", "@exp.yaml", "--plugins", p), "linear test model"),
                row("bench an experiment file", 0, List.of("bench", "@exp.yaml", "--analyzers", "sum", "--repeats", "1", "--plugins", p),
                        "exp.yaml [rows] (2 layers)", "fed to: sum"),
                row("bench another of its data sets", 0, List.of("bench", "@exp.yaml", "--data", "more", "--analyzers", "none", "--repeats", "1",
                        "--plugins", p), "exp.yaml [more] (2 layers)", "no analyzer (capture only)"),
                row("validate", 0, List.of("validate", "@exp.yaml", "--plugins", p), "valid (2 steps, 2 data sets, model with 3 layers)"),
                row("run", 0, List.of("run", "@exp.yaml", "--out", "@out-ok", "--no-cache", "--plugins", p), abs("out-ok")),
                row("plugins", 0, List.of("plugins", "--plugins", p), "linear-test", "table"),
                row("run: a step fails", 1, List.of("run", "@failing.yaml", "--out", "@out-failed", "--no-cache", "--plugins", p),
                        "boom: the analysis failed on purpose"),
                row("bench: the data fails while timing", 1, List.of("bench", "@failing.yaml", "--analyzers", "sum", "--repeats", "1", "--plugins", p),
                        "error: failing at row 5 as asked")));
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void everyCommandAnswersWithTheRightExitCodeAndAMessageNamingWhatTheUserTyped(Row row) {
        List<String> args = row.args().stream().map(a -> a.startsWith("@") ? abs(a.substring(1)) : a).toList();
        Result r = execute(args);
        String all = r.out() + r.err();
        assertEquals(row.exit(), r.code(), row + ":\n" + all);
        for (String s : row.says()) {
            assertTrue(all.contains(s), row + ": expected '" + s + "' in:\n" + all);
        }
        assertFalse(all.contains("internal error") || all.contains("\tat ") || all.contains("Exception:"), row + ": no stack trace:\n" + all);
        // no message names a file the user did not write
        assertFalse(all.contains("command-line arguments") || all.contains("inspect.yaml") || all.contains("bench.yaml"), row + ":\n" + all);
        if (row.exit() == 2) {
            assertTrue(r.err().contains("error: "), row + ": the problem goes to stderr:\n" + all);
        }
    }

    @Test
    void everyCommandHasRowsForBadInputBeyondTheGeneratedOnes() {
        Set<String> covered = new TreeSet<>();
        rows().filter(r -> r.exit() == 2 && !r.name().endsWith(" unknown option") && !r.args().isEmpty()).forEach(r -> covered.add(r.args().get(0)));
        for (String c : Main.commandLine().getSubcommands().keySet()) {
            assertTrue(covered.contains(c), "no bad-input row for '" + c + "'");
        }
    }

    record Result(int code, String out, String err) {
    }

    static Result execute(List<String> args) {
        InProcessCli.Result r = InProcessCli.run(args);
        return new Result(r.code(), r.out(), r.err());
    }
}
