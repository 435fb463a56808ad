package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import dev.genaug.api.common.v1.Latent;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.common.v1.Provenance;
import dev.genaug.api.dataset.v1.SampleMetadata;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.api.labeller.v1.Annotation;
import dev.genaug.api.labeller.v1.LabelRequest;
import dev.genaug.api.labeller.v1.LabelResponse;
import dev.genaug.api.labeller.v1.TrainRequest;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.files.Trees;
import dev.genaug.domain.labelling.Labelling;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.sampling.Sampling;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.inference.OnnxBackend;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code labeller train --annotations DIR} and {@code labeller score}: folders of annotated
 * generated samples, as a person leaves them.
 */
class LabellerAnnotationsTest {
    private static final Path MODELS =
            Path.of(System.getProperty("genaug.root", "../..")).resolve("deploy/model-repository");
    private static final String GENERATOR = "shapes-generator";

    @TempDir
    Path annotations;

    @TempDir
    Path repository;

    @TempDir
    Path direct;

    private final StringWriter err = new StringWriter();
    private List<LatentBatch> planned;

    @BeforeEach
    void copyTheReferenceModels() throws IOException {
        for (String model : List.of(GENERATOR, "shapes-encoder")) {
            Trees.copy(MODELS.resolve(model), repository.resolve(model));
        }
        // The latents a prior job (seed 7, truncation 0.8) draws for its first three samples.
        DatasetJob job = DatasetJob.newBuilder()
                .setJobId("annotated")
                .setModel(ModelRef.newBuilder().setName(GENERATOR))
                .setCount(3)
                .setSeed(7)
                .setTruncationPsi(0.8f)
                .setOutput(annotations.toString())
                .build();
        planned = new ArrayList<>();
        new Sampling(ModelRepository.open(MODELS), 1024, 64).plan(job).forEachRemaining(planned::add);
    }

