package dev.genaug.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.encoder.v1.EncodeRequest;
import dev.genaug.api.encoder.v1.EncoderServiceGrpc;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.testing.GrpcChannels;
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
        return EncodeRequest.newBuilder().setModel(ModelRef.newBuilder().setName("toy-encoder"));
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
                .addImages(png(3, 16))
                .addImages(Image.newBuilder().setPng(ByteString.copyFromUtf8("not a png")))
                .build());
        assertThat(corrupt.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(corrupt.getDescription()).startsWith("images[1].png");

        Status grey = call(request().addImages(png(1, 16)).build());
        assertThat(grey.getDescription()).startsWith("images[0]").contains("1 channels, the model needs 3");

        Status size = call(request().addImages(png(3, 16)).addImages(png(3, 8)).build());
        assertThat(size.getDescription())
                .startsWith("images[1]")
                .contains("8x8")
                .contains("16x16");
    }

    @Test
    void shouldAnswerNotFoundForUnknownModelAndFailedPreconditionForWrongRole() {
        Status unknown = call(EncodeRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName("nope"))
                .addImages(png(3, 16))
                .build());
        assertThat(unknown.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(unknown.getDescription()).contains("'nope'");

        Status role = call(EncodeRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName("toy-generator"))
                .addImages(png(3, 16))
                .build());
        assertThat(role.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(role.getDescription()).contains("is a generator, not a encoder");
    }

    @Test
    void shouldAnswerUnimplementedSayingWhatIsMissingForAValidRequest() {
        Status s = call(request().addImages(png(3, 16)).build());
        assertThat(s.getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
        assertThat(s.getDescription()).contains("no inference backend").contains("toy-encoder");
    }
}
