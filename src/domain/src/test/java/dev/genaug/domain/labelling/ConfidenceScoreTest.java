package dev.genaug.domain.labelling;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ConfidenceScoreTest {
    @Test
    void shouldCountCoverageAndAccuracyAtEachFloor() {
        ConfidenceScore score = new ConfidenceScore(0f, 0.5f, 0.9f);
        // Four pixels: right at 0.95, wrong at 0.6, right at 0.5, wrong at 0.2; offset 1 skips the 9.
        float[] predicted = {9, 1, 0, 1, 1};
        float[] confidence = {1f, 0.95f, 0.6f, 0.5f, 0.2f};
        byte[] truth = {1, 1, 1, 0};

        score.add(predicted, confidence, 1, truth);

        assertThat(score.floors()).isEqualTo(3);
        assertThat(score.floor(1)).isEqualTo(0.5f);
        assertThat(score.coverage(0)).isEqualTo(1.0);
        assertThat(score.accuracy(0)).isEqualTo(0.5);
        assertThat(score.coverage(1)).isEqualTo(0.75);
        assertThat(score.accuracy(1)).isEqualTo(2 / 3.0);
        assertThat(score.coverage(2)).isEqualTo(0.25);
        assertThat(score.accuracy(2)).isEqualTo(1.0);
    }

    @Test
    void shouldSkipPixelsNotAnnotated() {
        ConfidenceScore score = new ConfidenceScore(0f, 0.9f);
        // The 255s (not annotated) would be a wrong pixel at 0.95 and a right one at 0.1.
        float[] predicted = {1, 0, 1, 0};
        float[] confidence = {0.95f, 0.95f, 0.5f, 0.1f};
        byte[] truth = {1, (byte) 255, 0, (byte) 255};

        score.add(predicted, confidence, 0, truth);

        assertThat(score.coverage(0)).isEqualTo(1.0);
        assertThat(score.accuracy(0)).isEqualTo(0.5);
        assertThat(score.coverage(1)).isEqualTo(0.5);
        assertThat(score.accuracy(1)).isEqualTo(1.0);
    }

    @Test
    void shouldReportNaNWhereNoPixelCounts() {
        ConfidenceScore score = new ConfidenceScore(0.99f);

        assertThat(score.coverage(0)).isNaN();
        score.add(new float[] {0}, new float[] {0.5f}, 0, new byte[] {0});
        assertThat(score.coverage(0)).isZero();
        assertThat(score.accuracy(0)).isNaN();
    }
}
