/**
 * The NeuronMonkey runtime: PF4J plugin host, Guice wiring, YAML experiments, the pipeline, results and the CLI.
 * Nothing is exported: users run it through the launcher, plugins see only io.neuronmonkey.api.
 */
module io.neuronmonkey.runtime {
    requires io.neuronmonkey.api;
    requires org.pf4j;
    requires com.google.guice;
    requires jakarta.inject;
    requires org.snakeyaml.engine.v2;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires org.slf4j;
    requires java.management;
    requires jdk.management;
    requires java.compiler;
    requires jdk.httpserver;

    // picocli instantiates and injects the commands reflectively
    opens io.neuronmonkey.runtime.cli to info.picocli;

    // engines beside the local one (framework-spark) run on the class path; on the module path none is found
    uses io.neuronmonkey.runtime.engine.PassEngine.Factory;
}
