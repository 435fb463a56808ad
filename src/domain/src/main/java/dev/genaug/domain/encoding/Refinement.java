package dev.genaug.domain.encoding;

import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ResolvedModel;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.hipparchus.exception.MathIllegalStateException;
import org.hipparchus.optim.InitialGuess;
import org.hipparchus.optim.MaxEval;
import org.hipparchus.optim.SimpleBounds;
import org.hipparchus.optim.nonlinear.scalar.GoalType;
import org.hipparchus.optim.nonlinear.scalar.ObjectiveFunction;
import org.hipparchus.optim.nonlinear.scalar.noderiv.CMAESOptimizer;
import org.hipparchus.random.Well19937c;

/**
 * Inversion refinement: from the encoder's latent, CMA-ES (Hipparchus) searches for a latent whose
 * decode is closer to the image, within a budget of generator evaluations. The best latent seen is
 * kept, so the error never grows.
 */
final class Refinement {
    /** Initial step size in latent units: the scale of a posterior's spread. */
    private static final double SIGMA = 0.3;

    private final InferenceBackend backend;
    private final ResolvedModel generator;

    Refinement(InferenceBackend backend, ResolvedModel generator) {
        this.backend = backend;
        this.generator = generator;
    }

    record Result(float[] latent, double before, double after) {}

    /** Mean squared error between the decode of z and the image (planar, the generator's range). */
    double error(double[] z, float[] image) {
        int d = z.length;
        float[] latent = new float[d];
        for (int j = 0; j < d; j++) {
            latent[j] = (float) z[j];
        }
        String in = generator.manifest().getTensorsOrDefault("latent", "z");
        String out = generator.manifest().getTensorsOrDefault("image", "image");
        float[] decoded = backend.infer(generator, Map.of(in, new FloatTensor(new long[] {1, d}, latent)), List.of(out))
                .get(out)
                .data();
        double sum = 0;
        for (int k = 0; k < image.length; k++) {
            double e = decoded[k] - (double) image[k];
            sum += e * e;
        }
        return sum / image.length;
    }

    Result refine(float[] start, float[] image, int evaluations, long index) {
        int d = start.length;
        double[] z0 = new double[d];
        for (int j = 0; j < d; j++) {
            z0[j] = start[j];
        }
        double before = error(z0, image);
        double[] best = z0.clone();
        double[] bestError = {before};
        ObjectiveFunction objective = new ObjectiveFunction(z -> {
            double e = error(z, image);
            if (e < bestError[0]) {
                bestError[0] = e;
                System.arraycopy(z, 0, best, 0, d);
            }
            return e;
        });
        double[] sigma = new double[d];
        Arrays.fill(sigma, SIGMA);
        int lambda = 4 + (int) (3 * Math.log(d));
        CMAESOptimizer cmaes = new CMAESOptimizer(Integer.MAX_VALUE, 0, true, 0, 0, new Well19937c(index), false, null);
        try {
            cmaes.optimize(
                    new MaxEval(Math.max(1, evaluations - 1)),
                    objective,
                    GoalType.MINIMIZE,
                    new InitialGuess(z0),
                    new CMAESOptimizer.Sigma(sigma),
                    new CMAESOptimizer.PopulationSize(lambda),
                    SimpleBounds.unbounded(d));
        } catch (MathIllegalStateException budgetSpent) {
            // The evaluation budget ran out: the best latent seen is the answer.
        }
        float[] refined = new float[d];
        for (int j = 0; j < d; j++) {
            refined[j] = (float) best[j];
        }
        return new Result(refined, before, bestError[0]);
    }
}
