package io.neuronmonkey.concepts;

import org.apache.commons.math3.exception.ConvergenceException;
import org.apache.commons.math3.ml.clustering.CentroidCluster;
import org.apache.commons.math3.ml.clustering.Clusterable;
import org.apache.commons.math3.ml.clustering.KMeansPlusPlusClusterer;
import org.apache.commons.math3.ml.clustering.MultiKMeansPlusPlusClusterer;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.apache.commons.math3.ml.distance.EuclideanDistance;
import org.apache.commons.math3.random.JDKRandomGenerator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Clusters of a neuron's top examples by their pattern in another layer: seeded k-means++ (best of a few restarts by
 * within-cluster sum of squares) for every k in 2..maxClusters, the k with the largest mean silhouette kept. Clusters
 * are numbered by size, largest first. A reference tells structure from spread: the best silhouettes the same
 * procedure reaches on points drawn uniformly in the box the points span along their principal axes (one spread
 * without clusters, as in the gap statistic), since k-means splits any spread and even a uniform segment cut in two
 * has a mean silhouette near 0.6.
 */
final class PolysemanticityClusters {

    /** k-means++ restarts per k; the clustering with the smallest within-cluster sum of squares is kept. */
    static final int RESTARTS = 5;
    /** Iterations per k-means++ run. */
    static final int MAX_ITERATIONS = 200;

    private PolysemanticityClusters() {
    }

    /**
     * A clustering of the points.
     *
     * @param k          the number of clusters (1 when no k in 2..maxClusters could be tried)
     * @param assignment per point its cluster, 0-based, clusters numbered largest first
     * @param silhouette the mean silhouette over all points (NaN when k is 1)
     * @param perCluster per cluster the mean silhouette of its points
     */
    record Clustering(int k, int[] assignment, double silhouette, double[] perCluster) {

        /** @return per cluster its number of points */
        int[] sizes() {
            int[] s = new int[k];
            for (int a : assignment) {
                s[a]++;
            }
            return s;
        }
    }

    private record Point(int index, double[] getPoint) implements Clusterable {
    }

    /**
     * @param points      one pattern per point
     * @param maxClusters the largest k tried, >= 2
     * @param seed        the k-means++ seed
     * @return the clustering with the largest mean silhouette, or one cluster when no k of 2 or more can be tried (fewer than 2 distinct points)
     */
    static Clustering best(double[][] points, int maxClusters, long seed) {
        int n = points.length;
        int distinct = distinct(points);
        Clustering best = new Clustering(1, new int[n], Double.NaN, new double[] {Double.NaN});
        double[][] dist = distances(points);
        for (int k = 2; k <= Math.min(maxClusters, n - 1); k++) {
            if (distinct < k) {
                break;
            }
            int[] assignment = kMeans(points, k, seed + k);
            if (assignment == null) {
                continue;
            }
            Clustering c = withSilhouette(relabel(assignment, k), k, dist);
            if (best.k() == 1 || c.silhouette() > best.silhouette()) {
                best = c;
            }
        }
        return best;
    }

