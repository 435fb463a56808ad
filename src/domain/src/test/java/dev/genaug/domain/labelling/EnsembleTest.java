package dev.genaug.domain.labelling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class EnsembleTest {
    private static final int CLASSES = 3;

    /** Two pictures of 4 x 4 pixels with two feature channels; class 2 is never annotated. */
    private static final FeatureMaps MAPS = maps();

    private static final byte[] LABELS = labels();

    private static FeatureMaps maps() {
        float[] data = new float[2 * 2 * 16];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) Math.sin(0.7 * i);
        }
        return new FeatureMaps(2, 4, 4, List.of(new FeatureMaps.Level("image", 2, 1, data)));
    }

    private static byte[] labels() {
        byte[] labels = new byte[32];
        for (int p = 0; p < labels.length; p++) {
            labels[p] = (byte) (p % 4 == 0 ? 1 : 0); // class 0 on 3/4 of the pixels, class 1 on 1/4
        }
        return labels;
    }

    private static Ensemble trained() {
        return LabellerTrainer.train(
                MAPS,
                LABELS,
                CLASSES,
                new LabellerTrainer.Settings(2, new int[] {8}, 2, 10, 3, 8, 1e-2f, 1),
                (m, e, l) -> {},
                () -> false);
    }

    private static float[] logits(Ensemble e, int member) {
        float[] x = new float[16 * 2];
        for (int p = 0; p < 16; p++) {
            MAPS.pixel(0, p / 4, p % 4, x, p * 2);
        }
        return e.members().get(member).logits(x, 16);
    }

    @Test
    void shouldMoveEachClassLogitByMinusTauLogItsShareWhenCorrectingForClassPriors() {
        Ensemble plain = trained();
        float[][] before = {logits(plain, 0), logits(plain, 1)};

        Ensemble corrected = plain.withClassPriorCorrection(LABELS, 0.5);

        double[] expected = {-0.5 * Math.log(0.75), -0.5 * Math.log(0.25), 0};
        for (int m = 0; m < 2; m++) {
            float[] after = logits(corrected, m);
            for (int i = 0; i < after.length; i++) {
                assertThat((double) after[i] - before[m][i])
                        .as("member %d, pixel %d, class %d", m, i / CLASSES, i % CLASSES)
                        .isCloseTo(expected[i % CLASSES], within(1e-5));
            }
            assertThat(logits(plain, m))
                    .as("the trained ensemble is left as it was")
                    .containsExactly(before[m]);
        }
    }

    @Test
    void shouldReturnTheSameEnsembleWhenTheCorrectionIsZero() {
        Ensemble plain = trained();

        assertThat(plain.withClassPriorCorrection(LABELS, 0)).isSameAs(plain);
    }
}
