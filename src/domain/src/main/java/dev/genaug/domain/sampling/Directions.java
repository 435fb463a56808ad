package dev.genaug.domain.sampling;

import de.bwaldvogel.liblinear.Feature;
import de.bwaldvogel.liblinear.FeatureNode;
import de.bwaldvogel.liblinear.Linear;
import de.bwaldvogel.liblinear.Model;
import de.bwaldvogel.liblinear.Parameter;
import de.bwaldvogel.liblinear.Problem;
import de.bwaldvogel.liblinear.SolverType;
import dev.genaug.api.common.v1.Latent;
import dev.genaug.api.sampler.v1.Direction;
import dev.genaug.api.sampler.v1.FitDirectionsRequest;
import dev.genaug.api.sampler.v1.FitDirectionsResponse;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.ResourceExhaustedException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.hipparchus.linear.EigenDecompositionSymmetric;
import org.hipparchus.linear.MatrixUtils;

/**
 * Directions fitted to latents: principal components (Hipparchus' symmetric eigen-decomposition
 * of the covariance) and attribute directions (L2-regularised logistic regression, LIBLINEAR).
 */
public final class Directions {
    private Directions() {}

    public static FitDirectionsResponse fit(FitDirectionsRequest r, int dimension, int maxLatents) {
        int n = r.getLatentsCount();
        if (n < 2) {
            throw new InvalidArgumentException("latents", "needs at least 2 latents, got " + n);
        }
        if (n > maxLatents) {
            throw new ResourceExhaustedException(
                    "latents: " + n + " latents are above this service's cap of " + maxLatents);
        }
        int d = dimension > 0 ? dimension : r.getLatents(0).getValuesCount();
        float[] z = new float[n * d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(
                    LatentOperator.latent(r.getLatents(i).getValuesList(), d, "latents[" + i + "]"), 0, z, i * d, d);
        }
        return switch (r.getMethod()) {
            case DIRECTION_METHOD_UNSPECIFIED, DIRECTION_METHOD_PCA -> pca(z, n, d, r.getComponents());
            case DIRECTION_METHOD_ATTRIBUTE -> attribute(z, n, d, r);
            case UNRECOGNIZED -> throw new InvalidArgumentException("method", "unknown value " + r.getMethodValue());
        };
    }

    static FitDirectionsResponse pca(float[] z, int n, int d, int components) {
        if (components > d) {
            throw new InvalidArgumentException(
                    "components", "must be at most the dimension " + d + ", got " + components);
        }
        int k = components == 0 ? d : components;
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                mean[j] += z[i * d + j] / (double) n;
            }
        }
        double[][] cov = new double[d][d];
        for (int i = 0; i < n; i++) {
            for (int a = 0; a < d; a++) {
                double xa = z[i * d + a] - mean[a];
                for (int b = a; b < d; b++) {
                    cov[a][b] += xa * (z[i * d + b] - mean[b]) / (n - 1);
                }
            }
        }
        for (int a = 0; a < d; a++) {
            for (int b = 0; b < a; b++) {
                cov[a][b] = cov[b][a];
            }
        }
        EigenDecompositionSymmetric eigen = new EigenDecompositionSymmetric(MatrixUtils.createRealMatrix(cov));
        double[] values = eigen.getEigenvalues();
        double total = Arrays.stream(values).map(v -> Math.max(0, v)).sum();
        Integer[] order = IntStream.range(0, d).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> values[i]).reversed());
        FitDirectionsResponse.Builder out = FitDirectionsResponse.newBuilder();
        for (int c = 0; c < k; c++) {
            double[] v = eigen.getEigenvector(order[c]).toArray();
            out.addDirections(direction(v));
            out.addExplainedVarianceRatio(total > 0 ? Math.max(0, values[order[c]]) / total : 0);
        }
        Latent.Builder m = Latent.newBuilder();
        for (double x : mean) {
            m.addValues((float) x);
        }
        return out.setMean(m).build();
    }

    static FitDirectionsResponse attribute(float[] z, int n, int d, FitDirectionsRequest r) {
        if (r.getLabelsCount() != n) {
            throw new InvalidArgumentException(
                    "labels", "needs one label per latent: " + r.getLabelsCount() + " labels for " + n + " latents");
        }
        long present = r.getLabelsList().stream().filter(b -> b).count();
        if (present == 0 || present == n) {
            throw new InvalidArgumentException("labels", "must include latents with and without the attribute");
        }
        Problem problem = new Problem();
        problem.l = n;
        problem.n = d;
        problem.bias = 1;
        problem.x = new Feature[n][];
        problem.y = new double[n];
        for (int i = 0; i < n; i++) {
            Feature[] row = new Feature[d + 1];
            for (int j = 0; j < d; j++) {
                row[j] = new FeatureNode(j + 1, z[i * d + j]);
            }
            row[d] = new FeatureNode(d + 1, 1.0); // the bias term
            problem.x[i] = row;
            problem.y[i] = r.getLabels(i) ? 1 : 0;
        }
        problem.n = d + 1;
        Linear.disableDebugOutput();
        Linear.resetRandom();
        Model model = Linear.train(problem, new Parameter(SolverType.L2R_LR, 1.0, 1e-6));
        double[] w = model.getFeatureWeights();
        // LIBLINEAR orders the weights by its first label; make the direction point toward "present".
        int sign = model.getLabels()[0] == 1 ? 1 : -1;
        double[] v = new double[d];
        for (int j = 0; j < d; j++) {
            v[j] = sign * w[j];
        }
        int correct = 0;
        for (int i = 0; i < n; i++) {
            correct += Linear.predict(model, problem.x[i]) == problem.y[i] ? 1 : 0;
        }
        return FitDirectionsResponse.newBuilder()
                .addDirections(direction(v))
                .setTrainingAccuracy(correct / (double) n)
                .build();
    }

    private static Direction direction(double[] v) {
        double norm = Math.sqrt(Arrays.stream(v).map(x -> x * x).sum());
        Direction.Builder b = Direction.newBuilder();
        for (double x : v) {
            b.addValues((float) (norm > 0 ? x / norm : 0));
        }
        return b.build();
    }
}
