package dev.genaug.domain.labelling;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SegmentationScoreTest {
    @Test
    void shouldAccumulateIntersectionOverUnionPerClassOverPictures() {
        SegmentationScore score = new SegmentationScore(3);

        score.add(new float[] {0, 0, 1, 1}, 0, new byte[] {0, 0, 1, 2});
        score.add(new float[] {7, 1, 1}, 1, new byte[] {1, 1});

        assertThat(score.iou(0)).isEqualTo(1.0);
        assertThat(score.iou(1)).isEqualTo(3 / 4.0);
        assertThat(score.iou(2)).isEqualTo(0.0);
        assertThat(score.meanIou()).isEqualTo((1.0 + 0.75 + 0.0) / 3);
    }

    @Test
    void shouldSkipPixelsNotAnnotated() {
        SegmentationScore score = new SegmentationScore(2);

        // The 255s would otherwise count a wrong class-0 pixel and a class beyond the score's range.
        score.add(new float[] {0, 1, 1, 0}, 0, new byte[] {0, (byte) 255, 1, (byte) 255});

        assertThat(score.iou(0)).isEqualTo(1.0);
        assertThat(score.iou(1)).isEqualTo(1.0);
        assertThat(score.meanIou()).isEqualTo(1.0);
    }
}
