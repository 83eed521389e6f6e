package io.neuronmonkey.concepts;

import io.neuronmonkey.runtime.config.ParamsBinder;
import io.neuronmonkey.runtime.config.Problems;
import io.neuronmonkey.runtime.config.Yaml;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** concept-vectors params bind from YAML as an experiment writes them, defaults included. */
class ConceptVectorsParamsYamlTest {

    @Test
    void bindsConceptsOfEveryKindWithDefaults() {
        Problems problems = new Problems();
        ConceptVectorsAnalyzer.Params p = ParamsBinder.bind(ConceptVectorsAnalyzer.Params.class, Yaml.compose(
                "{concepts: {watermark: {where: {watermark: on}}, stripes: {data: stripes}, squares: {label: square}}, reduce: channel-mean}",
                "test").orElseThrow(), "params", problems).orElse(null);
        assertTrue(problems.isEmpty(), problems.list().toString());
        assertEquals(20, p.randomSets());
        assertEquals(64, p.conceptSize());
        assertEquals(64, p.examplesPerClass());
        assertEquals(0.05, p.alpha());
        assertEquals(10_000, p.permutations());
        assertEquals(List.of(), p.classes());
        assertEquals(ConceptVectorsAnalyzer.Space.CHANNEL_MEAN, p.reduce());
        List<ConceptSpec> specs = p.specs();
        assertEquals(List.of("watermark", "stripes", "squares"), specs.stream().map(ConceptSpec::name).toList());
        assertEquals(new ConceptSpec("watermark", ConceptSpec.Kind.WHERE, Map.of("watermark", "on"), null), specs.get(0));
        assertEquals(new ConceptSpec("stripes", ConceptSpec.Kind.DATA, Map.of(), "stripes"), specs.get(1));
        assertEquals(new ConceptSpec("squares", ConceptSpec.Kind.LABEL, Map.of(), "square"), specs.get(2));

        Problems bad = new Problems();
        assertFalse(ParamsBinder.bind(ConceptVectorsAnalyzer.Params.class, Yaml.compose(
                "{concepts: {'a b': {label: square}, w: {where: []}}}", "t").orElseThrow(), "params", bad).isPresent());
        String all = bad.list().toString();
        assertTrue(all.contains("concept name 'a b'") && all.contains("concept 'w': 'where' must be"), all);
    }
}
