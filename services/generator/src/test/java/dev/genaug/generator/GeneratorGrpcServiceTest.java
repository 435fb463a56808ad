package dev.genaug.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.generator.v1.GenerateRequest;
import dev.genaug.api.generator.v1.GeneratorServiceGrpc;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.testing.GrpcChannels;
import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.ToyModelRepository;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(ToyModelRepository.class)
@QuarkusTestResource(KafkaTestResource.class)
class GeneratorGrpcServiceTest {
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

    private static GenerateRequest request(float[] values, long rows, long dim) {
        return GenerateRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName("toy-generator"))
                .setLatents(Tensors.fp32(values, rows, dim))
                .build();
    }

    private Status call(GenerateRequest request) {
        return catchThrowableOfType(StatusRuntimeException.class, () -> generator.generate(request))
                .getStatus();
    }

    private Status callStream(GenerateRequest request) {
        return catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> generator.generateStream(request).forEachRemaining(r -> {}))
                .getStatus();
    }

    @Test
    void shouldNameFieldAndIndexOfInvalidLatents() {
        Status dim = call(request(new float[6], 2, 3));
        assertThat(dim.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(dim.getDescription()).startsWith("latents.shape[1]:").contains("latent dimension is 8");

        float[] nan = new float[16];
        nan[8 + 5] = Float.NaN;
        assertThat(call(request(nan, 2, 8)).getDescription())
                .startsWith("latents.data:")
                .contains("row 1, column 5");
        float[] inf = new float[8];
        inf[0] = Float.POSITIVE_INFINITY;
        assertThat(call(request(inf, 1, 8)).getDescription()).contains("row 0, column 0 is Infinity");

        assertThat(call(request(new float[0], 0, 8)).getDescription())
                .startsWith("latents.shape[0]:")
                .contains("empty");
        Status unknownFeature = call(request(new float[8], 1, 8).toBuilder()
                .addFeatureOutputs("feat_4")
                .addFeatureOutputs("feat_9")
                .build());
        assertThat(unknownFeature.getDescription())
                .startsWith("feature_outputs[1]:")
                .contains("feat_9");
    }

    @Test
    void shouldCapBatchSizeButNotStreams() {
        Status big = call(request(new float[1025 * 8], 1025, 8));
        assertThat(big.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(big.getDescription()).contains("1024");
        // The same batch through the stream passes validation and reaches the missing backend.
        assertThat(callStream(request(new float[1025 * 8], 1025, 8)).getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
    }

    @Test
    void shouldAnswerNotFoundForUnknownModelOrVersion() {
        GenerateRequest r = request(new float[8], 1, 8);
        assertThat(call(r.toBuilder()
                                .setModel(ModelRef.newBuilder().setName("x"))
                                .build())
                        .getCode())
                .isEqualTo(Status.Code.NOT_FOUND);
        Status version = call(r.toBuilder()
                .setModel(ModelRef.newBuilder().setName("toy-generator").setVersion("3"))
                .build());
        assertThat(version.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(version.getDescription()).contains("no version 3");
    }

    @Test
    void shouldAnswerUnimplementedSayingWhatIsMissingForAValidRequest() {
        Status s = call(request(new float[16], 2, 8));
        assertThat(s.getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
        assertThat(s.getDescription())
                .contains("no inference backend")
                .contains("toy-generator")
                .contains("version 2");
    }
}
