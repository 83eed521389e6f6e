package io.neuronmonkey.attribution;

import io.neuronmonkey.runtime.config.ParamsBinder;
import io.neuronmonkey.runtime.config.Problems;
import io.neuronmonkey.runtime.config.Yaml;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The four analyzers' params bind from YAML as an experiment writes them, defaults included. */
class InterventionParamsYamlTest {

    static <R> R bind(Class<R> type, String yaml) {
        Problems problems = new Problems();
        R r = ParamsBinder.bind(type, Yaml.compose(yaml, "test").orElseThrow(), "params", problems).orElse(null);
        assertTrue(problems.isEmpty(), problems.list().toString());
        return r;
    }

    @Test
    void bindsWithDefaults() {
        NeuronConductanceAnalyzer.Params nc = bind(NeuronConductanceAnalyzer.Params.class, "{target: 'class:square', where: {watermark: on}}");
        assertEquals(32, nc.steps());
        assertEquals(Map.of("watermark", "on"), nc.where());
        assertEquals(NeuronConductanceAnalyzer.Baseline.ZERO, nc.baseline());

        AblationAnalyzer.Params ab = bind(AblationAnalyzer.Params.class,
                "{layer: conv2, ranking: nc/conductance-ranking, top: 4, watchClass: square, groupBy: [watermark], where: {class: '!square', count: 3}}");
        assertEquals(10, ab.randomSets());
        assertEquals(AblationAnalyzer.Mode.ZERO, ab.mode());
        assertEquals("3", ab.where().get("count"), "numbers in a filter become strings");
        assertEquals(List.of(4, 6), bind(AblationAnalyzer.Params.class, "{layer: conv2, neurons: [4, 6], mode: mean}").neurons());

        SteeringAnalyzer.Params st = bind(SteeringAnalyzer.Params.class, "{layer: conv2, from: {watermark: off}, to: {watermark: on}}");
        assertEquals(List.of(-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0), st.scales());
        assertEquals(Map.of("watermark", "off"), st.from());

        ActivationPatchingAnalyzer.Params ap = bind(ActivationPatchingAnalyzer.Params.class, "{source: clean, neurons: [4]}");
        assertEquals(ActivationPatchingAnalyzer.PairBy.ID, ap.pairBy());
        assertEquals(0.1, ap.minDifference());
        assertEquals(null, ap.target());

        Problems problems = new Problems();
        assertFalse(ParamsBinder.bind(AblationAnalyzer.Params.class, Yaml.compose("{layer: conv2, mode: half}", "t").orElseThrow(),
                "params", problems).isPresent() && problems.isEmpty());
    }
}
