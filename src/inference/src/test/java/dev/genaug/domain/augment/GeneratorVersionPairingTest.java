package dev.genaug.domain.augment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.encoder.v1.EncodeRequest;
import dev.genaug.api.gateway.v1.GetViewsRequest;
import dev.genaug.api.sampler.v1.Neighbours;
import dev.genaug.api.sampler.v1.SampleRequest;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.encoding.Encoding;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.files.Trees;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.sampling.Sampling;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.inference.OnnxBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What was made for one generator version is used with that version: images are encoded by the
 * encoder version exported with the generator version that decodes them, an encoder's latents
 * are refined against the generator version it inverts, and a radius calibration serves the
 * version it was measured on.
 */
class GeneratorVersionPairingTest {
    private static final Path SHIPPED =
            Path.of(System.getProperty("genaug.root", "../..")).resolve("deploy/model-repository");

    @TempDir
    static Path root;

    private static ModelRepository repository;
    private static OnnxBackend onnx;
    private static Encoding encoding;
    private static Sampling sampling;

    /**
     * The shipped generator as versions 1 and 2, and the shipped encoder as versions 1, 2 and 3,
     * each recording the generator version of its number (version 3's generator is not there yet);
     * the classifier the generator's radius calibration (made with version 1) judged with.
     */
    @BeforeAll
    static void exportedPairs() throws IOException {
        Trees.copy(SHIPPED.resolve("shapes-generator"), root.resolve("shapes-generator"));
        Trees.copy(SHIPPED.resolve("shapes-generator/1"), root.resolve("shapes-generator/2"));
        Trees.copy(SHIPPED.resolve("shapes-encoder"), root.resolve("shapes-encoder"));
        Trees.copy(SHIPPED.resolve("shapes-classifier"), root.resolve("shapes-classifier"));
        String manifest = Files.readString(SHIPPED.resolve("shapes-encoder/genaug.json"));
        assertThat(manifest).contains("\"pairedGeneratorVersion\": \"1\"");
        for (String v : List.of("2", "3")) {
            Trees.copy(SHIPPED.resolve("shapes-encoder/1"), root.resolve("shapes-encoder/" + v));
            Files.writeString(
                    root.resolve("shapes-encoder/" + v + "/genaug.json"),
                    manifest.replace("\"pairedGeneratorVersion\": \"1\"", "\"pairedGeneratorVersion\": \"" + v + "\""));
        }
        repository = ModelRepository.open(root);
        onnx = new OnnxBackend(new OnnxBackend.Settings(2, false, false));
        encoding = new Encoding(repository, onnx, 16);
        sampling = new Sampling(repository, 1024, 64, onnx, 4096);
    }

    @AfterAll
    static void close() {
        onnx.close();
    }

    private static ModelRef ref(String name, String version) {
        return ModelRef.newBuilder().setName(name).setVersion(version).build();
    }

    private static Image render(int index) {
        return Image.newBuilder()
                .setPng(ByteString.copyFrom(
                        ImageCodec.encodePng(ShapesParts.render(1, index).rgb(), 3, 64, 64)))
                .setChannels(3)
                .setHeight(64)
                .setWidth(64)
                .build();
    }

    @Test
    void shouldEncodeViewsWithTheEncoderVersionOfTheRequestedGeneratorVersion() {
        List<ModelRef> used = new ArrayList<>();
        ViewRequests.LatentEncoder encoder = (model, images) -> {
            used.add(model);
            return dev.genaug.domain.tensor.Tensors.toFloats(
                    encoding.encode(EncodeRequest.newBuilder()
                                    .setModel(model)
                                    .addAllImages(images)
                                    .build())
                            .getMean(),
                    "mean");
        };
        ViewRequests views = new ViewRequests(repository, 16, 16, 64);
        for (String version : List.of("1", "2", "")) {
            views.views(
                    GetViewsRequest.newBuilder()
                            .setModel(ref("shapes-generator", version))
                            .addImages(render(0))
                            .setViewsPerInput(2)
                            .setSigma(0.1f)
                            .build(),
                    encoder,
                    (model, latents, rows, d) -> {
                        throw new AssertionError("nothing is decoded before the stream is read");
                    },
                    (model, anchor) -> 0f);
        }

        assertThat(used)
                .as("encoder 3 records generator version 3, which is not in the repository")
                .containsExactly(ref("shapes-encoder", "1"), ref("shapes-encoder", "2"), ref("shapes-encoder", "2"));
    }

