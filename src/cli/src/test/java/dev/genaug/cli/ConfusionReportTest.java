package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.domain.labelling.SegmentationScore;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfusionReportTest {
    private static final List<String> NAMES = List.of("background", "wall", "door");

    @Test
    void shouldNameTheLargestSharesFirstWhenClassesAreConfused() {
        SegmentationScore score = new SegmentationScore(3);
        // wall: 4 pixels, 1 taken for a door (25%); door: 2 pixels, 1 taken for wall (50%).
        score.add(new float[] {1, 1, 1, 2, 1, 2, 0, 0}, 0, new byte[] {1, 1, 1, 1, 2, 2, 0, 0});

        assertThat(ConfusionReport.line(score, NAMES))
                .isEqualTo("most confused (share of the true class's pixels): door as wall 50%, wall as door 25%");
    }

    @Test
    void shouldLeaveOutClassesWithAHandfulOfPixelsWhenReporting() {
        SegmentationScore score = new SegmentationScore(3);
        float[] predicted = new float[2000];
        byte[] truth = new byte[2000];
        // One door pixel among 2,000, taken for wall: under 0.1% of the pixels, so not named.
        truth[0] = 2;
        predicted[0] = 1;
        score.add(predicted, 0, truth);

        assertThat(ConfusionReport.line(score, NAMES)).isEqualTo("no class taken for another");
    }

    @Test
    void shouldWriteEachTrueClassRowOfPixelsWhenMadeJson() {
        SegmentationScore score = new SegmentationScore(3);
        score.add(new float[] {2, 0}, 0, new byte[] {1, 1});

        var figures = ConfusionReport.figures(score, NAMES);

        assertThat(figures.get("classes")).isEqualTo(NAMES);
        @SuppressWarnings("unchecked")
        List<long[]> rows = (List<long[]>) figures.get("pixels_by_true_then_predicted");
        assertThat(rows).hasSize(3);
        assertThat(rows.get(1)).containsExactly(1, 0, 1);
        assertThat(rows.get(0)).containsExactly(0, 0, 0);
    }
}
