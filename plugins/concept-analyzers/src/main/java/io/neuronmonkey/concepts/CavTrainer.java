package io.neuronmonkey.concepts;

import de.bwaldvogel.liblinear.Feature;
import de.bwaldvogel.liblinear.FeatureNode;
import de.bwaldvogel.liblinear.Linear;
import de.bwaldvogel.liblinear.Model;
import de.bwaldvogel.liblinear.Parameter;
import de.bwaldvogel.liblinear.Problem;
import de.bwaldvogel.liblinear.SolverType;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A concept activation vector: the weight vector of an L2-regularized logistic regression (liblinear's primal
 * trust-region Newton solver, with a bias feature of value 1) separating a positive set of
 * activation rows from a negative set, normalized to unit length and pointing towards the positive set. A seeded
 * share of each set is held out of training and classified by the trained model, which gives the CAV's held-out
 * accuracy.
 */
final class CavTrainer {

    /** Stopping tolerance of the solver. */
    static final double EPSILON = 0.01;

    static {
        Linear.disableDebugOutput();
    }

    private CavTrainer() {
    }

    /**
     * A trained CAV.
     *
     * @param direction unit vector (all zeros when the solver returned no weights), towards the positive set
     * @param accuracy  held-out accuracy in [0, 1]
     */
    record Cav(float[] direction, double accuracy) {
    }

    /**
     * @param values    row-major {@code [rows, dim]} activations
     * @param dim       values per row
     * @param positive  rows of the positive set (the concept), at least 2
     * @param negative  rows of the negative set, at least 2
     * @param holdout   share of each set held out, in (0, 0.5]
     * @param cost      the inverse regularization strength C, > 0
     * @param seed      seed of the held-out split
     * @return the CAV and its held-out accuracy
     */
    static Cav train(float[] values, int dim, int[] positive, int[] negative, double holdout, double cost, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] pos = shuffled(positive, rnd);
        int[] neg = shuffled(negative, rnd);
        int hp = held(pos.length, holdout);
        int hn = held(neg.length, holdout);
        int train = pos.length - hp + neg.length - hn;
        Problem prob = new Problem();
        prob.l = train;
        prob.n = dim + 1;
        prob.bias = 1;
        prob.x = new Feature[train][];
        prob.y = new double[train];
        int at = 0;
        for (int i = hp; i < pos.length; i++, at++) {
            prob.x[at] = row(values, dim, pos[i]);
            prob.y[at] = 1;
        }
        for (int i = hn; i < neg.length; i++, at++) {
            prob.x[at] = row(values, dim, neg[i]);
            prob.y[at] = 0;
        }
        Model model = Linear.train(prob, new Parameter(SolverType.L2R_LR, cost, EPSILON));
        double[] w = model.getFeatureWeights();
        double sign = model.getLabels()[0] == 1 ? 1 : -1;
        double norm = 0;
        for (int j = 0; j < dim; j++) {
            norm += w[j] * w[j];
        }
        norm = Math.sqrt(norm);
        float[] direction = new float[dim];
        if (norm > 0) {
            for (int j = 0; j < dim; j++) {
                direction[j] = (float) (sign * w[j] / norm);
            }
        }
        int correct = 0;
        for (int i = 0; i < hp; i++) {
            correct += Linear.predict(model, row(values, dim, pos[i])) == 1 ? 1 : 0;
        }
        for (int i = 0; i < hn; i++) {
            correct += Linear.predict(model, row(values, dim, neg[i])) == 0 ? 1 : 0;
        }
        return new Cav(direction, (double) correct / (hp + hn));
    }

    /** @return how many of {@code n} rows are held out: round(n * share), at least 1, leaving at least 1 */
    static int held(int n, double share) {
        return Math.max(1, Math.min(n - 1, (int) Math.round(n * share)));
    }

    private static int[] shuffled(int[] rows, SplittableRandom rnd) {
        int[] out = rows.clone();
        for (int i = out.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = out[i];
            out[i] = out[j];
            out[j] = t;
        }
        return out;
    }

    /** @return the non-zero values of a row as 1-based features, then the bias feature */
    private static Feature[] row(float[] values, int dim, int r) {
        List<Feature> f = new ArrayList<>();
        int base = r * dim;
        for (int j = 0; j < dim; j++) {
            float v = values[base + j];
            if (v != 0f) {
                f.add(new FeatureNode(j + 1, v));
            }
        }
        f.add(new FeatureNode(dim + 1, 1));
        return f.toArray(new Feature[0]);
    }
}
