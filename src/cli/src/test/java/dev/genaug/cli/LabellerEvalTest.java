package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code labeller eval} end to end on a few renders: what its JSON holds. */
class LabellerEvalTest {
    @Test
    void shouldScoreTheMostUncertainRendersApartAndEachConfidenceFloorWhenEvaluating(@TempDir Path dir)
            throws Exception {
        Path json = dir.resolve("eval.json");

        assertThat(eval(json, "--annotations", "2", "--held-out", "20", "--drop-fraction", "0.25"))
                .isZero();
        JsonNode row = row(json, 2);
        for (String filter : new String[] {"filter", "rgb_filter"}) {
            JsonNode f = row.get(filter);
            // Two members give every picture its own uncertainty: exactly a quarter of 20 is dropped.
            assertThat(f.get("dropped").asInt()).as(filter).isEqualTo(5);
            assertThat(f.get("kept").asInt()).as(filter).isEqualTo(15);
            assertThat(f.get("drop_fraction").asDouble()).as(filter).isEqualTo(0.25);
            assertThat(f.get("threshold").isNumber()).as(filter).isTrue();
            assertThat(f.get("pixel_accuracy_kept").asDouble()).as(filter).isBetween(0.0, 1.0);
        }
        JsonNode confidence = row.get("confidence");
        assertThat(confidence).hasSize(3);
        double share = 1;
        for (JsonNode floor : confidence) {
            // Higher floors keep fewer pixels.
            assertThat(floor.get("pixel_share").asDouble()).isBetween(0.0, share);
            share = floor.get("pixel_share").asDouble();
        }
        assertThat(confidence.get(0).get("confidence_at_least").asDouble()).isEqualTo(0.5);
        JsonNode confusion = row.get("confusion");
        JsonNode rows = confusion.get("pixels_by_true_then_predicted");
        assertThat(rows).hasSize(confusion.get("classes").size());
        long pixels = 0;
        for (JsonNode r : rows) {
            assertThat(r).hasSize(rows.size());
            for (JsonNode n : r) {
                pixels += n.asLong();
            }
        }
        // Every held-out pixel is annotated: all 20 pictures of 64x64 are counted once.
        assertThat(pixels).isEqualTo(20L * 64 * 64);
    }

    @Test
    void shouldDropNothingWhenTheDropFractionIsZero(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("eval.json");

        assertThat(eval(json, "--annotations", "1", "--held-out", "4", "--drop-fraction", "0"))
                .isZero();
        JsonNode row = row(json, 1);
        assertThat(row.get("filter").get("dropped").asInt()).isZero();
        assertThat(row.get("filter").get("miou_kept").asDouble())
                .isEqualTo(row.get("miou").asDouble());
        assertThat(row.get("filter").get("miou_dropped").isNull()).isTrue();
    }

    /** The figures of n annotations in the JSON written. */
    private static JsonNode row(Path json, int n) throws java.io.IOException {
        return new ObjectMapper().readTree(json.toFile()).get("annotations").get(Integer.toString(n));
    }

    /** A quick evaluation: two members, one epoch, no reference labeller, figures into json. */
    private static int eval(Path json, String... more) {
        List<String> args = new ArrayList<>(List.of(
                "labeller",
                "eval",
                "--skip-reference",
                "--ensemble",
                "2",
                "--max-epochs",
                "1",
                "--json",
                json.toString()));
        args.addAll(List.of(more));
        return GenaugCli.commandLine().execute(args.toArray(String[]::new));
    }
}
