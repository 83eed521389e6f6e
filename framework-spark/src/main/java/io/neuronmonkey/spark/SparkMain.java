package io.neuronmonkey.spark;

import io.neuronmonkey.runtime.cli.Main;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The NeuronMonkey command line on the class path, with the Spark engine beside it: what the launcher starts for
 * {@code --engine spark} and what {@code spark-submit} runs from the shaded jar. Under spark-submit (which sets
 * {@code spark.master}) a {@code run} without {@code --engine} runs on Spark.
 */
public final class SparkMain {

    private SparkMain() {
    }

    /** @param args the command line, as for {@code neuronmonkey} */
    public static void main(String[] args) {
        System.exit(Main.execute(arguments(args, System.getProperty("spark.master"))));
    }

    /**
     * @param args        the command line
     * @param sparkMaster the master spark-submit set, or null
     * @return the command line, with {@code --engine spark} added to a {@code run} under spark-submit
     */
    static String[] arguments(String[] args, String sparkMaster) {
        List<String> list = new ArrayList<>(Arrays.asList(args));
        boolean run = !list.isEmpty() && list.get(0).equals("run");
        boolean engine = list.stream().anyMatch(a -> a.equals("--engine") || a.startsWith("--engine="));
        if (run && !engine && sparkMaster != null) {
            list.add("--engine");
            list.add("spark");
        }
        return list.toArray(String[]::new);
    }
}