    @Test
    void shouldRefuseToRefineAgainstAGeneratorVersionThatIsNotThere() {
        EncodeRequest plain = EncodeRequest.newBuilder()
                .setModel(ref("shapes-encoder", "3"))
                .addImages(render(1))
                .build();

        assertThat(encoding.encode(plain).getMean().getShapeList()).containsExactly(1L, 32L);
        assertThatThrownBy(() -> encoding.encode(
                        plain.toBuilder().setRefineEvaluations(8).build()))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageStartingWith("refine_evaluations: encoder 'shapes-encoder' version 3 inverts"
                        + " 'shapes-generator' version 3, which is not in the model repository");
        assertThat(encoding.encode(plain.toBuilder()
                                .setModel(ref("shapes-encoder", "1"))
                                .setRefineEvaluations(8)
                                .build())
                        .getRefined()
                        .getShapeList())
                .containsExactly(1L, 32L);
    }

    @Test
    void shouldRefuseCalibratedNeighboursOfAGeneratorVersionTheCalibrationWasNotMadeWith() {
        dev.genaug.api.common.v1.Latent.Builder anchor = dev.genaug.api.common.v1.Latent.newBuilder();
        for (int k = 0; k < 32; k++) {
            anchor.addValues(0f);
        }
        SampleRequest.Builder request = SampleRequest.newBuilder()
                .setCount(2)
                .setNeighbours(Neighbours.newBuilder().setAnchor(anchor).setCalibrated(true));

        assertThat(sampling.sample(
                                request.setModel(ref("shapes-generator", "1")).build())
                        .getProvenance(0)
                        .getParametersMap())
                .containsKey("sigma");
        assertThatThrownBy(() -> sampling.sample(
                        request.setModel(ref("shapes-generator", "")).build()))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessage("neighbours.calibrated: the radius calibration of 'shapes-generator' (calibration.json) was"
                        + " made with version 1, not version 2: name version 1 in model.version, or calibrate"
                        + " version 2 again");
    }

    @Test
    void shouldRefuseCalibratedNeighboursWhenTheGeneratorWasExportedAgainUnderTheSameNumber(@TempDir Path other)
            throws IOException {
        Trees.copy(SHIPPED.resolve("shapes-generator"), other.resolve("shapes-generator"));
        Trees.copy(SHIPPED.resolve("shapes-classifier"), other.resolve("shapes-classifier"));
        Files.write(other.resolve("shapes-generator/1/model.onnx"), new byte[] {0}, StandardOpenOption.APPEND);
        dev.genaug.api.common.v1.Latent.Builder anchor = dev.genaug.api.common.v1.Latent.newBuilder();
        for (int k = 0; k < 32; k++) {
            anchor.addValues(0f);
        }

        assertThatThrownBy(() -> new Sampling(ModelRepository.open(other), 1024, 64, onnx, 4096)
                        .sample(SampleRequest.newBuilder()
                                .setModel(ref("shapes-generator", "1"))
                                .setCount(2)
                                .setNeighbours(Neighbours.newBuilder()
                                        .setAnchor(anchor)
                                        .setCalibrated(true))
                                .build()))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessage("neighbours.calibrated: the radius calibration of 'shapes-generator' (calibration.json)"
                        + " was made with another model file of version 1 (it was exported again under the same"
                        + " number): calibrate it again");
    }
}