    private int run(String... args) {
        CommandLine cli = GenaugCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    /** Sample i of the planned job as the dataset writer leaves it, with a mask beside it. */
    private void annotateSample(int i) throws IOException {
        String key = String.format("%09d", i);
        SampleMetadata metadata = SampleMetadata.newBuilder()
                .setKey(key)
                .setProvenance(planned.getFirst().getProvenance(i))
                .build();
        Files.writeString(
                annotations.resolve(key + ".json"), JsonFormat.printer().print(metadata));
        Files.write(annotations.resolve(key + ".mask.png"), mask(i));
    }

    private static byte[] mask(int i) {
        return ImageCodec.encodePng(ShapesParts.render(1, i).mask(), 1, 64, 64);
    }

    private float[] plannedLatent(int i) {
        float[] all = Tensors.toFloats(planned.getFirst().getLatents(), "latents");
        int d = all.length / 3;
        float[] z = new float[d];
        System.arraycopy(all, i * d, z, 0, d);
        return z;
    }

    @Test
    void shouldReplayTheExactLatentOfEveryGeneratedSampleWhenItsMetadataIsBesideTheMask() throws IOException {
        for (int i = 0; i < 3; i++) {
            annotateSample(i);
        }

        AnnotationFolder.Contents contents = read();

        assertThat(contents.generatorVersion())
                .isEqualTo(planned.getFirst().getModel().getVersion());
        assertThat(contents.entries()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            AnnotationFolder.Entry entry = contents.entries().get(i);
            assertThat(entry.key()).isEqualTo(String.format("%09d", i));
            assertThat(entry.annotation().getLatent().getValuesList()).containsExactly(box(plannedLatent(i)));
            assertThat(entry.annotation().getLabelPng().toByteArray()).isEqualTo(mask(i));
        }
    }

    @Test
    void shouldEncodeThePictureWhenNoMetadataIsBesideTheMask() throws IOException {
        byte[] picture = ImageCodec.encodePng(ShapesParts.render(1, 5).rgb(), 3, 64, 64);
        Files.write(annotations.resolve("street.png"), picture);
        Files.write(annotations.resolve("street.mask.png"), mask(5));

        AnnotationFolder.Contents contents = read();

        assertThat(contents.generatorVersion()).isEmpty();
        assertThat(contents.entries()
                        .getFirst()
                        .annotation()
                        .getImage()
                        .getPng()
                        .toByteArray())
                .isEqualTo(picture);
        assertThat(contents.entries().getFirst().source()).isEqualTo("street.png, encoded");
    }

    @Test
    void shouldRegisterTheLabellerTheSameRequestWithTheReplayedLatentsTrains() throws Exception {
        for (int i = 0; i < 3; i++) {
            annotateSample(i);
        }
        Trees.copy(MODELS.resolve(GENERATOR), direct.resolve(GENERATOR));

        int code = train();

        assertThat(code).isZero();
        TrainRequest.Builder request = TrainRequest.newBuilder()
                .setGenerator(ModelRef.newBuilder().setName(GENERATOR))
                .setLabellerName("mine")
                .addAllClassNames(ShapesParts.CLASSES)
                .setEnsembleSize(1)
                .setMaxEpochs(1)
                .setPatience(50);
        for (int i = 0; i < 3; i++) {
            Latent.Builder z = Latent.newBuilder();
            for (float v : plannedLatent(i)) {
                z.addValues(v);
            }
            request.addAnnotations(Annotation.newBuilder().setLatent(z).setLabelPng(ByteString.copyFrom(mask(i))));
        }
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(2, false, false))) {
            new Labelling(ModelRepository.open(direct), onnx, new Labelling.Settings(256, 2))
                    .train(request.build(), (member, epoch, loss) -> {}, () -> false);
        }
        assertThat(Files.readAllBytes(repository.resolve("mine/1/model.onnx")))
                .isEqualTo(Files.readAllBytes(direct.resolve("mine/1/model.onnx")));
    }

    @Test
    void shouldTrainMembersOfTheGivenHiddenWidthsWhenHiddenIsSet() throws Exception {
        for (int i = 0; i < 3; i++) {
            annotateSample(i);
        }

        int code = train("--hidden", "24,8,8");

        assertThat(code).as(err.toString()).isZero();
        ModelRepository models = ModelRepository.open(repository);
        assertThat(models.resolve("mine", "", "labeller").manifest().getDescription())
                .contains("per-pixel MLPs [24, 8, 8]");
        assertThat(train("--hidden", "24,0")).isNotZero();
        assertThat(err.toString()).contains("hidden_sizes[1]: must be in [1, 4096], got 0");
    }

    @Test
    void shouldEncodeThePictureWhenTheSamplesOperatorCannotBeReplayed() throws IOException {
        writeMetadata("v", planned.getFirst().getProvenance(0).toBuilder().setOperator("neighbours"));
        writePicture("v", ShapesParts.render(1, 0));
        Files.write(annotations.resolve("v.mask.png"), mask(0));

        AnnotationFolder.Entry entry = read().entries().getFirst();

        assertThat(entry.annotation().hasImage()).isTrue();
        assertThat(entry.source()).isEqualTo("v.png, encoded (v.json's operator 'neighbours' is not replayed here)");
    }

    @Test
    void shouldEncodeTheRenderWhenTheMetadataIsARenderedScene() throws IOException {
        ShapesParts.Sample render = ShapesParts.render(1, 3);
        Files.writeString(
                annotations.resolve("r.json"),
                JsonFormat.printer()
                        .print(SampleMetadata.newBuilder()
                                .setKey("r")
                                .setScene(render.scene())
                                .build()));
        writePicture("r", render);
        Files.write(annotations.resolve("r.mask.png"), mask(3));

        AnnotationFolder.Entry entry = read().entries().getFirst();

        assertThat(entry.annotation().hasImage()).isTrue();
        assertThat(entry.source()).isEqualTo("r.png, encoded (r.json has no provenance to replay)");
    }

    @Test
    void shouldRefuseSamplesOfTwoGeneratorVersions() throws IOException {
        writeMetadata("a", planned.getFirst().getProvenance(0).toBuilder().setModelVersion("1"));
        writeMetadata("b", planned.getFirst().getProvenance(1).toBuilder().setModelVersion("2"));
        Files.write(annotations.resolve("a.mask.png"), mask(0));
        Files.write(annotations.resolve("b.mask.png"), mask(1));

        assertThat(train()).isEqualTo(2);
        assertThat(err.toString().strip())
                .isEqualTo("genaug labeller train: --annotations: b.json was generated by version 2 of"
                        + " 'shapes-generator', the annotations before it by version 1");
    }

    private AnnotationFolder.Contents read() {
        return AnnotationFolder.read(annotations, ModelRepository.open(repository), GENERATOR);
    }

    private void writePicture(String key, ShapesParts.Sample render) throws IOException {
        Files.write(annotations.resolve(key + ".png"), ImageCodec.encodePng(render.rgb(), 3, 64, 64));
    }

    private void writeMetadata(String key, Provenance.Builder provenance) throws IOException {
        Files.writeString(
                annotations.resolve(key + ".json"),
                JsonFormat.printer()
                        .print(SampleMetadata.newBuilder()
                                .setKey(key)
                                .setProvenance(provenance)
                                .build()));
    }

    @Test
    void shouldNameTheMaskThatHasNoPictureBesideIt() throws IOException {
        annotateSample(0);
        Files.write(annotations.resolve("000000001.mask.png"), mask(1));

        assertThat(train()).isEqualTo(2);
        assertThat(err.toString().strip())
                .isEqualTo("genaug labeller train: --annotations: 000000001.mask.png has neither 000000001.json"
                        + " (a generated sample of the prior) nor 000000001.png beside it");
    }

    @Test
    void shouldRefuseSamplesOfAnotherGenerator() throws IOException {
        writeMetadata("a", planned.getFirst().getProvenance(0).toBuilder().setModel("faces"));
        Files.write(annotations.resolve("a.mask.png"), mask(0));

        assertThat(train()).isEqualTo(2);
        assertThat(err.toString().strip())
                .isEqualTo("genaug labeller train: --annotations: a.json was generated by 'faces', not by"
                        + " 'shapes-generator', the generator the labeller reads");
    }

    @Test
    void shouldRefuseAFolderWithoutMasksOrTwoSourcesAtOnce() throws IOException {
        Files.write(
                annotations.resolve("a.png"),
                ImageCodec.encodePng(ShapesParts.render(1, 0).rgb(), 3, 64, 64));

        assertThat(train()).isEqualTo(2);
        assertThat(run("labeller", "train", "--annotations", annotations.toString(), "--from-renders", "4"))
                .isEqualTo(2);
        assertThat(err.toString().lines().toList())
                .containsExactly(
                        "genaug labeller train: --annotations: holds no <key>.mask.png files (one class id per"
                                + " pixel): " + annotations,
                        "genaug labeller train: --annotations: cannot be combined with --from-renders");
        assertThat(repository.resolve("mine")).doesNotExist();
    }

    @Test
    void shouldDefaultToTheReferenceDatasetsClasses() {
        LabellerTrainCommand command = new LabellerTrainCommand();
        new CommandLine(command).parseArgs();
        assertThat(command.classes).isEqualTo(ShapesParts.CLASSES);
    }

    @Test
    void shouldScoreOneOnTheLabellersOwnLabelsLessWhenAMaskDisagreesAndSkipPixelsNotAnnotated() throws Exception {
        for (int i = 0; i < 3; i++) {
            annotateSample(i);
        }
        assertThat(train()).isZero();
        LabelResponse own;
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(2, false, false))) {
            own = new Labelling(ModelRepository.open(repository), onnx, new Labelling.Settings(256, 2))
                    .label(LabelRequest.newBuilder()
                            .setLabeller(ModelRef.newBuilder().setName("mine"))
                            .setLatents(planned.getFirst().getLatents())
                            .build());
        }
        byte[] ids = own.getLabels().getData().toByteArray();
        for (int i = 0; i < 3; i++) {
            byte[] labels = java.util.Arrays.copyOfRange(ids, i * 4096, (i + 1) * 4096);
            Files.write(
                    annotations.resolve(String.format("%09d.mask.png", i)), ImageCodec.encodePng(labels, 1, 64, 64));
        }
        Path json = direct.resolve("score.json");

        assertThat(score("--json", json.toString())).isZero();
        JsonNode exact = new ObjectMapper().readTree(json.toFile());
        assertThat(exact.get("pictures").asInt()).isEqualTo(3);
        assertThat(exact.get("miou").asDouble()).isEqualTo(1.0);
        JsonNode rows = exact.get("confusion").get("pixels_by_true_then_predicted");
        for (int t = 0; t < rows.size(); t++) {
            for (int q = 0; q < rows.size(); q++) {
                assertThat(q == t || rows.get(t).get(q).asLong() == 0)
                        .as("pixels %d as %d", t, q)
                        .isTrue();
            }
        }

        // The first sample annotated as background everywhere: its labelled parts become errors.
        Files.write(annotations.resolve("000000000.mask.png"), ImageCodec.encodePng(new byte[4096], 1, 64, 64));
        assertThat(score("--json", json.toString())).isZero();
        JsonNode wrong = new ObjectMapper().readTree(json.toFile());
        assertThat(wrong.get("miou").asDouble()).isLessThan(1.0);
        assertThat(wrong.get("class_iou").get("background").asDouble()).isLessThan(1.0);
        // Every pixel of the first sample the labeller gave a part is now a background pixel taken for it.
        long taken = 0;
        JsonNode background =
                wrong.get("confusion").get("pixels_by_true_then_predicted").get(0);
        for (int q = 1; q < background.size(); q++) {
            taken += background.get(q).asLong();
        }
        long parts = 0;
        for (int p = 0; p < 4096; p++) {
            parts += ids[p] != 0 ? 1 : 0;
        }
        assertThat(taken).isEqualTo(parts).isPositive();

        // The same mask with the labelled parts left unannotated (255): nothing wrong is left.
        byte[] partial = new byte[4096];
        for (int p = 0; p < 4096; p++) {
            partial[p] = ids[p] == 0 ? 0 : (byte) Labelling.IGNORED;
        }
        Files.write(annotations.resolve("000000000.mask.png"), ImageCodec.encodePng(partial, 1, 64, 64));
        assertThat(score("--json", json.toString())).isZero();
        assertThat(new ObjectMapper().readTree(json.toFile()).get("miou").asDouble())
                .isEqualTo(1.0);

        java.util.Arrays.fill(partial, (byte) Labelling.IGNORED);
        Files.write(annotations.resolve("000000000.mask.png"), ImageCodec.encodePng(partial, 1, 64, 64));
        assertThat(score()).isEqualTo(2);
        assertThat(err.toString().strip())
                .isEqualTo("genaug labeller score: --annotations: 000000000.mask.png annotates no pixel: every"
                        + " pixel is 255 (not annotated)");
    }

    @Test
    void shouldScoreThePicturesTheJobFilterDropsApartFromTheKeptOnes() throws Exception {
        for (int i = 0; i < 3; i++) {
            annotateSample(i);
        }
        // Two members, so that pictures differ in uncertainty; DatasetGAN's wider members and tau 0.5,
        // with which one of the three training pictures lies above the 0.1 quantile of prior samples
        // (with the default members all three lie below it).
        assertThat(train("--ensemble", "2", "--hidden", "128,32", "--prior-correction", "0.5"))
                .isZero();
        ModelRepository models = ModelRepository.open(repository);
        LabelResponse labelled;
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(2, false, false))) {
            labelled = new Labelling(models, onnx, new Labelling.Settings(256, 2))
                    .label(LabelRequest.newBuilder()
                            .setLabeller(ModelRef.newBuilder().setName("mine"))
                            .setLatents(planned.getFirst().getLatents())
                            .build());
        }
        // A drop fraction of 0.9: the labeller's 0.1 quantile, which most pictures exceed.
        float threshold =
                Labelling.dropThreshold(models.resolve("mine", "", "labeller").manifest(), 0.9f);
        int expected = 0;
        for (int i = 0; i < 3; i++) {
            expected += labelled.getUncertainty(i) > threshold ? 1 : 0;
        }
        assertThat(expected).isPositive();
        Path json = direct.resolve("score.json");

        assertThat(score("--json", json.toString(), "--drop-fraction", "0.9")).isZero();
        JsonNode filter = new ObjectMapper().readTree(json.toFile()).get("filter");
        assertThat(filter.get("threshold").floatValue()).isEqualTo(threshold);
        assertThat(filter.get("dropped").asInt()).isEqualTo(expected);
        assertThat(filter.get("kept").asInt()).isEqualTo(3 - expected);
        assertThat(filter.get("miou_dropped").isNumber()).isTrue();

        assertThat(score("--json", json.toString(), "--drop-fraction", "0")).isZero();
        JsonNode none = new ObjectMapper().readTree(json.toFile());
        assertThat(none.get("filter").get("threshold").isNull()).isTrue();
        assertThat(none.get("filter").get("dropped").asInt()).isZero();
        assertThat(none.get("filter").get("miou_kept").asDouble())
                .isEqualTo(none.get("miou").asDouble());
        assertThat(none.get("filter").get("miou_dropped").isNull()).isTrue();

        assertThat(score("--drop-fraction", "1")).isEqualTo(2);
        assertThat(err.toString().strip())
                .isEqualTo("genaug labeller score: --drop-fraction: must be in [0, 1), got 1.0");
    }

    @Test
    void shouldScorePicturesThroughThePairedEncoderAndNameAPictureItCannotRead() throws Exception {
        annotateSample(0);
        assertThat(train()).isZero();
        for (int i = 0; i < 2; i++) {
            ShapesParts.Sample render = ShapesParts.render(2, i);
            Files.write(annotations.resolve("r" + i + ".png"), ImageCodec.encodePng(render.rgb(), 3, 64, 64));
            Files.write(annotations.resolve("r" + i + ".mask.png"), ImageCodec.encodePng(render.mask(), 1, 64, 64));
        }
        Path json = direct.resolve("score.json");

        assertThat(score("--json", json.toString())).isZero();
        assertThat(new ObjectMapper().readTree(json.toFile()).get("pictures").asInt())
                .isEqualTo(3);

        Files.write(annotations.resolve("r1.png"), ImageCodec.encodePng(new byte[3 * 32 * 32], 3, 32, 32));
        assertThat(score()).isEqualTo(2);
        assertThat(err.toString().strip())
                .startsWith("genaug labeller score: --annotations: r1.png: images[0]")
                .contains("32");
    }

    @Test
    void shouldNameTheMaskWithAClassTheLabellerDoesNotHave() throws IOException {
        for (int i = 0; i < 2; i++) {
            annotateSample(i);
        }
        assertThat(train("--classes", "background,wall,roof,door,window,trunk,crown,fruit,body,cabin,wheel"))
                .isZero();
        byte[] twelve = new byte[4096];
        twelve[100] = 12;
        Files.write(annotations.resolve("000000001.mask.png"), ImageCodec.encodePng(twelve, 1, 64, 64));

        assertThat(score()).isEqualTo(2);
        assertThat(run(
                        "labeller",
                        "score",
                        "--labeller",
                        "nobody",
                        "--annotations",
                        annotations.toString(),
                        "--models",
                        repository.toString()))
                .isEqualTo(2);
        List<String> lines = err.toString().lines().toList();
        assertThat(lines.get(0))
                .isEqualTo("genaug labeller score: --annotations: 000000001.mask.png holds class id 12 but there"
                        + " are only 11 class names (and 255 for a pixel not annotated)");
        assertThat(lines.get(1))
                .startsWith("genaug labeller score: --labeller: ")
                .contains("'nobody'");
    }

    private int score(String... more) {
        List<String> args = new ArrayList<>(List.of(
                "labeller",
                "score",
                "--labeller",
                "mine",
                "--annotations",
                annotations.toString(),
                "--models",
                repository.toString()));
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    /** Trains "mine" on the folder: one member unless more says otherwise, one epoch: enough for these tests. */
    private int train(String... more) {
        List<String> args = new ArrayList<>(List.of(
                "labeller",
                "train",
                "--annotations",
                annotations.toString(),
                "--models",
                repository.toString(),
                "--name",
                "mine",
                "--max-epochs",
                "1"));
        if (!List.of(more).contains("--ensemble")) {
            args.addAll(List.of("--ensemble", "1"));
        }
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    private static Float[] box(float[] values) {
        Float[] out = new Float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
