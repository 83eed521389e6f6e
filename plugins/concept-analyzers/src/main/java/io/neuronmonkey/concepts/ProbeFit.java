package io.neuronmonkey.concepts;

import de.bwaldvogel.liblinear.Feature;
import de.bwaldvogel.liblinear.FeatureNode;
import de.bwaldvogel.liblinear.Linear;
import de.bwaldvogel.liblinear.Model;
import de.bwaldvogel.liblinear.Parameter;
import de.bwaldvogel.liblinear.Problem;
import de.bwaldvogel.liblinear.SolverType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * L1-regularized logistic regression on standardized features, trained by liblinear ({@code L1R_LR}, newGLMNET;
 * one-vs-rest for more than two classes; the bias is not penalized). {@code lambda} is the penalty on the mean
 * log-loss, {@code (1/n) sum loss + lambda ||w||_1}, which is liblinear's {@code C = 1 / (lambda n)}.
 * <p>
 * Features are standardized with the mean and standard deviation of the training rows (a constant feature becomes
 * 0), so weights of different neurons are comparable. liblinear's solver gets its own seeded random stream for
 * every fit, so a fit is reproducible whatever else runs.
 */
final class ProbeFit {

    /** liblinear's stopping tolerance for L1R_LR. */
    static final double EPS = 1e-3;

    static {
        Linear.disableDebugOutput();
    }

    private final Model model;
    private final int[] features;

    private ProbeFit(Model model, int[] features) {
        this.model = model;
        this.features = features;
    }

