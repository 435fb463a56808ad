package dev.genaug.domain.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.genaug.api.common.v1.Latent;
import dev.genaug.api.sampler.v1.DirectionMethod;
import dev.genaug.api.sampler.v1.FitDirectionsRequest;
import dev.genaug.api.sampler.v1.FitDirectionsResponse;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.random.RandomStream;
import org.junit.jupiter.api.Test;

class DirectionsTest {
    private static final int D = 6;

    /** Gaussian latents stretched along known axes: standard deviations 3, 2, 1, 0.5, 0.5, 0.5. */
    private static FitDirectionsRequest.Builder stretched(int n) {
        double[] sd = {3, 2, 1, 0.5, 0.5, 0.5};
        FitDirectionsRequest.Builder r = FitDirectionsRequest.newBuilder();
        for (int i = 0; i < n; i++) {
            RandomStream s = RandomStream.of(1, i);
            Latent.Builder z = Latent.newBuilder();
            for (int j = 0; j < D; j++) {
                z.addValues((float) (sd[j] * s.nextGaussian() + (j == 0 ? 5 : 0)));
            }
            r.addLatents(z);
        }
        return r;
    }

    @Test
    void shouldFindThePrincipalAxesByDecreasingVariance() {
        FitDirectionsResponse pca =
                Directions.fit(stretched(4000).setComponents(3).build(), 0, 100_000);
        assertThat(pca.getDirectionsList()).hasSize(3);
        assertThat(Math.abs(pca.getDirections(0).getValues(0))).isCloseTo(1f, within(0.01f));
        assertThat(Math.abs(pca.getDirections(1).getValues(1))).isCloseTo(1f, within(0.01f));
        // Variances 9 : 4 : 1 : 0.25 x 3 of a total 14.75.
        assertThat(pca.getExplainedVarianceRatio(0)).isCloseTo(9 / 14.75, within(0.03));
        assertThat(pca.getExplainedVarianceRatio(0)).isGreaterThan(pca.getExplainedVarianceRatio(1));
        assertThat(pca.getExplainedVarianceRatio(1)).isGreaterThan(pca.getExplainedVarianceRatio(2));
        assertThat(pca.getMean().getValues(0)).isCloseTo(5f, within(0.15f));
    }

    @Test
    void shouldPointTheAttributeDirectionTowardTheLatentsThatHaveIt() {
        FitDirectionsRequest.Builder r = stretched(1000).setMethod(DirectionMethod.DIRECTION_METHOD_ATTRIBUTE);
        // The attribute: the third coordinate above 0.3.
        for (Latent z : r.getLatentsList()) {
            r.addLabels(z.getValues(2) > 0.3f);
        }
        FitDirectionsResponse attribute = Directions.fit(r.build(), 0, 100_000);
        assertThat(attribute.getDirections(0).getValues(2)).isGreaterThan(0.9f);
        assertThat(attribute.getTrainingAccuracy()).isGreaterThan(0.95);
    }

    @Test
    void shouldNameTheFieldOfABadRequest() {
        assertThatThrownBy(() -> Directions.fit(stretched(1).build(), 0, 100))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageStartingWith("latents: needs at least 2");
        assertThatThrownBy(() -> Directions.fit(
                        stretched(10)
                                .setMethod(DirectionMethod.DIRECTION_METHOD_ATTRIBUTE)
                                .build(),
                        0,
                        100))
                .hasMessageStartingWith("labels: needs one label per latent");
        FitDirectionsRequest.Builder allSame = stretched(10).setMethod(DirectionMethod.DIRECTION_METHOD_ATTRIBUTE);
        for (int i = 0; i < 10; i++) {
            allSame.addLabels(true);
        }
        assertThatThrownBy(() -> Directions.fit(allSame.build(), 0, 100))
                .hasMessageStartingWith("labels: must include latents with and without");
        assertThatThrownBy(() -> Directions.fit(stretched(10).setComponents(7).build(), 0, 100))
                .hasMessageStartingWith("components:");
        assertThatThrownBy(() -> Directions.fit(stretched(10).build(), 8, 100))
                .hasMessageStartingWith("latents[0]: has 6 values; the latent dimension is 8");
    }
}
