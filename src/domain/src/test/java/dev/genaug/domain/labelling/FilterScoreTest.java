package dev.genaug.domain.labelling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FilterScoreTest {
    /** Four pixels of two classes. */
    private static final byte[] TRUTH = {0, 0, 1, 1};

    @Test
    void shouldPickTheThresholdThatDropsTheMostUncertainShare() {
        float[] u = {0.5f, 0.1f, 0.9f, 0.3f, 0.7f, 0.2f, 0.8f, 0.4f, 0.6f, 1.0f};

        assertThat(FilterScore.thresholdDropping(u, 0.1f)).isEqualTo(0.9f);
        assertThat(FilterScore.thresholdDropping(u, 0.3f)).isEqualTo(0.7f);
        assertThat(count(u, FilterScore.thresholdDropping(u, 0.3f))).isEqualTo(3);
        assertThat(FilterScore.thresholdDropping(u, 0f)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(FilterScore.thresholdDropping(u, 1f)).isEqualTo(Float.NEGATIVE_INFINITY);
    }

    @Test
    void shouldKeepTiesAtTheThresholdWhenTheyWouldOverfillTheShare() {
        float[] u = {0.2f, 0.5f, 0.5f, 0.5f};

        float threshold = FilterScore.thresholdDropping(u, 0.25f);

        assertThat(threshold).isEqualTo(0.5f);
        assertThat(count(u, threshold)).isZero();
    }

    @Test
    void shouldRefuseAShareOutsideZeroToOne() {
        assertThatThrownBy(() -> FilterScore.thresholdDropping(new float[] {1f}, 1.5f))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1.5");
        assertThatThrownBy(() -> FilterScore.thresholdDropping(new float[] {1f}, Float.NaN))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldSkipPixelsNotAnnotatedInIousAndAccuracy() {
        FilterScore filter = new FilterScore(2, 0.5f);
        byte[] partial = {0, (byte) 255, 1, (byte) 255};

        filter.add(new float[] {0, 1, 1, 0}, 0, partial, 0.1f); // right where annotated
        filter.add(new float[] {1, 1, 1, 1}, 0, partial, 0.9f); // half wrong where annotated

        assertThat(filter.kept().meanIou()).isEqualTo(1.0);
        assertThat(filter.keptPixelAccuracy()).isEqualTo(1.0);
        assertThat(filter.droppedPixelAccuracy()).isEqualTo(0.5);
        assertThat(filter.dropped().iou(1)).isEqualTo(0.5);
        assertThatThrownBy(() -> filter.add(new float[] {0, 0}, 0, new byte[] {(byte) 255, (byte) 255}, 0f))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no annotated pixel");
    }

    @Test
    void shouldScoreThePicturesAboveTheThresholdApartFromTheKeptOnes() {
        FilterScore filter = new FilterScore(2, 0.5f);

        filter.add(new float[] {0, 0, 1, 1}, 0, TRUTH, 0.1f); // all right, kept
        filter.add(new float[] {9, 0, 0, 1, 1}, 1, TRUTH, 0.5f); // at the threshold: kept; the offset is honoured
        filter.add(new float[] {1, 1, 1, 1}, 0, TRUTH, 0.6f); // half wrong, dropped

        assertThat(filter.keptPictures()).isEqualTo(2);
        assertThat(filter.droppedPictures()).isEqualTo(1);
        assertThat(filter.kept().meanIou()).isEqualTo(1.0);
        assertThat(filter.keptPixelAccuracy()).isEqualTo(1.0);
        // class 0: nothing right of 2 pixels; class 1: 2 right of 4 predicted
        assertThat(filter.dropped().iou(0)).isEqualTo(0.0);
        assertThat(filter.dropped().iou(1)).isEqualTo(0.5);
        assertThat(filter.droppedPixelAccuracy()).isEqualTo(0.5);
        assertThat(filter.threshold()).isEqualTo(0.5f);
    }

    @Test
    void shouldReportNaNForAPartWithNoPictures() {
        FilterScore filter = new FilterScore(2, Float.POSITIVE_INFINITY);

        filter.add(new float[] {0, 1, 1, 1}, 0, TRUTH, 1e30f);

        assertThat(filter.droppedPictures()).isZero();
        assertThat(filter.dropped().meanIou()).isNaN();
        assertThat(filter.droppedPixelAccuracy()).isNaN();
        assertThat(filter.keptPixelAccuracy()).isEqualTo(0.75);
    }

    private static int count(float[] u, float threshold) {
        int n = 0;
        for (float v : u) {
            n += v > threshold ? 1 : 0;
        }
        return n;
    }
}
