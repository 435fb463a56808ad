package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import dev.genaug.api.model.v1.ClassRadius;
import dev.genaug.api.model.v1.RadiusCalibration;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** genaug sample, calibrate and pictures on the reference model, run in this JVM. */
class LatentCommandsIT {
    @TempDir
    Path tmp;

    private static int run(String... args) {
        return new CommandLine(new GenaugCli()).execute(args);
    }

    @Test
    void shouldReportTheCategoryMixOfPriorAndMagnetSamples() throws Exception {
        Path prior = tmp.resolve("prior.json");
        Path magnet = tmp.resolve("magnet.json");
        assertThat(run("sample", "--op", "prior", "--count", "400", "--seed", "2", "--json", prior.toString()))
                .isZero();
        assertThat(run(
                        "sample",
                        "--op",
                        "magnet",
                        "--count",
                        "400",
                        "--pool",
                        "128",
                        "--top-k",
                        "8",
                        "--manifold",
                        "feat_8",
                        "--seed",
                        "2",
                        "--json",
                        magnet.toString()))
                .isZero();
        for (Path file : new Path[] {prior, magnet}) {
            JsonNode figures = new ObjectMapper().readTree(file.toFile());
            JsonNode mix = figures.get("category_mix");
            assertThat(mix.fieldNames()).toIterable().containsExactly("house", "tree", "car");
            double total = mix.get("house").asDouble()
                    + mix.get("tree").asDouble()
                    + mix.get("car").asDouble();
            assertThat(total).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
        }
        JsonNode m = new ObjectMapper().readTree(magnet.toFile());
        assertThat(m.get("effective_pool_size").asDouble()).isBetween(1.0, 128.0);
        assertThat(m.get("pool_category_mix").size()).isEqualTo(3);
        assertThat(m.get("manifold").asText()).isEqualTo("feat_8");
        // Per category of the pool: its share of the pool and of the weights, each summing to one.
        JsonNode byCategory = m.get("pool_by_category");
        assertThat(byCategory.fieldNames()).toIterable().containsExactly("house", "tree", "car");
        double pool = 0;
        double weight = 0;
        for (String c : new String[] {"house", "tree", "car"}) {
            pool += byCategory.get(c).get("pool_share").asDouble();
            weight += byCategory.get(c).get("weight_share").asDouble();
            assertThat(byCategory.get(c).get("pool_share").asDouble())
                    .isEqualTo(m.get("pool_category_mix").get(c).asDouble());
        }
        assertThat(pool).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(weight).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void shouldCalibrateARadiusPerClassThatMeetsTheAgreementWhereMeasured() throws Exception {
        Path out = tmp.resolve("calibration.json");
        assertThat(run(
                        "calibrate",
                        "--no-write",
                        "--anchors",
                        "8",
                        "--views",
                        "8",
                        "--steps",
                        "5",
                        "--json",
                        out.toString()))
                .isZero();
        RadiusCalibration.Builder calibration = RadiusCalibration.newBuilder();
        JsonFormat.parser().merge(Files.readString(out), calibration);
        assertThat(calibration.getAnchorConfidence()).isEqualTo(0.9);
        assertThat(calibration.getMaxSigma()).isEqualTo(3.0);
        assertThat(calibration.getClassesList())
                .extracting(ClassRadius::getName)
                .containsExactly("house", "tree", "car");
        for (ClassRadius c : calibration.getClassesList()) {
            assertThat(c.getSigma()).isBetween(0.0, calibration.getMaxSigma());
            // The chosen sigma is one that was measured and met the target (or 0).
            int at = c.getSigmasTriedList().indexOf(c.getSigma());
            if (c.getSigma() > 0) {
                assertThat(at).isNotNegative();
                assertThat(c.getAgreementMeasured(at)).isGreaterThanOrEqualTo(0.95);
            }
            // Every sigma tried above the chosen one failed the target.
            for (int i = 0; i < c.getSigmasTriedCount(); i++) {
                if (c.getSigmasTried(i) > c.getSigma()) {
                    assertThat(c.getAgreementMeasured(i)).isLessThan(0.95);
                }
            }
        }
    }

    @Test
    void shouldMakeThePicturesOfTheDocs() throws Exception {
        assertThat(run("pictures", "--out", tmp.toString())).isZero();
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .contains(
                            "neighbours-sigma-0.25.png",
                            "interpolation.png",
                            "pca-walks.png",
                            "attribute-edits.png",
                            "magnet-vs-prior.png");
        }
    }
}
