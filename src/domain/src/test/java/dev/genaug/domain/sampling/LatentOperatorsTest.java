package dev.genaug.domain.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.genaug.api.common.v1.Latent;
import dev.genaug.api.sampler.v1.Direction;
import dev.genaug.api.sampler.v1.InterpolationMethod;
import dev.genaug.api.sampler.v1.NeighbourhoodShape;
import dev.genaug.api.sampler.v1.SampleRequest;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.repository.ModelRepository;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LatentOperatorsTest {
    private static final int D = 32;
    private static final float[] ANCHOR = PriorSampler.create(D, 1f, 0f, "").sample(9, 0, 1);

    private static double norm(float[] v, int offset) {
        double s = 0;
        for (int j = 0; j < D; j++) {
            s += v[offset + j] * (double) v[offset + j];
        }
        return Math.sqrt(s);
    }

    private static double distance(float[] a, int offset, float[] b) {
        double s = 0;
        for (int j = 0; j < D; j++) {
            double x = a[offset + j] - (double) b[j];
            s += x * x;
        }
        return Math.sqrt(s);
    }

    private static float[] scaled(float[] v, double length) {
        double n = norm(v, 0);
        float[] out = new float[v.length];
        for (int j = 0; j < v.length; j++) {
            out[j] = (float) (v[j] * length / n);
        }
        return out;
    }

    private static void assertSplitInvariant(LatentOperator op, int total) {
        float[] whole = op.points(4, 0, total);
        for (int batch : new int[] {1, 3, total}) {
            float[] joined = new float[whole.length];
            for (SampleRange r : SampleRange.split(total, batch)) {
                System.arraycopy(op.points(4, r.start(), r.count()), 0, joined, (int) r.start() * D, r.count() * D);
            }
            assertThat(joined).as("%s in batches of %d", op.name(), batch).containsExactly(whole);
        }
    }

    @Test
    void shouldGiveIdenticalLatentsWhateverTheBatchSplitForEveryOperator() {
        float[] other = PriorSampler.create(D, 1f, 0f, "").sample(9, 1, 1);
        assertSplitInvariant(
                Neighbours.create(ANCHOR, NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_GAUSSIAN, 0.5f, 0f, ""), 10);
        assertSplitInvariant(
                Neighbours.create(ANCHOR, NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_BALL, 0.5f, 0.9f, ""), 10);
        assertSplitInvariant(
                Interpolation.create(ANCHOR, other, 10, InterpolationMethod.INTERPOLATION_METHOD_SLERP, ""), 10);
        assertSplitInvariant(Walk.create(ANCHOR, List.of(direction(other, 1f)), -2f, 2f, 10, ""), 10);
    }

    @ParameterizedTest
    @ValueSource(floats = {0.1f, 0.5f, 2f})
    void shouldDrawGaussianNeighboursAtTheGivenSigma(float sigma) {
        int n = 2000;
        float[] z = Neighbours.create(ANCHOR, NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_UNSPECIFIED, sigma, 0f, "")
                .points(1, 0, n);
        double sumSq = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < D; j++) {
                double x = z[i * D + j] - ANCHOR[j];
                sumSq += x * x;
            }
        }
        // Per-coordinate standard deviation; its estimate from 64,000 draws is within 1%.
        assertThat(Math.sqrt(sumSq / (n * D))).isCloseTo(sigma, within(0.03 * sigma));
    }

    @Test
    void shouldKeepBallNeighboursInsideTheBallAndFillIt() {
        float[] z = Neighbours.create(ANCHOR, NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_BALL, 1.5f, 0f, "")
                .points(2, 0, 1000);
        double farthest = 0;
        int outerShell = 0;
        for (int i = 0; i < 1000; i++) {
            double r = distance(z, i * D, ANCHOR);
            farthest = Math.max(farthest, r);
            if (r > 1.5 * Math.pow(0.5, 1.0 / D)) {
                outerShell++; // half of a d-ball's volume lies beyond radius * 0.5^(1/d)
            }
        }
        assertThat(farthest).isLessThanOrEqualTo(1.5 + 1e-5);
        assertThat(outerShell / 1000.0).isCloseTo(0.5, within(0.06));
    }

    @Test
    void shouldReturnTheAnchorAtSigmaZero() {
        float[] z = Neighbours.create(ANCHOR, NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_GAUSSIAN, 0f, 0f, "")
                .points(3, 0, 2);
        assertThat(java.util.Arrays.copyOfRange(z, D, 2 * D)).containsExactly(ANCHOR);
    }

    @Test
    void shouldKeepSlerpOnTheShellWhereLerpLeavesIt() {
        double shell = Math.sqrt(D);
        float[] a = scaled(PriorSampler.create(D, 1f, 0f, "").sample(5, 0, 1), shell);
        float[] b = scaled(PriorSampler.create(D, 1f, 0f, "").sample(5, 1, 1), shell);
        float[] slerp = Interpolation.create(a, b, 9, InterpolationMethod.INTERPOLATION_METHOD_SLERP, "")
                .points(0, 0, 9);
        float[] lerp = Interpolation.create(a, b, 9, InterpolationMethod.INTERPOLATION_METHOD_LERP, "")
                .points(0, 0, 9);
        for (int k = 0; k < 9; k++) {
            assertThat(norm(slerp, k * D) / shell).as("slerp step %d", k).isCloseTo(1.0, within(0.05));
        }
        // Two nearly orthogonal Gaussian latents: the straight midpoint has about 1/sqrt(2) of the norm.
        assertThat(norm(lerp, 4 * D) / shell).isLessThan(0.85);
        assertThat(java.util.Arrays.copyOfRange(slerp, 0, D)).containsExactly(a);
        for (int j = 0; j < D; j++) {
            assertThat(slerp[8 * D + j]).isCloseTo(b[j], within(1e-5f));
        }
    }

    @Test
    void shouldWalkEvenlyAlongTheUnitSumOfTheDirections() {
        float[] e0 = new float[D];
        float[] e1 = new float[D];
        e0[0] = 3f;
        e1[1] = 1f;
        // 3 * e0 (length 3, weight 1) + 4 * e1: the unit direction is (0.6, 0.8, 0, ...).
        Walk walk = Walk.create(ANCHOR, List.of(direction(e0, 0f), direction(e1, 4f)), -1f, 1f, 5, "");
        float[] z = walk.points(0, 0, 5);
        for (int k = 0; k < 5; k++) {
            double alpha = -1 + k * 0.5;
            assertThat(z[k * D]).isCloseTo((float) (ANCHOR[0] + 0.6 * alpha), within(1e-5f));
            assertThat(z[k * D + 1]).isCloseTo((float) (ANCHOR[1] + 0.8 * alpha), within(1e-5f));
            assertThat(z[k * D + 2]).isEqualTo(ANCHOR[2]);
        }
    }

    private static Direction direction(float[] v, float weight) {
        Direction.Builder b = Direction.newBuilder().setWeight(weight);
        for (float x : v) {
            b.addValues(x);
        }
        return b.build();
    }

    private static Latent latent(float[] v) {
        Latent.Builder b = Latent.newBuilder();
        for (float x : v) {
            b.addValues(x);
        }
        return b.build();
    }

    private static final Sampling SAMPLING = new Sampling(ModelRepository.open(Path.of("no-such-repository")), 100, 64);

    private static SampleRequest.Builder request() {
        return SampleRequest.newBuilder().setLatentDimension(D).setCount(4).setSeed(1);
    }

    @Test
    void shouldNameTheFieldOfABadOperatorParameter() {
        assertThatThrownBy(() -> SAMPLING.sample(request()
                        .setNeighbours(dev.genaug.api.sampler.v1.Neighbours.newBuilder()
                                .setAnchor(latent(new float[3]))
                                .setSigma(1f))
                        .build()))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageStartingWith("neighbours.anchor: has 3 values; the latent dimension is 32");
        assertThatThrownBy(() -> SAMPLING.sample(request()
                        .setNeighbours(dev.genaug.api.sampler.v1.Neighbours.newBuilder()
                                .setAnchor(latent(ANCHOR))
                                .setSigma(-1f))
                        .build()))
                .hasMessageStartingWith("neighbours.sigma: must be finite and >= 0");
        float[] nan = ANCHOR.clone();
        nan[5] = Float.NaN;
        assertThatThrownBy(() -> SAMPLING.sample(request()
                        .setInterpolation(dev.genaug.api.sampler.v1.Interpolation.newBuilder()
                                .setFrom(latent(nan))
                                .setTo(latent(ANCHOR))
                                .setSteps(4))
                        .build()))
                .hasMessageStartingWith("interpolation.from.values[5]: must be finite");
        assertThatThrownBy(() -> SAMPLING.sample(request()
                        .setStartIndex(2)
                        .setInterpolation(dev.genaug.api.sampler.v1.Interpolation.newBuilder()
                                .setFrom(latent(ANCHOR))
                                .setTo(latent(ANCHOR))
                                .setSteps(5))
                        .build()))
                .hasMessageStartingWith("count: start_index 2 + count 4 goes past the operator's 5 steps");
        assertThatThrownBy(() -> SAMPLING.sample(request()
                        .setWalk(dev.genaug.api.sampler.v1.Walk.newBuilder()
                                .setOrigin(latent(ANCHOR))
                                .setAlphaMin(1f)
                                .setAlphaMax(1f)
                                .setSteps(4)
                                .addDirections(direction(ANCHOR, 1f)))
                        .build()))
                .hasMessageStartingWith("walk.alpha_max: must be finite and above alpha_min");
    }

    @Test
    void shouldRecordTheOperatorAndItsParametersInProvenance() {
        var response = SAMPLING.sample(request()
                .setNeighbours(dev.genaug.api.sampler.v1.Neighbours.newBuilder()
                        .setAnchor(latent(ANCHOR))
                        .setShape(NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_BALL)
                        .setSigma(0.25f))
                .build());
        assertThat(response.getProvenance(3).getOperator()).isEqualTo("neighbours");
        assertThat(response.getProvenance(3).getParametersMap())
                .containsEntry("shape", "ball")
                .containsEntry("sigma", "0.25");
        assertThat(response.getProvenance(3).getSampleIndex()).isEqualTo(3);
    }
}
