package dev.genaug.domain.labelling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    @Test
    void shouldCountEachTrueClassByPredictedClassWhenPicturesAccumulate() {
        SegmentationScore score = new SegmentationScore(3);

        score.add(new float[] {0, 2, 2, 1}, 0, new byte[] {0, 1, 1, 1});
        score.add(new float[] {2, 0}, 0, new byte[] {2, 1});

        assertThat(score.pixels(1, 2)).isEqualTo(2);
        assertThat(score.pixels(1, 1)).isEqualTo(1);
        assertThat(score.pixels(1, 0)).isEqualTo(1);
        assertThat(score.pixels(2, 2)).isEqualTo(1);
        assertThat(score.pixels(0, 0)).isEqualTo(1);
        assertThat(score.truePixels(1)).isEqualTo(4);
        // Class 2: 1 hit, 1 true pixel, 3 predicted: IoU 1 / 3.
        assertThat(score.iou(2)).isEqualTo(1 / 3.0);
    }

    @Test
    void shouldRefuseClassIdsBeyondTheScoreWhenAdded() {
        SegmentationScore score = new SegmentationScore(2);

        assertThatThrownBy(() -> score.add(new float[] {0, 2}, 0, new byte[] {0, 1}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pixel 1");
    }
}
