package dev.genaug.domain.labelling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.api.labeller.v1.Annotation;
import dev.genaug.api.labeller.v1.LabelRequest;
import dev.genaug.api.labeller.v1.TrainRequest;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.files.Sha256;
import dev.genaug.domain.files.Trees;
import dev.genaug.domain.jobs.DatasetJobValidator;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.sampling.Sampling;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.inference.OnnxBackend;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A labeller reads the feature maps of the generator version it was trained on: jobs and Label
 * calls that name no version use that one, and those that name another are refused.
 */
class LabellerGeneratorVersionTest {
    private static final Path SHIPPED =
            Path.of(System.getProperty("genaug.root", "../..")).resolve("deploy/model-repository");

    @TempDir
    static Path root;

    private static ModelRepository repository;
    private static OnnxBackend onnx;
    private static Labelling labelling;

    /** The shipped generator as versions 1 and 2 (a newer export), and the shipped labeller, trained on 1. */
    @BeforeAll
    static void twoGeneratorVersions() throws IOException {
        Trees.copy(SHIPPED.resolve("shapes-generator"), root.resolve("shapes-generator"));
        Trees.copy(SHIPPED.resolve("shapes-generator/1"), root.resolve("shapes-generator/2"));
        Trees.copy(SHIPPED.resolve("shapes-labeller"), root.resolve("shapes-labeller"));
        repository = ModelRepository.open(root);
        onnx = new OnnxBackend(new OnnxBackend.Settings(2, false, false));
        labelling = new Labelling(repository, onnx, new Labelling.Settings(256, 2));
    }

    @AfterAll
    static void close() {
        onnx.close();
    }

    private static ModelRef ref(String name, String version) {
        return ModelRef.newBuilder().setName(name).setVersion(version).build();
    }

    private static DatasetJob job(String generatorVersion, String labeller) {
        DatasetJob.Builder job = DatasetJob.newBuilder()
                .setJobId("j")
                .setModel(ref("shapes-generator", generatorVersion))
                .setCount(3);
        if (!labeller.isEmpty()) {
            job.setLabeller(ref(labeller, ""));
        }
        return job.build();
    }

    @Test
    void shouldLabelWithTheGeneratorVersionTheLabellerWasTrainedOnWhenTheJobNamesNone() {
        LatentBatch labelled = new Sampling(repository, 1024, 64)
                .plan(job("", "shapes-labeller"))
                .next();
        LatentBatch unlabelled =
                new Sampling(repository, 1024, 64).plan(job("", "")).next();

        assertThat(labelled.getModel().getVersion()).isEqualTo("1");
        assertThat(labelled.getLabeller().getVersion()).isEqualTo("1");
        assertThat(unlabelled.getModel().getVersion())
                .as("unlabelled jobs take the latest")
                .isEqualTo("2");
        assertThat(labelling.label(labelled).getModel().getVersion()).isEqualTo("1");
    }

    @Test
    void shouldRefuseALabelledJobOrLabelCallOfAnotherGeneratorVersion() {
        String expected = "labeller 'shapes-labeller' version 1 was trained on 'shapes-generator' version 1, not"
                + " version 2: leave the version empty to use 1, or train the labeller again on version 2";

        assertThatThrownBy(() -> new DatasetJobValidator(1000, repository)
                        .validate(job("2", "shapes-labeller").toBuilder()
                                .clearJobId()
                                .build()))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessage("job.model.version: " + expected);
        assertThatThrownBy(() -> new Sampling(repository, 1024, 64).plan(job("2", "shapes-labeller")))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessage("job.model.version: " + expected);
        assertThatThrownBy(() -> labelling.label(LabelRequest.newBuilder()
                        .setLabeller(ref("shapes-labeller", ""))
                        .setGenerator(ref("shapes-generator", "2"))
                        .setLatents(Tensors.fp32(new float[32], 1, 32))
                        .build()))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessage("generator.version: " + expected);
        new DatasetJobValidator(1000, repository)
                .validate(job("2", "").toBuilder().clearJobId().build());
    }

