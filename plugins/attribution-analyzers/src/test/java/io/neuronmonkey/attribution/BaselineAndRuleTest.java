package io.neuronmonkey.attribution;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Quadrature rules against closed-form integrals; baselines against naive references. */
class BaselineAndRuleTest {

    static double integrate(PathRule rule, int m, java.util.function.DoubleUnaryOperator f) {
        double[][] p = rule.points(m);
        double s = 0;
        for (int i = 0; i < m; i++) {
            s += p[1][i] * f.applyAsDouble(p[0][i]);
        }
        return s;
    }

    @Test
    void gaussLegendreByNewtonAgreesWithTheLibraryAndStaysExactForThousandsOfNodes() {
        for (int m = 1; m <= PathRule.LIBRARY_NODES; m++) {
            double[][] lib = PathRule.GAUSS_LEGENDRE.points(m);
            double[][] own = PathRule.newtonLegendre(m);
            for (int i = 0; i < m; i++) {
                assertEquals(lib[0][i], own[0][i], 1e-12, "node " + i + " of " + m);
                assertEquals(lib[1][i], own[1][i], 1e-12, "weight " + i + " of " + m);
            }
        }
        // step doubling reaches thousands of nodes: the rule must integrate polynomials of degree < 2m exactly
        double[][] big = PathRule.GAUSS_LEGENDRE.points(4096);
        double sum = 0;
        double fifth = 0;
        double cos = 0;
        for (int i = 0; i < 4096; i++) {
            sum += big[1][i];
            fifth += big[1][i] * Math.pow(big[0][i], 5);
            cos += big[1][i] * Math.cos(40 * big[0][i]);
            assertTrue(i == 0 || big[0][i] > big[0][i - 1], "ascending nodes");
        }
        assertEquals(1, sum, 1e-12);
        assertEquals(1.0 / 6, fifth, 1e-12);
        assertEquals(Math.sin(40) / 40, cos, 1e-12);
    }

    @Test
    void rulesIntegrateWhatTheyShould() {
        for (PathRule rule : PathRule.values()) {
            assertEquals(1.0, integrate(rule, 7, a -> 1), 1e-12, rule + " weights sum to 1");
        }
        // Riemann sums of f(a) = a: left (m-1)/2m, right (m+1)/2m, middle and trapezoid exactly 1/2
        assertEquals(4.0 / 10, integrate(PathRule.LEFT, 5, a -> a), 1e-12);
        assertEquals(6.0 / 10, integrate(PathRule.RIGHT, 5, a -> a), 1e-12);
        assertEquals(0.5, integrate(PathRule.MIDDLE, 5, a -> a), 1e-12);
        assertEquals(0.5, integrate(PathRule.TRAPEZOID, 5, a -> a), 1e-12);
        // Gauss-Legendre with m nodes is exact up to degree 2m - 1: the integral of a^5 over [0, 1] is 1/6
        assertEquals(1.0 / 6, integrate(PathRule.GAUSS_LEGENDRE, 3, a -> Math.pow(a, 5)), 1e-12);
        assertTrue(Math.abs(integrate(PathRule.GAUSS_LEGENDRE, 2, a -> Math.pow(a, 5)) - 1.0 / 6) > 1e-3);
        assertEquals(PathRule.GAUSS_LEGENDRE, PathRule.parse(" Gauss-Legendre ").orElseThrow());
        assertTrue(PathRule.parse("simpson").isEmpty());
    }

    @Test
    void baselinesParseAndBlurMatchesAFullTwoDimensionalKernel() {
        assertEquals(new Baseline(Baseline.Kind.CONSTANT, 0.5), Baseline.parse("constant:0.5").orElseThrow());
        assertEquals(3, Baseline.parse("noise:3").orElseThrow().count());
        for (String bad : new String[] {"blur:0", "noise:1.5", "noise:0", "constant:x", "gauss:2", "", "blur"}) {
            assertTrue(Baseline.parse(bad).isEmpty(), bad);
        }
        int h = 7;
        int w = 9;
        int c = 2;
        float[] x = new float[2 * h * w * c];
        Random r = new Random(3);
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
        }
        Batch b = new Batch(0, Tensor.ofFloats(x, 2, h, w, c), null, List.of("a", "b"), Collections.nCopies(2, Map.of()));
        double sigma = 1.3;
        float[] blurred = Baseline.inputs(List.of(Baseline.parse("blur:" + sigma).orElseThrow()), b, null, 1).get(0);
        int radius = (int) Math.ceil(3 * sigma);
        for (int e = 0; e < 2; e++) {
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++) {
                    for (int ch = 0; ch < c; ch++) {
                        double sum = 0;
                        double norm = 0;
                        for (int di = -radius; di <= radius; di++) {
                            for (int dj = -radius; dj <= radius; dj++) {
                                double k = Math.exp(-(di * di + dj * dj) / (2 * sigma * sigma));
                                int ii = Math.min(h - 1, Math.max(0, i + di));
                                int jj = Math.min(w - 1, Math.max(0, j + dj));
                                sum += k * x[((e * h + ii) * w + jj) * c + ch];
                                norm += k;
                            }
                        }
                        assertEquals(sum / norm, blurred[((e * h + i) * w + j) * c + ch], 1e-5);
                    }
                }
            }
        }
        // noise: inside each example's range, the same for an example whatever its batch
        float[] noise = Baseline.inputs(List.of(Baseline.parse("noise:2").orElseThrow()), b, null, 9).get(1);
        float[] alone = Baseline.inputs(List.of(Baseline.parse("noise:2").orElseThrow()),
                ExampleFilter.select(b, new int[] {1}), null, 9).get(1);
        assertEquals(java.util.Arrays.toString(java.util.Arrays.copyOfRange(noise, h * w * c, 2 * h * w * c)),
                java.util.Arrays.toString(alone));
    }
}
