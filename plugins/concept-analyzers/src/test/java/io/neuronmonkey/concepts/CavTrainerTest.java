package io.neuronmonkey.concepts;

import org.apache.commons.math3.distribution.NormalDistribution;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CavTrainerTest {

    /** Two Gaussian clouds {@code N(+-mu, I)}: the Bayes direction is {@code mu}, the Bayes accuracy {@code Phi(|mu|)}. */
    @Test
    void findsTheDirectionBetweenTwoCloudsAndItsAccuracy() {
        int dim = 6;
        int per = 2000;
        double[] mu = {0.8, -0.4, 0, 0, 0.2, 0};
        double norm = Math.sqrt(0.64 + 0.16 + 0.04);
        float[] x = new float[2 * per * dim];
        Random rnd = new Random(5);
        int[] pos = new int[per];
        int[] neg = new int[per];
        for (int r = 0; r < 2 * per; r++) {
            double sign = r < per ? 1 : -1;
            for (int j = 0; j < dim; j++) {
                x[r * dim + j] = (float) (sign * mu[j] + rnd.nextGaussian());
            }
            if (r < per) {
                pos[r] = r;
            } else {
                neg[r - per] = r;
            }
        }
        CavTrainer.Cav cav = CavTrainer.train(x, dim, pos, neg, 0.25, 1.0, 1);
        double cos = 0;
        double len = 0;
        for (int j = 0; j < dim; j++) {
            cos += cav.direction()[j] * mu[j] / norm;
            len += cav.direction()[j] * cav.direction()[j];
        }
        assertEquals(1, len, 1e-5);
        assertTrue(cos > 0.98, "the CAV points to the positive cloud along mu: cos " + cos);
        double bayes = new NormalDistribution().cumulativeProbability(norm);
        assertEquals(bayes, cav.accuracy(), 0.03, "held-out accuracy near the Bayes accuracy " + bayes);

        CavTrainer.Cav swapped = CavTrainer.train(x, dim, neg, pos, 0.25, 1.0, 1);
        double cosSwapped = 0;
        for (int j = 0; j < dim; j++) {
            cosSwapped += swapped.direction()[j] * mu[j] / norm;
        }
        assertTrue(cosSwapped < -0.98, "swapping the sets flips the CAV: cos " + cosSwapped);
    }

    @Test
    void sameSeedSameCavAndHeldOutShares() {
        float[] x = new float[40 * 3];
        Random rnd = new Random(2);
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextFloat();
        }
        int[] a = new int[20];
        int[] b = new int[20];
        for (int i = 0; i < 20; i++) {
            a[i] = i;
            b[i] = 20 + i;
        }
        assertArrayEquals(CavTrainer.train(x, 3, a, b, 0.2, 1, 9).direction(), CavTrainer.train(x, 3, a, b, 0.2, 1, 9).direction());
        assertEquals(4, CavTrainer.held(20, 0.2));
        assertEquals(1, CavTrainer.held(2, 0.5));
        assertEquals(1, CavTrainer.held(3, 0.01));
    }
}
