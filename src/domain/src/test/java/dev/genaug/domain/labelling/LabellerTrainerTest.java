package dev.genaug.domain.labelling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LabellerTrainerTest {
    private static final byte NOT_ANNOTATED = (byte) Labelling.IGNORED;

    /** Two 8x8 pictures of one feature at full resolution: +1 on the left half, -1 on the right. */
    private static FeatureMaps halves() {
        float[] data = new float[2 * 64];
        for (int p = 0; p < data.length; p++) {
            data[p] = p % 8 < 4 ? 1f : -1f;
        }
        return new FeatureMaps(2, 8, 8, List.of(new FeatureMaps.Level("image", 1, 1, data)));
    }

    @Test
    void shouldListOnlyThePixelsThatHaveAClass() {
        byte[] labels = {0, NOT_ANNOTATED, 2, NOT_ANNOTATED, 1};

        assertThat(LabellerTrainer.annotatedPixels(labels)).containsExactly(0, 2, 4);
        assertThat(LabellerTrainer.annotatedPixels(new byte[] {0, 1, 1})).containsExactly(0, 1, 2);
    }

    @Test
    void shouldStopAMemberOnceItReproducesItsAnnotations() {
        byte[] labels = new byte[2 * 64];
        for (int p = 0; p < labels.length; p++) {
            labels[p] = (byte) (p % 8 < 4 ? 1 : 0);
        }
        // Patience never runs out here: only the settled loss can stop a member before epoch 100.
        LabellerTrainer.Settings settings =
                new LabellerTrainer.Settings(2, new int[] {4}, 100, 1_000_000, 7, 8, 1e-2f, 1);
        int[] epochs = new int[2];
        double[] last = new double[2];

        LabellerTrainer.train(
                halves(),
                labels,
                2,
                settings,
                (member, epoch, loss) -> {
                    epochs[member] = epoch + 1;
                    last[member] = loss;
                },
                () -> false);

        for (int m = 0; m < 2; m++) {
            assertThat(epochs[m]).as("member %d", m).isBetween(2, 99);
            assertThat(last[m]).as("member %d", m).isLessThan(0.01);
        }
    }

    @Test
    void shouldLearnFromTheAnnotatedPixelsWhenOthersAreNotAnnotated() {
        // Class 1 on the left, 0 on the right; the first picture's right half and the second's top
        // rows are not annotated.
        byte[] labels = new byte[2 * 64];
        for (int p = 0; p < labels.length; p++) {
            int image = p / 64;
            int x = p % 8;
            int y = (p % 64) / 8;
            boolean annotated = image == 0 ? x < 4 : y >= 2;
            labels[p] = annotated ? (byte) (x < 4 ? 1 : 0) : NOT_ANNOTATED;
        }
        LabellerTrainer.Settings settings =
                new LabellerTrainer.Settings(2, new int[] {4}, 20, 1_000_000, 7, 8, 1e-2f, 1);

        Ensemble ensemble = LabellerTrainer.train(halves(), labels, 2, settings, (m, e, loss) -> {}, () -> false);
        Ensemble again = LabellerTrainer.train(halves(), labels, 2, settings, (m, e, loss) -> {}, () -> false);

        float[] predicted = ensemble.label(halves()).labels();
        for (int p = 0; p < predicted.length; p++) {
            assertThat(predicted[p]).as("pixel %d", p).isEqualTo(p % 8 < 4 ? 1f : 0f);
        }
        assertThat(again.label(halves()).confidence())
                .isEqualTo(ensemble.label(halves()).confidence());
    }
}
