package dev.genaug.domain.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genaug.domain.error.InvalidArgumentException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PriorSamplerTest {

    @Test
    void shouldGiveIdenticalLatentsWhateverTheBatchSplit() {
        PriorSampler sampler = PriorSampler.create(32, 0.7f, 0f, "prior.");
        float[] whole = sampler.sample(11, 0, 100);
        for (int batch : new int[] {1, 7, 33, 100}) {
            float[] joined = new float[whole.length];
            for (SampleRange r : SampleRange.split(100, batch)) {
                System.arraycopy(
                        sampler.sample(11, r.start(), r.count()), 0, joined, (int) r.start() * 32, r.count() * 32);
            }
            assertThat(joined).as("batch %d", batch).containsExactly(whole);
        }
    }

    @Test
    void shouldScaleByPsiRelativeToUntruncatedSamples() {
        float[] plain = PriorSampler.create(8, 1f, 0f, "").sample(5, 10, 3);
        float[] half = PriorSampler.create(8, 0.5f, 0f, "").sample(5, 10, 3);
        for (int i = 0; i < plain.length; i++) {
            assertThat(half[i]).isEqualTo((float) ((double) plain[i] * 0.5));
        }
    }

    @Test
    void shouldKeepEveryCoordinateWithinThreshold() {
        float[] z = PriorSampler.create(64, 1f, 0.5f, "").sample(1, 0, 500);
        double largest = Arrays.stream(toDoubles(z)).map(Math::abs).max().orElseThrow();
        assertThat(largest).isLessThanOrEqualTo(0.5).isGreaterThan(0.45);
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Test
    void shouldNameTheFieldForOutOfRangeParameters() {
        assertThatThrownBy(() -> PriorSampler.create(4, 1.5f, 0f, "prior."))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageStartingWith("prior.truncation_psi");
        assertThatThrownBy(() -> PriorSampler.create(4, -0.1f, 0f, "prior."))
                .hasMessageStartingWith("prior.truncation_psi");
        assertThatThrownBy(() -> PriorSampler.create(4, Float.NaN, 0f, "prior."))
                .hasMessageStartingWith("prior.truncation_psi");
        assertThatThrownBy(() -> PriorSampler.create(4, 1f, 0.1f, "prior."))
                .hasMessageStartingWith("prior.truncation_threshold");
        assertThatThrownBy(() -> PriorSampler.create(4, 1f, Float.POSITIVE_INFINITY, "prior."))
                .hasMessageStartingWith("prior.truncation_threshold");
    }

    @Test
    void shouldSplitRangesWithoutGapsOrOverlaps() {
        var ranges = SampleRange.split(10, 4);
        assertThat(ranges).containsExactly(new SampleRange(0, 4), new SampleRange(4, 4), new SampleRange(8, 2));
        assertThat(SampleRange.recordKey("job", 42)).isEqualTo("job/00000000000000000042");
    }
}