    /**
     * Standardizes row-major {@code [examples, neurons]} values with the moments of the training rows.
     *
     * @param x       values
     * @param neurons neurons per example
     * @param train   training rows
     * @return standardized values, same layout
     */
    static double[] standardize(float[] x, int neurons, int[] train) {
        double[] mean = new double[neurons];
        double[] sq = new double[neurons];
        for (int r : train) {
            for (int j = 0; j < neurons; j++) {
                mean[j] += x[r * neurons + j];
            }
        }
        for (int j = 0; j < neurons; j++) {
            mean[j] /= train.length;
        }
        for (int r : train) {
            for (int j = 0; j < neurons; j++) {
                double v = x[r * neurons + j] - mean[j];
                sq[j] += v * v;
            }
        }
        double[] sd = new double[neurons];
        for (int j = 0; j < neurons; j++) {
            sd[j] = Math.sqrt(sq[j] / Math.max(1, train.length - 1));
        }
        int n = x.length / neurons;
        double[] z = new double[x.length];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < neurons; j++) {
                z[r * neurons + j] = sd[j] > 1e-12 ? (x[r * neurons + j] - mean[j]) / sd[j] : 0;
            }
        }
        return z;
    }

    /**
     * Fits a probe.
     *
     * @param z        standardized row-major values
     * @param neurons  neurons per example in {@code z}
     * @param features the neurons used, in order
     * @param y        per example its class index
     * @param rows     the training rows
     * @param lambda   the L1 penalty on the mean log-loss, > 0
     * @param seed     seed of liblinear's random stream
     * @return the fitted probe
     */
    static ProbeFit train(double[] z, int neurons, int[] features, int[] y, int[] rows, double lambda, long seed) {
        Problem prob = new Problem();
        prob.l = rows.length;
        prob.n = features.length + 1;
        prob.bias = 1;
        prob.x = new Feature[rows.length][];
        prob.y = new double[rows.length];
        for (int i = 0; i < rows.length; i++) {
            prob.x[i] = row(z, neurons, features, rows[i]);
            prob.y[i] = y[rows[i]];
        }
        Parameter param = new Parameter(SolverType.L1R_LR, 1.0 / (lambda * rows.length), EPS);
        param.setRegularizeBias(false);
        param.setRandom(new Random(seed));
        return new ProbeFit(Linear.train(prob, param), features.clone());
    }

    private static Feature[] row(double[] z, int neurons, int[] features, int r) {
        Feature[] f = new Feature[features.length + 1];
        for (int k = 0; k < features.length; k++) {
            f[k] = new FeatureNode(k + 1, z[r * neurons + features[k]]);
        }
        f[features.length] = new FeatureNode(features.length + 1, 1);
        return f;
    }

    /**
     * @param z       standardized values (same layout as for training)
     * @param neurons neurons per example
     * @param y       per example its class index
     * @param rows    the rows to score
     * @return how many of them the probe classifies correctly
     */
    int correct(double[] z, int neurons, int[] y, int[] rows) {
        int ok = 0;
        for (int r : rows) {
            ok += (int) Linear.predict(model, row(z, neurons, features, r)) == y[r] ? 1 : 0;
        }
        return ok;
    }

    /**
     * @param neurons the layer's neuron count
     * @return per neuron the sum over the probe's weight vectors of |weight| (0 for neurons not used)
     */
    double[] importance(int neurons) {
        double[] out = new double[neurons];
        for (int c = 0; c < vectors(); c++) {
            double[] w = weights(c);
            for (int k = 0; k < features.length; k++) {
                out[features[k]] += Math.abs(w[k]);
            }
        }
        return out;
    }

    /** @return the number of weight vectors: 1 for two classes, else one per class (one-vs-rest) */
    int vectors() {
        return model.getNrClass() == 2 ? 1 : model.getNrClass();
    }

    /**
     * @param vector a weight vector index
     * @return the class index whose decision value it gives (positive: that class)
     */
    int vectorClass(int vector) {
        return model.getLabels()[vector];
    }

    /**
     * @param vector a weight vector index
     * @return its weight per used feature, in feature order
     */
    double[] weights(int vector) {
        double[] w = new double[features.length];
        for (int k = 0; k < features.length; k++) {
            w[k] = model.getDecfunCoef(k + 1, vector);
        }
        return w;
    }

    /** @return the number of features with a nonzero weight in some vector */
    int nonzero() {
        int n = 0;
        for (int k = 0; k < features.length; k++) {
            for (int c = 0; c < vectors(); c++) {
                if (model.getDecfunCoef(k + 1, c) != 0) {
                    n++;
                    break;
                }
            }
        }
        return n;
    }

    /**
     * Chooses lambda by seeded k-fold cross-validation on the training rows: the largest (sparsest) lambda whose mean
     * held-out-fold accuracy is the best of the grid.
     *
     * @param z       standardized values
     * @param neurons neurons per example
     * @param y       per example its class index
     * @param train   the training rows
     * @param grid    candidate lambdas
     * @param folds   folds, >= 2
     * @param seed    seed of the folds and fits
     * @return per candidate its mean fold accuracy, in grid order, and the chosen index
     */
    static Cv crossValidate(double[] z, int neurons, int[] y, int[] train, List<Double> grid, int folds, long seed) {
        int[] shuffled = train.clone();
        Random random = new Random(seed);
        for (int i = shuffled.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        int[] all = new int[neurons];
        Arrays.setAll(all, i -> i);
        double[] acc = new double[grid.size()];
        for (int g = 0; g < grid.size(); g++) {
            long ok = 0;
            for (int k = 0; k < folds; k++) {
                List<Integer> fit = new ArrayList<>();
                List<Integer> held = new ArrayList<>();
                for (int i = 0; i < shuffled.length; i++) {
                    (i % folds == k ? held : fit).add(shuffled[i]);
                }
                int[] fitRows = fit.stream().mapToInt(Integer::intValue).toArray();
                int[] heldRows = held.stream().mapToInt(Integer::intValue).toArray();
                ok += train(z, neurons, all, y, fitRows, grid.get(g), seed + k).correct(z, neurons, y, heldRows);
            }
            acc[g] = (double) ok / shuffled.length;
        }
        int best = 0;
        for (int g = 1; g < grid.size(); g++) {
            boolean better = acc[g] > acc[best] + 1e-12;
            boolean tieSparser = Math.abs(acc[g] - acc[best]) <= 1e-12 && grid.get(g) > grid.get(best);
            if (better || tieSparser) {
                best = g;
            }
        }
        return new Cv(acc, best);
    }

    /**
     * Cross-validation outcome.
     *
     * @param accuracy per candidate its mean fold accuracy
     * @param chosen   the chosen candidate's index
     */
    record Cv(double[] accuracy, int chosen) {
    }
}
