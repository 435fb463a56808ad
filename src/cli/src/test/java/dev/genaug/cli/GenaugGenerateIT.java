package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.genaug.api.dataset.v1.DatasetManifest;
import dev.genaug.api.dataset.v1.ShardEntry;
import dev.genaug.kafka.ProjectFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's main job, `./genaug generate`, as a user runs it on a machine with nothing running. */
class GenaugGenerateIT {
    @TempDir
    Path tmp;

    private record Run(int exit, String output) {}

    private Run generate(String... args) throws Exception {
        Path root = ProjectFiles.root().orElseThrow();
        // A gateway address where nothing listens: the command starts the embedded stack.
        List<String> command = new java.util.ArrayList<>(List.of(
                root.resolve("genaug").toString(), "generate", "--gateway", "localhost:" + LocalProcesses.freePort()));
        command.addAll(List.of(args));
        Path log = tmp.resolve("run-" + System.nanoTime() + ".txt");
        Process p = new ProcessBuilder(command)
                .directory(root.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("finished").isTrue();
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        return new Run(p.exitValue(), Files.readString(log));
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    void shouldGenerateADatasetWithManifestAndPreviewOnTheEmbeddedStack() throws Exception {
        Path out = tmp.resolve("first");
        Run run = generate("--count", "250", "--shard-size", "100", "--seed", "4", "--out", out.toString());
        assertThat(run.exit()).as(run.output()).isZero();
        assertThat(run.output())
                .contains("starting the embedded one")
                .contains("250 samples in")
                .contains("manifest " + out.resolve("manifest.json"))
                .contains("preview  " + out.resolve("preview.png"));

        DatasetManifest.Builder manifest = DatasetManifest.newBuilder();
        JsonFormat.parser().merge(Files.readString(out.resolve("manifest.json"), StandardCharsets.UTF_8), manifest);
        assertThat(manifest.getSamples()).isEqualTo(250);
        assertThat(manifest.getJob().getSeed()).isEqualTo(4);
        assertThat(manifest.getShardsList()).extracting(ShardEntry::getSamples).containsExactly(100, 100, 50);
        for (ShardEntry shard : manifest.getShardsList()) {
            assertThat(sha256(out.resolve(shard.getName()))).as(shard.getName()).isEqualTo(shard.getSha256());
        }
        assertThat(manifest.getModels(0).getSha256())
                .isEqualTo(sha256(ProjectFiles.resolve("deploy/model-repository/shapes-generator/1/model.onnx")));
        assertThat(ImageIO.read(out.resolve("preview.png").toFile()).getWidth()).isGreaterThan(8 * 64);
        try (var files = Files.list(out)) {
            assertThat(files.map(f -> f.getFileName().toString()))
                    .as("no staging or partial files left")
                    .containsExactlyInAnyOrder(
                            "manifest.json", "preview.png", "shard-000000.tar", "shard-000001.tar", "shard-000002.tar");
        }
    }

    @Test
    void shouldExplainWhyAJobIsRefused() throws Exception {
        Run unknownModel = generate(
                "--count",
                "10",
                "--model",
                "no-such-model",
                "--out",
                tmp.resolve("x").toString());
        assertThat(unknownModel.exit()).as(unknownModel.output()).isEqualTo(2);
        assertThat(unknownModel.output())
                .contains("refused (NOT_FOUND): job.model: model 'no-such-model' is not in the model repository");
        assertThat(tmp.resolve("x")).as("a refused job makes no folder").doesNotExist();

        Run unknownVersion = generate(
                "--count",
                "10",
                "--model-version",
                "9",
                "--out",
                tmp.resolve("v").toString());
        assertThat(unknownVersion.exit()).as(unknownVersion.output()).isEqualTo(2);
        assertThat(unknownVersion.output())
                .contains("refused (NOT_FOUND): job.model.version: model 'shapes-generator' has no version 9");

        Path used = Files.createDirectories(tmp.resolve("used"));
        Files.writeString(used.resolve("keep.txt"), "mine");
        Run refused = generate("--count", "10", "--out", used.toString());
        assertThat(refused.exit()).as(refused.output()).isEqualTo(2);
        assertThat(refused.output()).contains("refused (FAILED_PRECONDITION): job.output: folder");
        assertThat(Files.readString(used.resolve("keep.txt"))).isEqualTo("mine");
    }

    @Test
    void shouldWriteLabelledShardsThatDoNotDependOnTheBatchingWhenALabellerIsNamed() throws Exception {
        Path a = tmp.resolve("labelled-a");
        Path b = tmp.resolve("labelled-b");
        Run first = generate(
                "--count",
                "120",
                "--shard-size",
                "50",
                "--batch-size",
                "64",
                "--labeller",
                "shapes-labeller",
                "--out",
                a.toString());
        assertThat(first.exit()).as(first.output()).isZero();
        Run second = generate(
                "--count",
                "120",
                "--shard-size",
                "50",
                "--batch-size",
                "7",
                "--labeller",
                "shapes-labeller",
                "--out",
                b.toString());
        assertThat(second.exit()).as(second.output()).isZero();

        DatasetManifest.Builder manifest = DatasetManifest.newBuilder();
        JsonFormat.parser().merge(Files.readString(a.resolve("manifest.json"), StandardCharsets.UTF_8), manifest);
        assertThat(first.output())
                .contains("labelled by shapes-labeller: " + manifest.getSamples() + " samples kept, "
                        + manifest.getDropped() + " dropped as the most uncertain (uncertainty above "
                        + String.format("%.4f", manifest.getDropThreshold()) + " nats)");
        assertThat(manifest.getSamples() + manifest.getDropped()).isEqualTo(120);
        // The default filter drops about a tenth (a per-sample threshold: binomial noise around 12).
        assertThat(manifest.getDropped()).isBetween(2L, 30L);
        assertThat(manifest.getModelsList())
                .extracting(m -> m.getRole() + ":" + m.getModel().getName())
                .containsExactly("generator:shapes-generator", "labeller:shapes-labeller");
        assertThat(manifest.getClassNamesList())
                .containsExactly(
                        "background",
                        "wall",
                        "roof",
                        "door",
                        "window",
                        "trunk",
                        "crown",
                        "fruit",
                        "body",
                        "cabin",
                        "wheel");
        // An untruncated job applies the labeller's registered 0.9 quantile.
        assertThat(manifest.getDropThreshold())
                .isEqualTo(dev.genaug.domain.repository.ModelRepository.open(
                                ProjectFiles.resolve("deploy/model-repository"))
                        .resolve("shapes-labeller", "", "labeller")
                        .manifest()
                        .getUncertaintyQuantiles(90));
        assertThat(manifest.getModels(1).getSha256())
                .isEqualTo(sha256(ProjectFiles.resolve("deploy/model-repository/shapes-labeller/1/model.onnx")));
        for (ShardEntry shard : manifest.getShardsList()) {
            assertThat(sha256(b.resolve(shard.getName())))
                    .as("%s with batches of 7 vs 64", shard.getName())
                    .isEqualTo(shard.getSha256());
        }
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
                Files.newInputStream(a.resolve("shard-000000.tar")))) {
            List<String> names = new java.util.ArrayList<>();
            org.apache.commons.compress.archivers.tar.TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                names.add(e.getName());
                if (e.getName().endsWith(".mask.png")) {
                    var mask = ImageIO.read(tar);
                    assertThat(mask.getWidth()).isEqualTo(64);
                    for (int y = 0; y < 64; y++) {
                        for (int x = 0; x < 64; x++) {
                            assertThat(mask.getRaster().getSample(x, y, 0)).isLessThan(11);
                        }
                    }
                } else if (e.getName().endsWith(".json")) {
                    assertThat(new String(tar.readAllBytes(), StandardCharsets.UTF_8))
                            .contains("\"uncertainty\":")
                            .contains("\"labeller\":{\"name\":\"shapes-labeller\"");
                }
            }
            // Every kept sample has its image, mask and metadata, in that order.
            assertThat(names.size() % 3).isZero();
            for (int i = 0; i < names.size(); i += 3) {
                String key = names.get(i).substring(0, names.get(i).indexOf('.'));
                assertThat(names.subList(i, i + 3)).containsExactly(key + ".png", key + ".mask.png", key + ".json");
            }
        }
    }

    @Test
    void shouldMarkThePixelsTheLabellerIsUnsureOfWhenAskedTo() throws Exception {
        Path out = tmp.resolve("ignoring");
        Run run = generate(
                "--count", "12", "--labeller", "shapes-labeller", "--ignore-below", "0.9", "--out", out.toString());
        assertThat(run.exit()).as(run.output()).isZero();

        DatasetManifest.Builder manifest = DatasetManifest.newBuilder();
        JsonFormat.parser().merge(Files.readString(out.resolve("manifest.json"), StandardCharsets.UTF_8), manifest);
        assertThat(manifest.getJob().getIgnoreBelowConfidence()).isEqualTo(0.9f);
        java.util.Map<String, Integer> marked = new java.util.HashMap<>();
        java.util.Map<String, Integer> counted = new java.util.HashMap<>();
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
                Files.newInputStream(out.resolve("shard-000000.tar")))) {
            org.apache.commons.compress.archivers.tar.TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String key = e.getName().substring(0, e.getName().indexOf('.'));
                if (e.getName().endsWith(".mask.png")) {
                    var mask = ImageIO.read(tar);
                    int ignored = 0;
                    for (int y = 0; y < 64; y++) {
                        for (int x = 0; x < 64; x++) {
                            int id = mask.getRaster().getSample(x, y, 0);
                            assertThat(id).isIn(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255);
                            ignored += id == 255 ? 1 : 0;
                        }
                    }
                    marked.put(key, ignored);
                } else if (e.getName().endsWith(".json")) {
                    dev.genaug.api.dataset.v1.SampleMetadata.Builder meta =
                            dev.genaug.api.dataset.v1.SampleMetadata.newBuilder();
                    JsonFormat.parser().merge(new String(tar.readAllBytes(), StandardCharsets.UTF_8), meta);
                    counted.put(key, meta.getIgnoredPixels());
                }
            }
        }
        // Each sample's metadata counts exactly the pixels its mask marks, and some are marked.
        assertThat(counted).isEqualTo(marked).hasSize((int) manifest.getSamples());
        assertThat(marked.values().stream().mapToInt(Integer::intValue).sum()).isPositive();
    }
}