    @Test
    void shouldRefuseALabellerWhoseGeneratorVersionWasExportedAgainUnderTheSameNumber(@TempDir Path other)
            throws IOException {
        Trees.copy(SHIPPED.resolve("shapes-generator"), other.resolve("shapes-generator"));
        Trees.copy(SHIPPED.resolve("shapes-labeller"), other.resolve("shapes-labeller"));
        // A retraining wrote version 1 again: another file under the same number.
        java.nio.file.Files.write(
                other.resolve("shapes-generator/1/model.onnx"),
                new byte[] {0},
                java.nio.file.StandardOpenOption.APPEND);
        ModelRepository changed = ModelRepository.open(other);
        // The shipped labeller records the shipped generator file's hash, which the message names.
        String trainedOn =
                Sha256.of(SHIPPED.resolve("shapes-generator/1/model.onnx")).substring(0, 12);
        String expected = "labeller 'shapes-labeller' version 1 was trained on another model file of"
                + " 'shapes-generator' version 1 (SHA-256 " + trainedOn + "..., now ";

        assertThatThrownBy(() -> new DatasetJobValidator(1000, changed)
                        .validate(job("", "shapes-labeller").toBuilder()
                                .clearJobId()
                                .build()))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageStartingWith("job.labeller: " + expected)
                .hasMessageEndingWith(
                        "): the version was exported again under the same number; train the" + " labeller again");
        assertThatThrownBy(() -> new Sampling(changed, 1024, 64).plan(job("1", "shapes-labeller")))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageStartingWith("job.labeller: " + expected);
        try (OnnxBackend backend = new OnnxBackend(new OnnxBackend.Settings(1, false, false))) {
            assertThatThrownBy(() -> new Labelling(changed, backend, new Labelling.Settings(256, 1))
                            .label(LabelRequest.newBuilder()
                                    .setLabeller(ref("shapes-labeller", ""))
                                    .setLatents(Tensors.fp32(new float[32], 1, 32))
                                    .build()))
                    .isInstanceOf(FailedPreconditionException.class)
                    .hasMessageStartingWith("labeller: " + expected);
        }
    }

    @Test
    void shouldRefuseALabelledJobWhoseGeneratorVersionHasNoModelFile(@TempDir Path other) throws IOException {
        Trees.copy(SHIPPED.resolve("shapes-generator"), other.resolve("shapes-generator"));
        Trees.copy(SHIPPED.resolve("shapes-labeller"), other.resolve("shapes-labeller"));
        java.nio.file.Files.delete(other.resolve("shapes-generator/1/model.onnx"));

        assertThatThrownBy(() -> new DatasetJobValidator(1000, ModelRepository.open(other))
                        .validate(job("", "shapes-labeller").toBuilder()
                                .clearJobId()
                                .build()))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessage("job.model: model 'shapes-generator' version 1: cannot read its model file model.onnx"
                        + " (NoSuchFileException)");
    }

    @Test
    void shouldRecordTheGeneratorVersionATrainingRead() {
        TrainRequest.Builder request = TrainRequest.newBuilder()
                .setGenerator(ref("shapes-generator", "2"))
                .setLabellerName("trained-on-2")
                .addAllClassNames(ShapesParts.CLASSES)
                .setEnsembleSize(1)
                .setMaxEpochs(1);
        for (int i = 0; i < 2; i++) {
            float[] z = new float[32];
            z[i] = 1f;
            request.addAnnotations(Annotation.newBuilder()
                    .setLatent(dev.genaug.api.common.v1.Latent.newBuilder().addAllValues(box(z)))
                    .setLabelPng(ByteString.copyFrom(
                            ImageCodec.encodePng(ShapesParts.render(1, i).mask(), 1, 64, 64))));
        }

        ResolvedModel trained = labelling.train(request.build(), (member, epoch, loss) -> {}, () -> false);

        assertThat(trained.manifest().getPairedGeneratorVersion()).isEqualTo("2");
        assertThat(trained.manifest().getPairedGeneratorSha256())
                .isEqualTo(dev.genaug.domain.repository.ModelChecks.modelSha256(
                        repository.resolve("shapes-generator", "2", "generator"), "generator"));
    }

    private static java.util.List<Float> box(float[] values) {
        java.util.List<Float> out = new java.util.ArrayList<>();
        for (float v : values) {
            out.add(v);
        }
        return out;
    }
}
