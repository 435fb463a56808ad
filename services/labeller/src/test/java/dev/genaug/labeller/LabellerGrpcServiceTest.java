package dev.genaug.labeller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import dev.genaug.api.common.v1.Latent;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.labeller.v1.Annotation;
import dev.genaug.api.labeller.v1.LabelRequest;
import dev.genaug.api.labeller.v1.LabellerServiceGrpc;
import dev.genaug.api.labeller.v1.TrainRequest;
import dev.genaug.domain.tensor.ImageCodec;
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
import java.util.Collections;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = ToyModelRepository.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(KafkaTestResource.class)
class LabellerGrpcServiceTest {
    @TestHTTPResource("/")
    URL root;

    ManagedChannel channel;
    LabellerServiceGrpc.LabellerServiceBlockingStub labeller;

    @BeforeEach
    void connect() {
        channel = GrpcChannels.to(root);
        labeller = LabellerServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void close() {
        channel.shutdownNow();
    }

    private static ByteString mask(int size, int classId) {
        byte[] pixels = new byte[size * size];
        pixels[pixels.length - 1] = (byte) classId;
        return ByteString.copyFrom(ImageCodec.encodePng(pixels, 1, size, size));
    }

    private static Annotation annotation(int size, int classId) {
        return Annotation.newBuilder()
                .setLatent(Latent.newBuilder().addAllValues(Collections.nCopies(8, 0.1f)))
                .setLabelPng(mask(size, classId))
                .build();
    }

    /** An annotation whose first {@code pixels} pixels are class 1 and the others 255, not annotated. */
    private static Annotation annotated(int size, int pixels) {
        byte[] mask = new byte[size * size];
        java.util.Arrays.fill(mask, (byte) 255);
        java.util.Arrays.fill(mask, 0, pixels, (byte) 1);
        return annotation(size, 0).toBuilder()
                .setLabelPng(ByteString.copyFrom(ImageCodec.encodePng(mask, 1, size, size)))
                .build();
    }

    private static TrainRequest.Builder train() {
        return TrainRequest.newBuilder()
                .setGenerator(ModelRef.newBuilder().setName("toy-generator"))
                .setLabellerName("parts")
                .addClassNames("background")
                .addClassNames("body")
                .addClassNames("head")
                .addAnnotations(annotation(16, 2));
    }

    private Status train(TrainRequest request) {
        return catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> labeller.train(request).forEachRemaining(p -> {}))
                .getStatus();
    }

    @Test
    void shouldNameTheOffendingAnnotation() {
        Status size = train(train().addAnnotations(annotation(8, 1)).build());
        assertThat(size.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(size.getDescription()).startsWith("annotations[1].label_png").contains("8x8");
        Status classId = train(train().addAnnotations(annotation(16, 1))
                .addAnnotations(annotation(16, 7))
                .build());
        assertThat(classId.getDescription())
                .startsWith("annotations[2].label_png")
                .contains("class id 7");
        Status empty = train(train().clearAnnotations().build());
        assertThat(empty.getDescription()).startsWith("annotations:");
        Status unannotated = train(train().addAnnotations(annotated(16, 0)).build());
        assertThat(unannotated.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(unannotated.getDescription())
                .isEqualTo("annotations[1].label_png: annotates no pixel: every pixel is 255 (not annotated)");
        Status few = train(train().clearAnnotations()
                .addAnnotations(annotated(16, 40))
                .addAnnotations(annotated(16, 20))
                .build());
        assertThat(few.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(few.getDescription())
                .isEqualTo("annotations: annotate 60 pixels in all; training needs at least 64 (one mini-batch)");
        Status latent = train(train().addAnnotations(Annotation.newBuilder()
                        .setLatent(Latent.newBuilder().addValues(1f))
                        .setLabelPng(mask(16, 0)))
                .build());
        assertThat(latent.getDescription()).startsWith("annotations[1].latent").contains("dimension is 8");
        assertThat(train(train().addHiddenSizes(32).addHiddenSizes(0).build()).getDescription())
                .startsWith("hidden_sizes[1]");
        assertThat(train(train().setEnsembleSize(1000).build()).getDescription())
                .startsWith("ensemble_size");
        Status arithmetic = train(train().setArithmeticValue(7).build());
        assertThat(arithmetic.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(arithmetic.getDescription()).startsWith("arithmetic").contains("7");
        for (float tau : new float[] {-0.1f, 2.5f, Float.NaN}) {
            Status correction = train(train().setClassPriorCorrection(tau).build());
            assertThat(correction.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(correction.getDescription())
                    .startsWith("class_prior_correction")
                    .contains(Float.toString(tau));
        }
    }

    @Test
    void shouldRefuseANameTakenByAnotherModel() {
        Status s = train(train().setLabellerName("toy-encoder").build());
        assertThat(s.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(s.getDescription())
                .startsWith("labeller_name: 'toy-encoder'")
                .contains("MODEL_ROLE_ENCODER, not a labeller");
    }

    @Test
    void shouldRejectALabellerTrainedForAnotherGenerator() throws java.io.IOException {
        // A second generator in the repository: toy-generator's files under another name.
        java.nio.file.Path root = java.nio.file.Path.of(org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getValue("genaug.models.repository", String.class));
        java.nio.file.Path other = root.resolve("other-generator");
        if (!java.nio.file.Files.exists(other)) {
            dev.genaug.domain.files.Trees.copy(root.resolve("toy-generator"), other);
            java.nio.file.Path config = other.resolve("config.pbtxt");
            java.nio.file.Files.writeString(
                    config, java.nio.file.Files.readString(config).replace("\"toy-generator\"", "\"other-generator\""));
        }
        Status s = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> labeller.label(LabelRequest.newBuilder()
                                .setLabeller(ModelRef.newBuilder().setName("toy-labeller"))
                                .setGenerator(ModelRef.newBuilder().setName("other-generator"))
                                .setLatents(Tensors.fp32(new float[8], 1, 8))
                                .build()))
                .getStatus();
        assertThat(s.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(s.getDescription())
                .isEqualTo(
                        "labeller: labeller 'toy-labeller' was trained for 'toy-generator', not for 'other-generator'");
    }

    @Test
    void shouldAnswerNotFoundForAnUnknownLabeller() {
        Status s = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> labeller.label(LabelRequest.newBuilder()
                                .setLabeller(ModelRef.newBuilder().setName("nope"))
                                .setLatents(Tensors.fp32(new float[8], 1, 8))
                                .build()))
                .getStatus();
        assertThat(s.getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }
}
