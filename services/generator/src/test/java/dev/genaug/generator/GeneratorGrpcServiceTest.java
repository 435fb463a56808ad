package dev.genaug.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.generator.v1.GenerateRequest;
import dev.genaug.api.generator.v1.GenerateResponse;
import dev.genaug.api.generator.v1.GeneratorServiceGrpc;
import dev.genaug.api.generator.v1.ImageEncoding;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.sampling.PriorSampler;
import dev.genaug.domain.tensor.ChwImage;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.inference.OnnxBackend;
import dev.genaug.testing.GrpcChannels;
import dev.genaug.testing.KafkaTestResource;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** GeneratorService over a real socket, running the reference model of deploy/model-repository. */
@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
class GeneratorGrpcServiceTest {
    static final int D = 32;

    @TestHTTPResource("/")
    URL root;

    ManagedChannel channel;
    GeneratorServiceGrpc.GeneratorServiceBlockingStub generator;

    @BeforeEach
    void connect() {
        channel = GrpcChannels.to(root);
        generator = GeneratorServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void close() {
        channel.shutdownNow();
    }

    static float[] latents(int n) {
        return PriorSampler.create(D, 1f, 0f, "").sample(77, 0, n);
    }

    private static GenerateRequest request(float[] values, long rows, long dim) {
        return GenerateRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName("shapes-generator"))
                .setLatents(Tensors.fp32(values, rows, dim))
                .build();
    }

    private Status call(GenerateRequest request) {
        return catchThrowableOfType(StatusRuntimeException.class, () -> generator.generate(request))
                .getStatus();
    }