    /**
     * The best silhouettes of clusterings of reference points: as many points as given, drawn uniformly in the box
     * that the points span along their principal axes.
     *
     * @param points      the points
     * @param maxClusters the largest k tried
     * @param samples     reference samples
     * @param seed        the seed of the draws and of k-means++
     * @return per sample the best mean silhouette (NaN where no k could be tried)
     */
    static double[] reference(double[][] points, int maxClusters, int samples, long seed) {
        int n = points.length;
        int d = points[0].length;
        double[] mean = new double[d];
        for (double[] p : points) {
            for (int j = 0; j < d; j++) {
                mean[j] += p[j] / n;
            }
        }
        double[][] centred = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                centred[i][j] = points[i][j] - mean[j];
            }
        }
        RealMatrix x = new Array2DRowRealMatrix(centred, false);
        RealMatrix projected = x.multiply(new SingularValueDecomposition(x).getV());
        int m = projected.getColumnDimension();
        double[] lo = new double[m];
        double[] hi = new double[m];
        Arrays.fill(lo, Double.POSITIVE_INFINITY);
        Arrays.fill(hi, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                lo[j] = Math.min(lo[j], projected.getEntry(i, j));
                hi[j] = Math.max(hi[j], projected.getEntry(i, j));
            }
        }
        JDKRandomGenerator rng = new JDKRandomGenerator();
        rng.setSeed(seed);
        double[] out = new double[samples];
        for (int s = 0; s < samples; s++) {
            double[][] ref = new double[n][m];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    ref[i][j] = lo[j] + (hi[j] - lo[j]) * rng.nextDouble();
                }
            }
            out[s] = best(ref, maxClusters, seed + 1000L * (s + 1)).silhouette();
        }
        return out;
    }

    private static int[] kMeans(double[][] points, int k, long seed) {
        JDKRandomGenerator rng = new JDKRandomGenerator();
        rng.setSeed(seed);
        KMeansPlusPlusClusterer<Point> one = new KMeansPlusPlusClusterer<>(k, MAX_ITERATIONS, new EuclideanDistance(), rng);
        MultiKMeansPlusPlusClusterer<Point> many = new MultiKMeansPlusPlusClusterer<>(one, RESTARTS);
        List<Point> list = new ArrayList<>(points.length);
        for (int i = 0; i < points.length; i++) {
            list.add(new Point(i, points[i]));
        }
        List<CentroidCluster<Point>> clusters;
        try {
            clusters = many.cluster(list);
        } catch (ConvergenceException e) {
            return null;
        }
        int[] assignment = new int[points.length];
        Arrays.fill(assignment, -1);
        int c = 0;
        for (CentroidCluster<Point> cluster : clusters) {
            if (cluster.getPoints().isEmpty()) {
                return null;
            }
            for (Point p : cluster.getPoints()) {
                assignment[p.index()] = c;
            }
            c++;
        }
        return c == k ? assignment : null;
    }

    /** Renumbers clusters by size, largest first (ties: the cluster of the earlier point first). */
    private static int[] relabel(int[] assignment, int k) {
        int[] size = new int[k];
        int[] first = new int[k];
        Arrays.fill(first, Integer.MAX_VALUE);
        for (int i = 0; i < assignment.length; i++) {
            size[assignment[i]]++;
            first[assignment[i]] = Math.min(first[assignment[i]], i);
        }
        Integer[] order = new Integer[k];
        for (int i = 0; i < k; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.<Integer>comparingInt(c -> -size[c]).thenComparingInt(c -> first[c]));
        int[] rank = new int[k];
        for (int i = 0; i < k; i++) {
            rank[order[i]] = i;
        }
        int[] out = new int[assignment.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = rank[assignment[i]];
        }
        return out;
    }

    /**
     * The silhouette of a clustering: per point {@code (b - a) / max(a, b)} with {@code a} its mean distance to the
     * other points of its cluster and {@code b} the smallest mean distance to the points of another cluster; 0 for a
     * point alone in its cluster.
     *
     * @param assignment per point its cluster
     * @param k          clusters, >= 2
     * @param dist       pairwise distances
     * @return the clustering with its mean and per-cluster silhouettes
     */
    static Clustering withSilhouette(int[] assignment, int k, double[][] dist) {
        int n = assignment.length;
        int[] size = new int[k];
        for (int a : assignment) {
            size[a]++;
        }
        double total = 0;
        double[] perCluster = new double[k];
        for (int i = 0; i < n; i++) {
            double[] sum = new double[k];
            for (int j = 0; j < n; j++) {
                if (j != i) {
                    sum[assignment[j]] += dist[i][j];
                }
            }
            int own = assignment[i];
            double s = 0;
            if (size[own] > 1) {
                double a = sum[own] / (size[own] - 1);
                double b = Double.POSITIVE_INFINITY;
                for (int c = 0; c < k; c++) {
                    if (c != own && size[c] > 0) {
                        b = Math.min(b, sum[c] / size[c]);
                    }
                }
                double m = Math.max(a, b);
                s = m == 0 ? 0 : (b - a) / m;
            }
            total += s;
            perCluster[own] += s;
        }
        for (int c = 0; c < k; c++) {
            perCluster[c] = size[c] == 0 ? Double.NaN : perCluster[c] / size[c];
        }
        return new Clustering(k, assignment, total / n, perCluster);
    }

    /** @return pairwise Euclidean distances */
    static double[][] distances(double[][] points) {
        int n = points.length;
        double[][] d = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double s = 0;
                for (int t = 0; t < points[i].length; t++) {
                    double x = points[i][t] - points[j][t];
                    s += x * x;
                }
                d[i][j] = d[j][i] = Math.sqrt(s);
            }
        }
        return d;
    }

    private static int distinct(double[][] points) {
        Set<List<Double>> seen = new HashSet<>();
        for (double[] p : points) {
            seen.add(Arrays.stream(p).boxed().toList());
        }
        return seen.size();
    }
}
