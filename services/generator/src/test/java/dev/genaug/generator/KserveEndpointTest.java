package dev.genaug.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import dev.genaug.api.inference.GRPCInferenceServiceGrpc;
import dev.genaug.api.inference.InferTensorContents;
import dev.genaug.api.inference.ModelInferRequest;
import dev.genaug.api.inference.ModelMetadataRequest;
import dev.genaug.api.inference.ModelReadyRequest;
import dev.genaug.api.inference.RepositoryIndexRequest;
import dev.genaug.api.inference.ServerLiveRequest;
import dev.genaug.api.inference.ServerReadyRequest;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.error.UnavailableException;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.inference.OnnxBackend;
import dev.genaug.inference.TritonBackend;
import dev.genaug.testing.GrpcChannels;
import dev.genaug.testing.KafkaTestResource;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The generator's KServe v2 endpoint, called over a real socket by genaug's own Triton client. */
@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
class KserveEndpointTest {
    @TestHTTPResource("/")
    URL root;

    ManagedChannel channel;
    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub kserve;

    @BeforeEach
    void connect() {
        channel = GrpcChannels.to(root);
        kserve = GRPCInferenceServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void close() {
        channel.shutdownNow();
    }

    private static ModelRepository repository() {
        return ModelRepository.open(Path.of(System.getProperty("genaug.root")).resolve("deploy/model-repository"));
    }

    private static Map<String, FloatTensor> direct(
            String model, Map<String, FloatTensor> inputs, List<String> outputs) {
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(2, false))) {
            return onnx.infer(repository().resolve(model, "", "model"), inputs, outputs);
        }
    }

    private TritonBackend client(boolean fp16) {
        return new TritonBackend(
                channel,
                new TritonBackend.Settings(
                        root.getHost() + ":" + root.getPort(), Duration.ofSeconds(30), 3, Duration.ofMillis(10), fp16));
    }

    @Test
    void shouldReportLivenessReadinessAndTheRepository() {
        assertThat(kserve.serverLive(ServerLiveRequest.getDefaultInstance()).getLive())
                .isTrue();
        assertThat(kserve.serverReady(ServerReadyRequest.getDefaultInstance()).getReady())
                .isTrue();
        assertThat(kserve.modelReady(ModelReadyRequest.newBuilder()
                                .setName("shapes-generator")
                                .build())
                        .getReady())
                .isTrue();
        assertThat(kserve.modelReady(
                                ModelReadyRequest.newBuilder().setName("nope").build())
                        .getReady())
                .isFalse();
        var index = kserve.repositoryIndex(RepositoryIndexRequest.getDefaultInstance());
        assertThat(index.getModelsList())
                .extracting(m -> m.getName() + ":" + m.getState())
                .contains("shapes-generator:READY", "shapes-encoder:READY", "shapes-classifier:READY");
    }

    @Test
    void shouldDescribeModelsAsTritonDoes() {
        var meta = kserve.modelMetadata(
                ModelMetadataRequest.newBuilder().setName("shapes-generator").build());
        assertThat(meta.getPlatform()).isEqualTo("onnxruntime_onnx");
        assertThat(meta.getVersionsList()).containsExactly("1");
        assertThat(meta.getInputs(0).getName()).isEqualTo("z");
        assertThat(meta.getInputs(0).getDatatype()).isEqualTo("FP32");
        assertThat(meta.getInputs(0).getShapeList()).containsExactly(-1L, 32L);
        assertThat(meta.getOutputsList())
                .extracting(o -> o.getName())
                .contains("image", "feat_4", "feat_8", "feat_16", "feat_32");
        assertThat(meta.getOutputs(0).getShapeList()).containsExactly(-1L, 3L, 64L, 64L);
    }

    @Test
    void shouldGiveOurTritonClientWhatOnnxRuntimeComputes() {
        float[] z = GeneratorGrpcServiceTest.latents(4);
        Map<String, FloatTensor> in = Map.of("z", new FloatTensor(new long[] {4, 32}, z));
        ResolvedModel generator = repository().resolve("shapes-generator", "", "model");
        Map<String, FloatTensor> viaKserve = client(false).infer(generator, in, List.of("image", "feat_16"));
        Map<String, FloatTensor> viaOnnx = direct("shapes-generator", in, List.of("image", "feat_16"));
        for (String name : List.of("image", "feat_16")) {
            assertThat(viaKserve.get(name).shape())
                    .containsExactly(viaOnnx.get(name).shape());
            float[] a = viaKserve.get(name).data();
            float[] b = viaOnnx.get(name).data();
            for (int i = 0; i < a.length; i++) {
                assertThat(a[i]).as("%s[%d]", name, i).isCloseTo(b[i], within(1e-6f));
            }
        }
        // The classifier on a render, through the same client.
        float[] pixels = ImageCodec.fromUint8(ShapesParts.render(2, 0).rgb(), -1f, 1f);
        Map<String, FloatTensor> image = Map.of("image", new FloatTensor(new long[] {1, 3, 64, 64}, pixels));
        float[] p = client(false)
                .infer(repository().resolve("shapes-classifier", "", "model"), image, List.of("probabilities"))
                .get("probabilities")
                .data();
        assertThat(p)
                .containsExactly(
                        direct("shapes-classifier", image, List.of("probabilities"))
                                .get("probabilities")
                                .data(),
                        within(1e-6f));
    }

    @Test
    void shouldAcceptHalfPrecisionInputs() {
        float[] z = GeneratorGrpcServiceTest.latents(2);
        Map<String, FloatTensor> in = Map.of("z", new FloatTensor(new long[] {2, 32}, z));
        float[] half = client(true)
                .infer(repository().resolve("shapes-generator", "", "model"), in, List.of("image"))
                .get("image")
                .data();
        float[] full =
                direct("shapes-generator", in, List.of("image")).get("image").data();
        double maxDiff = 0;
        for (int i = 0; i < half.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(half[i] - full[i]));
        }
        // FP16 latents carry ~3 significant digits; the images move by a few hundredths at most.
        assertThat(maxDiff).isGreaterThan(0).isLessThan(0.05);
    }

    @Test
    void shouldAnswerWithPreciseStatuses() {
        Status unknown = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> kserve.modelInfer(ModelInferRequest.newBuilder()
                                .setModelName("nope")
                                .build()))
                .getStatus();
        assertThat(unknown.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        Status mixed = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> kserve.modelInfer(ModelInferRequest.newBuilder()
                                .setModelName("shapes-generator")
                                .addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                                        .setName("z")
                                        .setDatatype("FP32")
                                        .addShape(1)
                                        .addShape(32)
                                        .setContents(
                                                InferTensorContents.newBuilder().addFp32Contents(1f)))
                                .addRawInputContents(ByteString.copyFrom(new byte[128]))
                                .build()))
                .getStatus();
        assertThat(mixed.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(mixed.getDescription()).startsWith("inputs[0].contents");
        Status shape = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> kserve.modelInfer(ModelInferRequest.newBuilder()
                                .setModelName("shapes-generator")
                                .addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                                        .setName("z")
                                        .setDatatype("FP32")
                                        .addShape(2)
                                        .addShape(32))
                                .addRawInputContents(ByteString.copyFrom(new byte[128]))
                                .build()))
                .getStatus();
        assertThat(shape.getDescription()).startsWith("inputs[0]").contains("needs 256");
    }

    @Test
    void shouldReportUnavailableWhenTritonIsDownAfterRetrying() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ManagedChannel dead = ManagedChannelBuilder.forAddress("localhost", port)
                .usePlaintext()
                .build();
        try {
            TritonBackend down = new TritonBackend(
                    dead,
                    new TritonBackend.Settings(
                            "localhost:" + port, Duration.ofSeconds(5), 3, Duration.ofMillis(20), false));
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> down.infer(
                            repository().resolve("shapes-generator", "", "model"),
                            Map.of("z", new FloatTensor(new long[] {1, 32}, new float[32])),
                            List.of("image")))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining("localhost:" + port)
                    .hasMessageContaining("after 3 attempts");
            // Backoff 20 ms then 40 ms: at least 60 ms were spent retrying.
            assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(60);
        } finally {
            dead.shutdownNow();
        }
    }
}