    /** The same model run directly with ONNX Runtime, without the service, batcher or gRPC. */
    private static Map<String, FloatTensor> direct(float[] z, int n, List<String> outputs) {
        ModelRepository repository =
                ModelRepository.open(Path.of(System.getProperty("genaug.root")).resolve("deploy/model-repository"));
        ResolvedModel model = repository.resolve("shapes-generator", "", "model");
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(2, false))) {
            return onnx.infer(model, Map.of("z", new FloatTensor(new long[] {n, D}, z)), outputs);
        }
    }

    @Test
    void shouldReturnWhatOnnxRuntimeComputesInEveryEncoding() {
        float[] z = latents(5);
        float[] expected = direct(z, 5, List.of("image")).get("image").data();
        GenerateResponse raw = generator.generate(request(z, 5, D).toBuilder()
                .setImageEncoding(ImageEncoding.IMAGE_ENCODING_RAW_FP32)
                .build());
        assertThat(raw.getModel().getVersion()).isEqualTo("1");
        assertThat(raw.getImageTensor().getShapeList()).containsExactly(5L, 3L, 64L, 64L);
        float[] got = Tensors.toFloats(raw.getImageTensor(), "image");
        for (int i = 0; i < got.length; i++) {
            assertThat(got[i]).isCloseTo(expected[i], within(1e-6f));
        }
        byte[] bytes = ImageCodec.toUint8(got, -1f, 1f);
        GenerateResponse u8 = generator.generate(request(z, 5, D).toBuilder()
                .setImageEncoding(ImageEncoding.IMAGE_ENCODING_RAW_UINT8)
                .build());
        assertThat(u8.getImageTensor().getData().toByteArray()).containsExactly(bytes);
        GenerateResponse png = generator.generate(request(z, 5, D));
        assertThat(png.getImagesList()).hasSize(5);
        ChwImage third = ImageCodec.decodePng(png.getImages(2).getPng().toByteArray(), 0f, 255f, "png");
        assertThat(ImageCodec.toUint8(third.pixels(), 0f, 255f))
                .containsExactly(java.util.Arrays.copyOfRange(bytes, 2 * 3 * 64 * 64, 3 * 3 * 64 * 64));
    }

    @Test
    void shouldReturnRequestedFeatureMapsAtTheirResolution() {
        GenerateResponse r = generator.generate(request(latents(2), 2, D).toBuilder()
                .setImageEncoding(ImageEncoding.IMAGE_ENCODING_NONE)
                .addFeatureOutputs("feat_8")
                .addFeatureOutputs("feat_32")
                .build());
        assertThat(r.getImagesList()).isEmpty();
        assertThat(r.getFeaturesMap()).containsOnlyKeys("feat_8", "feat_32");
        assertThat(r.getFeaturesOrThrow("feat_8").getShapeList()).containsExactly(2L, 96L, 8L, 8L);
        // The canvas's 24 channels, then the visibility of each of its 4 layers and its coverage.
        assertThat(r.getFeaturesOrThrow("feat_32").getShapeList()).containsExactly(2L, 29L, 32L, 32L);
    }

    @Test
    void shouldStreamLargeBatchesInOrderedChunks() {
        float[] z = latents(100);
        List<GenerateResponse> chunks = new ArrayList<>();
        generator
                .generateStream(request(z, 100, D).toBuilder()
                        .setImageEncoding(ImageEncoding.IMAGE_ENCODING_RAW_FP32)
                        .setChunkSize(32)
                        .build())
                .forEachRemaining(chunks::add);
        assertThat(chunks).extracting(GenerateResponse::getOffset).containsExactly(0L, 32L, 64L, 96L);
        assertThat(chunks).extracting(c -> c.getImageTensor().getShape(0)).containsExactly(32L, 32L, 32L, 4L);
        float[] expected = direct(z, 100, List.of("image")).get("image").data();
        int per = 3 * 64 * 64;
        for (GenerateResponse c : chunks) {
            float[] got = Tensors.toFloats(c.getImageTensor(), "image");
            for (int i = 0; i < got.length; i += 97) {
                assertThat(got[i]).isCloseTo(expected[(int) c.getOffset() * per + i], within(1e-5f));
            }
        }
    }

    @Test
    void shouldNameFieldAndIndexOfInvalidLatents() {
        Status dim = call(request(new float[6], 2, 3));
        assertThat(dim.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(dim.getDescription()).startsWith("latents.shape[1]:").contains("latent dimension is 32");
        float[] nan = new float[2 * D];
        nan[D + 5] = Float.NaN;
        assertThat(call(request(nan, 2, D)).getDescription())
                .startsWith("latents.data:")
                .contains("row 1, column 5");
        assertThat(call(request(new float[0], 0, D)).getDescription())
                .startsWith("latents.shape[0]:")
                .contains("empty");
        Status unknownFeature = call(request(new float[D], 1, D).toBuilder()
                .addFeatureOutputs("feat_4")
                .addFeatureOutputs("feat_9")
                .build());
        assertThat(unknownFeature.getDescription())
                .startsWith("feature_outputs[1]:")
                .contains("feat_9");
        Status nothing = call(request(new float[D], 1, D).toBuilder()
                .setImageEncoding(ImageEncoding.IMAGE_ENCODING_NONE)
                .build());
        assertThat(nothing.getDescription()).startsWith("image_encoding:");
    }

    @Test
    void shouldCapBatchSizeAndAnswerNotFoundForUnknownModels() {
        Status big = call(request(new float[1025 * D], 1025, D));
        assertThat(big.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(big.getDescription()).contains("1024");
        GenerateRequest r = request(new float[D], 1, D);
        assertThat(call(r.toBuilder()
                                .setModel(ModelRef.newBuilder().setName("x"))
                                .build())
                        .getCode())
                .isEqualTo(Status.Code.NOT_FOUND);
        Status version = call(r.toBuilder()
                .setModel(ModelRef.newBuilder().setName("shapes-generator").setVersion("3"))
                .build());
        assertThat(version.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(version.getDescription()).contains("no version 3");
        Status role = call(r.toBuilder()
                .setModel(ModelRef.newBuilder().setName("shapes-encoder"))
                .build());
        assertThat(role.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    }
}
