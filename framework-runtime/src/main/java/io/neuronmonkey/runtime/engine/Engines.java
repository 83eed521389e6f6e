package io.neuronmonkey.runtime.engine;

import io.neuronmonkey.api.ConfigException;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds the engine an experiment asks for among the {@link PassEngine.Factory} services on the class path. */
public final class Engines {

    private Engines() {
    }

    /**
     * @param spec   a distributed engine
     * @param source what executors load
     * @return the started engine
     * @throws ConfigException when no engine of that type is on the class path, saying how to get one
     */
    public static PassEngine open(EngineSpec spec, ExperimentSource source) {
        if (Engines.class.getModule().isNamed()) {
            throw new ConfigException("the " + spec.type() + " engine runs on the class path, not the module path: start it"
                    + " with the launcher, './neuronmonkey run FILE --engine " + spec.type() + "[:MASTER]' (it puts the engine"
                    + " module framework-" + spec.type() + " on the class path), or submit the engine's jar with spark-submit");
        }
        List<String> found = new ArrayList<>();
        for (PassEngine.Factory f : ServiceLoader.load(PassEngine.Factory.class, Engines.class.getClassLoader())) {
            if (f.type().equals(spec.type())) {
                return f.open(spec, source);
            }
            found.add(f.type());
        }
        throw new ConfigException("engine '" + spec.type() + "' is not on the class path (engines found: "
                + (found.isEmpty() ? "none" : String.join(", ", found)) + "); build framework-" + spec.type()
                + " (./mvnw package -pl framework-" + spec.type() + " -am) and run with the launcher's --engine option");
    }
}
