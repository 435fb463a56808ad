package dev.genaug.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.encoder.v1.EncodeRequest;
import dev.genaug.api.encoder.v1.EncodeResponse;
import dev.genaug.api.encoder.v1.EncoderServiceGrpc;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.inference.OnnxBackend;
import dev.genaug.testing.GrpcChannels;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** EncoderService over a real socket, running the reference encoder of deploy/model-repository. */
@QuarkusTest
class EncoderGrpcServiceTest {
    @TestHTTPResource("/")
    URL root;

    ManagedChannel channel;
    EncoderServiceGrpc.EncoderServiceBlockingStub encoder;

    @BeforeEach
    void connect() {
        channel = GrpcChannels.to(root);
        encoder = EncoderServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void close() {
        channel.shutdownNow();
    }

    private static Image render(int index) {
        ShapesParts.Sample s = ShapesParts.render(2, index);
        return Image.newBuilder()
                .setPng(ByteString.copyFrom(ImageCodec.encodePng(s.rgb(), 3, 64, 64)))
                .build();
    }

    private static Image png(int channels, int size) {
        return Image.newBuilder()
                .setPng(ByteString.copyFrom(
                        ImageCodec.encodePng(new byte[channels * size * size], channels, size, size)))
                .build();
    }

    private Status call(EncodeRequest request) {
        return catchThrowableOfType(StatusRuntimeException.class, () -> encoder.encode(request))
                .getStatus();
    }

    private static EncodeRequest.Builder request() {
        return EncodeRequest.newBuilder().setModel(ModelRef.newBuilder().setName("shapes-encoder"));
    }

    @Test
    void shouldEncodeRendersAsOnnxRuntimeDoes() {
        EncodeResponse r = encoder.encode(request()
                .addImages(render(0))
                .addImages(render(1))
                .addImages(render(2))
                .build());
        assertThat(r.getModel().getVersion()).isEqualTo("1");
        assertThat(r.getMean().getShapeList()).containsExactly(3L, 32L);
        assertThat(r.getLogVariance().getShapeList()).containsExactly(3L, 32L);
        float[] pixels = new float[3 * 3 * 64 * 64];
        for (int i = 0; i < 3; i++) {
            float[] one = ImageCodec.fromUint8(ShapesParts.render(2, i).rgb(), -1f, 1f);
            System.arraycopy(one, 0, pixels, i * one.length, one.length);
        }
        ResolvedModel model = ModelRepository.open(
                        Path.of(System.getProperty("genaug.root")).resolve("deploy/model-repository"))
                .resolve("shapes-encoder", "", "model");
        float[] expected;
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(2, false))) {
            expected = onnx.infer(
                            model, Map.of("image", new FloatTensor(new long[] {3, 3, 64, 64}, pixels)), List.of("mu"))
                    .get("mu")
                    .data();
        }
        float[] got = Tensors.toFloats(r.getMean(), "mean");
        for (int i = 0; i < got.length; i++) {
            assertThat(got[i]).isCloseTo(expected[i], within(1e-5f));
        }
    }

    @Test
    void shouldRejectEmptyBatchNamingImages() {
        Status s = call(request().build());
        assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s.getDescription()).startsWith("images:");
    }

    @Test
    void shouldNameTheImageIndexForCorruptPngOrWrongShape() {
        Status corrupt = call(request()
                .addImages(render(0))
                .addImages(Image.newBuilder().setPng(ByteString.copyFromUtf8("not a png")))
                .build());
        assertThat(corrupt.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(corrupt.getDescription()).startsWith("images[1].png");
        Status grey = call(request().addImages(png(1, 64)).build());
        assertThat(grey.getDescription()).startsWith("images[0]").contains("1 channels, the model needs 3");
        Status size = call(request().addImages(render(0)).addImages(png(3, 32)).build());
        assertThat(size.getDescription())
                .startsWith("images[1]")
                .contains("32x32")
                .contains("64x64");
    }

    @Test
    void shouldAnswerNotFoundForUnknownModelAndFailedPreconditionForWrongRole() {
        Status unknown = call(EncodeRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName("nope"))
                .addImages(render(0))
                .build());
        assertThat(unknown.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(unknown.getDescription()).contains("'nope'");
        Status role = call(EncodeRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName("shapes-generator"))
                .addImages(render(0))
                .build());
        assertThat(role.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(role.getDescription()).contains("is a generator, not an encoder");
    }
}
