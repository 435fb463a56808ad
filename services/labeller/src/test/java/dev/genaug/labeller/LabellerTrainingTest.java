package dev.genaug.labeller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.common.v1.Latent;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.labeller.v1.Annotation;
import dev.genaug.api.labeller.v1.AnnotationRefinement;
import dev.genaug.api.labeller.v1.LabelRequest;
import dev.genaug.api.labeller.v1.LabelResponse;
import dev.genaug.api.labeller.v1.LabellerArithmetic;
import dev.genaug.api.labeller.v1.LabellerServiceGrpc;
import dev.genaug.api.labeller.v1.TrainProgress;
import dev.genaug.api.labeller.v1.TrainRequest;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.labelling.FeatureSource;
import dev.genaug.domain.labelling.Labelling;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.inference.OnnxBackend;
import dev.genaug.testing.GrpcChannels;
import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.ReferenceModelCopy;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Train and Label over gRPC on the reference models, with real ONNX Runtime inference. */
@QuarkusTest
@QuarkusTestResource(value = ReferenceModelCopy.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(KafkaTestResource.class)
class LabellerTrainingTest {
    @TestHTTPResource("/")
    URL root;

    @ConfigProperty(name = "genaug.models.repository")
    Path repository;

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

    /** Annotations from renders: the image (encoded by the service) and its true mask. */
    private static TrainRequest.Builder fromRenders(String name, int n, int ensemble, int epochs) {
        TrainRequest.Builder b = TrainRequest.newBuilder()
                .setGenerator(ModelRef.newBuilder().setName("shapes-generator"))
                .setLabellerName(name)
                .addAllClassNames(ShapesParts.CLASSES)
                .setEnsembleSize(ensemble)
                .addHiddenSizes(16)
                .addHiddenSizes(8)
                .setMaxEpochs(epochs)
                .setPatience(1_000_000)
                .setSeed(3);
        for (int i = 0; i < n; i++) {
            ShapesParts.Sample s = ShapesParts.render(1, i);
            b.addAnnotations(Annotation.newBuilder()
                    .setImage(Image.newBuilder().setPng(ByteString.copyFrom(ImageCodec.encodePng(s.rgb(), 3, 64, 64))))
                    .setLabelPng(ByteString.copyFrom(ImageCodec.encodePng(s.mask(), 1, 64, 64))));
        }
        return b;
    }

    @Test
    void shouldStreamProgressAndRegisterALabellerThatLabelsWhenTrainingSucceeds() throws Exception {
        List<TrainProgress> progress = new ArrayList<>();
        labeller.train(fromRenders("parts", 3, 2, 2).build()).forEachRemaining(progress::add);

        // One message per member epoch, then the registered labeller.
        assertThat(progress).hasSize(2 * 2 + 1);
        assertThat(progress.subList(0, 4))
                .allSatisfy(p -> assertThat(p.getLoss()).isPositive());
        ModelRef registered = progress.getLast().getLabeller();
        assertThat(registered.getName()).isEqualTo("parts");
        assertThat(registered.getVersion()).isEqualTo("1");
        assertThat(repository.resolve("parts/1/model.onnx")).isRegularFile();
        assertThat(repository.resolve("parts/config.pbtxt")).isRegularFile();
        assertThat(Files.readString(repository.resolve("parts-pipeline/config.pbtxt")))
                .contains("platform: \"ensemble\"")
                .contains("model_name: \"shapes-generator\"")
                .contains("model_name: \"parts\"")
                .contains("{ name: \"image\" data_type: TYPE_FP32 dims: [ 3, 64, 64 ] }");

        LabelResponse labels = labeller.label(LabelRequest.newBuilder()
                .setLabeller(ModelRef.newBuilder().setName("parts"))
                .setLatents(Tensors.fp32(new float[3 * 32], 3, 32))
                .build());
        assertThat(labels.getLabeller()).isEqualTo(registered);
        assertThat(labels.getLabels().getShapeList()).containsExactly(3L, 64L, 64L);
        assertThat(labels.getConfidence().getShapeList()).containsExactly(3L, 64L, 64L);
        for (byte id : labels.getLabels().getData().toByteArray()) {
            assertThat(id & 0xff).isLessThan(ShapesParts.CLASSES.size());
        }
        for (float c : Tensors.toFloats(labels.getConfidence(), "confidence")) {
            assertThat(c).isBetween(1f / ShapesParts.CLASSES.size(), 1f);
        }
        // Three identical latents: identical pictures, identical uncertainty.
        assertThat(labels.getUncertaintyList())
                .hasSize(3)
                .allSatisfy(u -> assertThat(u).isGreaterThanOrEqualTo(0f).isEqualTo(labels.getUncertainty(0)));

        // The same samples given as feature maps (as if generated elsewhere) get the same answer.
        float[] z = new float[2 * 32];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) Math.sin(i);
        }
        LabelResponse fromLatents = labeller.label(LabelRequest.newBuilder()
                .setLabeller(registered)
                .setLatents(Tensors.fp32(z, 2, 32))
                .build());
        LabelRequest.Builder byFeatures = LabelRequest.newBuilder().setLabeller(registered);
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(1, false, false))) {
            ResolvedModel generator = ModelRepository.open(repository).resolve("shapes-generator", "", "generator");
            FeatureSource.generate(onnx, generator, FeatureSource.inputs(generator.manifest()), z, 2)
                    .tensors()
                    .forEach((name, t) -> byFeatures.putFeatures(name, Tensors.fp32(t.data(), t.shape())));
        }
        LabelResponse fromFeatures = labeller.label(byFeatures.build());
        assertThat(fromFeatures.getLabels()).isEqualTo(fromLatents.getLabels());
        assertThat(fromFeatures.getUncertaintyList()).isEqualTo(fromLatents.getUncertaintyList());

        Status missing = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> labeller.label(
                                byFeatures.clone().removeFeatures("feat_8").build()))
                .getStatus();
        assertThat(missing.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(missing.getDescription()).startsWith("features[\"feat_8\"]").contains("missing");
        Status both = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> labeller.label(byFeatures
                                .clone()
                                .setLatents(Tensors.fp32(z, 2, 32))
                                .build()))
                .getStatus();
        assertThat(both.getDescription()).contains("exactly one of latents and features");

        Status tooMany = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> labeller.label(LabelRequest.newBuilder()
                                .setLabeller(registered)
                                .setLatents(Tensors.fp32(new float[257 * 32], 257, 32))
                                .build()))
                .getStatus();
        assertThat(tooMany.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);

        // Training again adds version 2 beside version 1; each records its class-prior correction.
        // This time the masks annotate the objects only: their background pixels are 255.
        TrainRequest.Builder partial = fromRenders("parts", 2, 1, 1).setClassPriorCorrection(0f);
        for (int i = 0; i < partial.getAnnotationsCount(); i++) {
            byte[] mask = ShapesParts.render(1, i).mask();
            for (int p = 0; p < mask.length; p++) {
                mask[p] = mask[p] == 0 ? (byte) Labelling.IGNORED : mask[p];
            }
            partial.setAnnotations(
                    i,
                    partial.getAnnotations(i).toBuilder()
                            .setLabelPng(ByteString.copyFrom(ImageCodec.encodePng(mask, 1, 64, 64))));
        }
        List<TrainProgress> again = new ArrayList<>();
        labeller.train(partial.build()).forEachRemaining(again::add);
        assertThat(again.getLast().getLabeller().getVersion()).isEqualTo("2");
        assertThat(repository.resolve("parts/1/model.onnx")).isRegularFile();
        ModelRepository models = ModelRepository.open(repository);
        assertThat(models.resolve("parts", "1", "labeller").manifest().getMetricsOrThrow("class_prior_correction"))
                .as("unset: the default")
                .isEqualTo(Labelling.DEFAULT_CLASS_PRIOR_CORRECTION);
        assertThat(models.resolve("parts", "2", "labeller").manifest().getMetricsOrThrow("class_prior_correction"))
                .isZero();
    }

    @Test
    void shouldRegisterAnIntegerLabellerThatAgreesWithItsFloatTwinWhenAskedForInt8() throws Exception {
        List<TrainProgress> asFloat = new ArrayList<>();
        labeller.train(fromRenders("twin-float", 3, 2, 2).build()).forEachRemaining(asFloat::add);
        List<TrainProgress> asInt8 = new ArrayList<>();
        labeller.train(fromRenders("twin-int8", 3, 2, 2)
                        .setArithmetic(LabellerArithmetic.LABELLER_ARITHMETIC_INT8)
                        .build())
                .forEachRemaining(asInt8::add);
        // The arithmetic changes the export only: the same member epochs with the same losses
        // (members train in parallel, so their messages interleave in any order).
        assertThat(asInt8.getLast().getLabeller().getName()).isEqualTo("twin-int8");
        assertThat(asInt8.subList(0, asInt8.size() - 1))
                .containsExactlyInAnyOrderElementsOf(asFloat.subList(0, asFloat.size() - 1));

        ModelRepository models = ModelRepository.open(repository);
        ResolvedModel int8 = models.resolve("twin-int8", "", "labeller");
        assertThat(int8.manifest().getMetricsOrThrow("int8")).isEqualTo(1);
        assertThat(models.resolve("twin-float", "", "labeller").manifest().getMetricsOrThrow("int8"))
                .isZero();
        assertThat(new String(
                        Files.readAllBytes(repository.resolve("twin-int8/1/model.onnx")),
                        java.nio.charset.StandardCharsets.ISO_8859_1))
                .contains("MatMulIntegerToFloat");
        assertThat(int8.manifest().getUncertaintyQuantilesList()).hasSize(101).isSorted();

        float[] z = new float[4 * 32];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) Math.cos(0.7 * i);
        }
        LabelResponse fromFloat = labeller.label(LabelRequest.newBuilder()
                .setLabeller(ModelRef.newBuilder().setName("twin-float"))
                .setLatents(Tensors.fp32(z, 4, 32))
                .build());
        LabelResponse fromInt8 = labeller.label(LabelRequest.newBuilder()
                .setLabeller(ModelRef.newBuilder().setName("twin-int8"))
                .setLatents(Tensors.fp32(z, 4, 32))
                .build());
        byte[] a = fromFloat.getLabels().getData().toByteArray();
        byte[] b = fromInt8.getLabels().getData().toByteArray();
        int same = 0;
        for (int i = 0; i < a.length; i++) {
            same += a[i] == b[i] ? 1 : 0;
        }
        // The same seed trains the same ensemble; only its arithmetic differs.
        assertThat((double) same / a.length).as("label agreement").isGreaterThan(0.95);
        for (int i = 0; i < 4; i++) {
            assertThat(fromInt8.getUncertainty(i))
                    .isCloseTo(fromFloat.getUncertainty(i), within(0.2f * fromFloat.getUncertainty(i) + 1e-3f));
        }
    }

    @Test
    void shouldRefineTheImageAnnotationsAndReportHowFarWhenAskedTo() {
        // The reference encoder's means sit close to the best latents of its training renders:
        // CMA-ES's first steps (0.3 latent units) land further off, and it takes a few
        // generations (14 decodes each) to shrink them.
        TrainRequest.Builder request = fromRenders("refined", 3, 1, 1).setRefineEvaluations(300);
        // A latent annotation between the images: nothing to refine there.
        request.addAnnotations(
                1,
                Annotation.newBuilder()
                        .setLatent(Latent.newBuilder().addAllValues(Collections.nCopies(32, 0.1f)))
                        .setLabelPng(request.getAnnotations(0).getLabelPng()));
        List<TrainProgress> progress = new ArrayList<>();
        labeller.train(request.build()).forEachRemaining(progress::add);

        // First the refinement, then one message per epoch, then the labeller.
        assertThat(progress).hasSize(1 + 1 + 1);
        AnnotationRefinement refinement = progress.getFirst().getRefinement();
        assertThat(refinement.getAnnotationsList()).containsExactly(0, 2, 3);
        for (int i = 0; i < 3; i++) {
            assertThat(refinement.getErrorAfter(i))
                    .as("image annotation %d", i)
                    .isPositive()
                    .isLessThanOrEqualTo(refinement.getErrorBefore(i));
        }
        assertThat(refinement.getErrorAfterList().stream()
                        .mapToDouble(Float::doubleValue)
                        .sum())
                .as("CMA-ES found closer latents for the images")
                .isLessThan(refinement.getErrorBeforeList().stream()
                        .mapToDouble(Float::doubleValue)
                        .sum());
        assertThat(progress.subList(1, 3)).noneMatch(TrainProgress::hasRefinement);
        assertThat(progress.getLast().getLabeller().getName()).isEqualTo("refined");

        // The same training without refinement: none reported, and a labeller that learned from
        // other latents, so it answers differently.
        List<TrainProgress> plain = new ArrayList<>();
        labeller.train(request.clone().setRefineEvaluations(0).build()).forEachRemaining(plain::add);
        assertThat(plain).as("no refinement asked, none reported").noneMatch(TrainProgress::hasRefinement);
        LabelRequest.Builder probe = LabelRequest.newBuilder().setLatents(Tensors.fp32(new float[2 * 32], 2, 32));
        LabelResponse fromRefined = labeller.label(
                probe.clone().setLabeller(progress.getLast().getLabeller()).build());
        LabelResponse fromPlain = labeller.label(
                probe.clone().setLabeller(plain.getLast().getLabeller()).build());
        assertThat(fromRefined.getConfidence()).isNotEqualTo(fromPlain.getConfidence());

        Status tooMany = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> labeller.train(fromRenders("refined", 1, 1, 1)
                                        .setRefineEvaluations(Labelling.MAX_REFINE_EVALUATIONS + 1)
                                        .build())
                                .forEachRemaining(p -> {}))
                .getStatus();
        assertThat(tooMany.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(tooMany.getDescription()).startsWith("refine_evaluations: 2001");
    }

    @Test
    void shouldRegisterNothingWhenTheCallerCancelsTheTraining() throws Exception {
        Context.CancellableContext call = Context.current().withCancellation();
        Iterator<TrainProgress> stream = call.call(
                () -> labeller.train(fromRenders("abandoned", 4, 2, 20).build()));
        assertThat(stream.next().getLoss()).isPositive();
        call.cancel(null);

        // The training stops at its next mini-batch; nothing may appear, not even hidden files.
        Thread.sleep(10_000); // uncancelled, these 20 epochs would be trained and registered by then
        try (Stream<Path> files = Files.list(repository)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .noneMatch(n -> n.startsWith("abandoned"))
                    .noneMatch(n -> n.startsWith("."));
        }
    }
}
