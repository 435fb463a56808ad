package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.encoder.v1.EncodeRequest;
import dev.genaug.api.encoder.v1.EncoderServiceGrpc;
import dev.genaug.api.gateway.v1.AugmentServiceGrpc;
import dev.genaug.api.gateway.v1.GetViewsRequest;
import dev.genaug.api.gateway.v1.InputViews;
import dev.genaug.api.sampler.v1.NeighbourhoodShape;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.sampling.Neighbours;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.inference.OnnxBackend;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GetViews through the real services: gateway, encoder and generator in their own JVMs on the
 * reference model, called over sockets; views judged by the reference classifier in this JVM.
 */
class GetViewsIT {
    private static LocalStack stack;
    private static ManagedChannel gatewayChannel;
    private static ManagedChannel encoderChannel;
    private static AugmentServiceGrpc.AugmentServiceBlockingStub augment;

    @BeforeAll
    static void start() throws Exception {
        Path root = LocalStack.root();
        stack = LocalStack.startKafka(
                root,
                new LocalStack.Options(
                        null,
                        null,
                        root.resolve("src/cli/target/getviews-logs"),
                        0,
                        0,
                        LocalStack.Options.defaults().readyTimeout(),
                        // Small encode chunks, so that an offending image is found in a later chunk.
                        List.of("-Dgenaug.gateway.encode-chunk=100")),
                new PrintStream(OutputStream.nullOutputStream()));
        stack.start(ServiceSpec.ALL.stream()
                .filter(s ->
                        List.of("encoder", "sampler", "generator", "gateway").contains(s.name()))
                .toList());
        gatewayChannel = ManagedChannelBuilder.forAddress(
                        "localhost", stack.instance("gateway").port())
                .usePlaintext()
                .maxInboundMessageSize(64 << 20)
                .build();
        encoderChannel = ManagedChannelBuilder.forAddress(
                        "localhost", stack.instance("encoder").port())
                .usePlaintext()
                .build();
        augment = AugmentServiceGrpc.newBlockingStub(gatewayChannel).withMaxInboundMessageSize(64 << 20);
    }

    @AfterAll
    static void stop() {
        if (gatewayChannel != null) {
            gatewayChannel.shutdownNow();
            encoderChannel.shutdownNow();
        }
        if (stack != null) {
            stack.close();
        }
    }

    private static List<Image> renders(int count) {
        List<Image> images = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            images.add(Image.newBuilder()
                    .setPng(ByteString.copyFrom(
                            ImageCodec.encodePng(ShapesParts.render(2, i).rgb(), 3, 64, 64)))
                    .build());
        }
        return images;
    }

    private static GetViewsRequest.Builder request(List<Image> images, int k, float sigma) {
        return GetViewsRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName("shapes-generator"))
                .addAllImages(images)
                .setViewsPerInput(k)
                .setSigma(sigma)
                .setSeed(7);
    }

    private static List<InputViews> collect(GetViewsRequest request) {
        List<InputViews> inputs = new ArrayList<>();
        augment.getViews(request).forEachRemaining(batch -> {
            assertThat(batch.getFirstInput()).isEqualTo(inputs.size());
            inputs.addAll(batch.getInputsList());
        });
        return inputs;
    }

    @Test
    void shouldStreamKViewsPerImageDrawnAroundItsEncodingDeterministically() {
        List<Image> images = renders(20);
        GetViewsRequest req = request(images, 3, 0.5f).build();
        List<InputViews> first = collect(req);
        assertThat(first).hasSize(20);
        assertThat(collect(req)).as("the same request again").isEqualTo(first);

        float[] anchors = Tensors.toFloats(
                EncoderServiceGrpc.newBlockingStub(encoderChannel)
                        .encode(EncodeRequest.newBuilder()
                                .setModel(ModelRef.newBuilder().setName("shapes-encoder"))
                                .addAllImages(images)
                                .build())
                        .getMean(),
                "mean");
        for (int i = 0; i < 20; i++) {
            InputViews in = first.get(i);
            assertThat(in.getViewsList()).hasSize(3);
            assertThat(in.getOriginal().getPng().isEmpty()).isFalse();
            assertThat(in.getLatents().getShapeList()).containsExactly(3L, 32L);
            float[] expected = Neighbours.create(
                            Arrays.copyOfRange(anchors, i * 32, (i + 1) * 32),
                            NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_GAUSSIAN,
                            0.5f,
                            0f,
                            "")
                    .points(7, i * 3L, 3);
            assertThat(Tensors.toFloats(in.getLatents(), "latents")).containsExactly(expected);
            assertThat(in.getProvenance(2).getSampleIndex()).isEqualTo(i * 3L + 2);
            assertThat(in.getProvenance(2).getOperator()).isEqualTo("neighbours");
            assertThat(in.getProvenance(2).getParametersMap())
                    .as("the encoder version that made the anchor")
                    .containsEntry("encoder", "shapes-encoder/1");
            var view = ImageCodec.decodePng(in.getViews(0).getPng().toByteArray(), 0f, 255f, "view");
            assertThat(view.width()).isEqualTo(64);
        }
    }

    @Test
    void shouldKeepTheCategoryLessOftenAsSigmaGrows() throws Exception {
        ModelRepository repository = ModelRepository.open(LocalStack.root().resolve("deploy/model-repository"));
        ResolvedModel classifier = repository.resolve("shapes-classifier", "", "model");
        List<Image> images = renders(48);
        float[] sigmas = {0.25f, 0.75f, 1.5f, 3f};
        double[] agreement = new double[sigmas.length];
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(1, false))) {
            for (int s = 0; s < sigmas.length; s++) {
                int same = 0;
                int total = 0;
                for (InputViews in : collect(request(images, 8, sigmas[s]).build())) {
                    int original = classify(onnx, classifier, List.of(in.getOriginal()))[0];
                    for (int c : classify(onnx, classifier, in.getViewsList())) {
                        same += c == original ? 1 : 0;
                        total++;
                    }
                }
                agreement[s] = same / (double) total;
            }
        }
        System.out.printf(
                "category agreement of views with their original, sigma %s: %s%n",
                Arrays.toString(sigmas), Arrays.toString(agreement));
        // 384 views per sigma: a standard error of at most 2.6 points; steps of 5 points are real.
        for (int s = 1; s < sigmas.length; s++) {
            assertThat(agreement[s])
                    .as("agreement at sigma %s vs %s: %s", sigmas[s], sigmas[s - 1], Arrays.toString(agreement))
                    .isLessThan(agreement[s - 1] + 0.05);
        }
        // Overall it must fall by more than three standard errors of a difference (3 x 3.7 points).
        assertThat(agreement[0] - agreement[sigmas.length - 1])
                .as(Arrays.toString(agreement))
                .isGreaterThan(0.11);
    }

    private static int[] classify(OnnxBackend onnx, ResolvedModel classifier, List<Image> images) {
        int n = images.size();
        float[] x = new float[n * 3 * 64 * 64];
        for (int i = 0; i < n; i++) {
            float[] px = ImageCodec.decodePng(images.get(i).getPng().toByteArray(), -1f, 1f, "image")
                    .pixels();
            System.arraycopy(px, 0, x, i * px.length, px.length);
        }
        FloatTensor p = onnx.infer(
                        classifier,
                        Map.of("image", new FloatTensor(new long[] {n, 3, 64, 64}, x)),
                        List.of("probabilities"))
                .get("probabilities");
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < 3; c++) {
                if (p.data()[i * 3 + c] > p.data()[i * 3 + best]) {
                    best = c;
                }
            }
            out[i] = best;
        }
        return out;
    }

    @Test
    void shouldStreamPairsOfManyImagesInOrder() {
        List<InputViews> inputs = new ArrayList<>();
        int[] batches = {0};
        augment.getViews(request(renders(256), 0, 0.5f).setPairs(true).build()).forEachRemaining(batch -> {
            assertThat(batch.getFirstInput()).isEqualTo(inputs.size());
            inputs.addAll(batch.getInputsList());
            batches[0]++;
        });
        assertThat(inputs).hasSize(256);
        assertThat(batches[0])
                .as("streamed in batches of 32 inputs (64 decoded latents)")
                .isEqualTo(8);
        for (InputViews in : inputs) {
            assertThat(in.getViewsList()).hasSize(2);
            assertThat(in.hasOriginal()).isFalse();
        }
    }

    @Test
    void shouldNameTheOffendingImageAcrossEncodeChunks() {
        List<Image> images = new ArrayList<>(renders(150));
        images.set(
                130,
                Image.newBuilder().setPng(ByteString.copyFromUtf8("not a png")).build());
        Status status = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> collect(request(images, 2, 0.5f).build()))
                .getStatus();
        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription()).startsWith("images[130]");
    }

    @Test
    void shouldRejectAViewCountOfZero() {
        Status status = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> collect(request(renders(1), 0, 0.5f).build()))
                .getStatus();
        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription()).startsWith("views_per_input");
    }

    private static com.fasterxml.jackson.databind.JsonNode python(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                "/usr/bin/python3",
                LocalStack.root().resolve("src/clients/python/getviews.py").toString(),
                "--target",
                "localhost:" + stack.instance("gateway").port()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor())
                .as(
                        "the Python client needs Debian's python3-grpcio, python3-protobuf and protobuf-compiler"
                                + " (.ci/run installs them):%n%s",
                        output)
                .isZero();
        return new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(output.lines().reduce((a, b) -> b).orElse(""));
    }

    @Test
    void shouldServeAPythonClientNobodyHereWroteTheSameViewsAsThisOne() throws Exception {
        var result = python("--inputs", "5", "--views", "3", "--sigma", "0.4", "--seed", "11");
        assertThat(result.get("code").asText()).isEqualTo("OK");
        assertThat(result.get("inputs").asInt()).isEqualTo(5);
        assertThat(result.get("png_signatures_ok").asBoolean()).isTrue();
        assertThat(result.get("latents_shape").toString()).isEqualTo("[3,32]");
        GetViewsRequest sent = GetViewsRequest.parseFrom(java.util.Base64.getDecoder()
                .decode(result.get("request_base64").asText()));
        List<String> here = new ArrayList<>();
        for (InputViews in : collect(sent)) {
            for (Image view : in.getViewsList()) {
                here.add(java.util.HexFormat.of()
                        .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                                .digest(view.getPng().toByteArray())));
            }
        }
        List<String> there = new ArrayList<>();
        result.get("view_sha256").forEach(n -> there.add(n.asText()));
        assertThat(there).hasSize(15).containsExactlyElementsOf(here);

        var refused = python("--views", "0");
        assertThat(refused.get("code").asText()).isEqualTo("INVALID_ARGUMENT");
        assertThat(refused.get("details").asText()).startsWith("views_per_input");
    }

    @Test
    void shouldSampleWithMagnetOverGrpcWhateverTheSplit() {
        ManagedChannel channel = ManagedChannelBuilder.forAddress(
                        "localhost", stack.instance("sampler").port())
                .usePlaintext()
                .build();
        try {
            var sampler = dev.genaug.api.sampler.v1.SamplerServiceGrpc.newBlockingStub(channel);
            var request = dev.genaug.api.sampler.v1.SampleRequest.newBuilder()
                    .setModel(ModelRef.newBuilder().setName("shapes-generator"))
                    .setSeed(5)
                    .setCount(20)
                    .setMagnet(dev.genaug.api.sampler.v1.MagnetSampling.newBuilder()
                            .setPoolSize(64)
                            .setTopK(8));
            var whole = sampler.sample(request.build());
            var tail = sampler.sample(request.setStartIndex(12).setCount(8).build());
            float[] all = Tensors.toFloats(whole.getLatents(), "latents");
            assertThat(Tensors.toFloats(tail.getLatents(), "latents"))
                    .containsExactly(Arrays.copyOfRange(all, 12 * 32, 20 * 32));
            assertThat(whole.getProvenance(0).getOperator()).isEqualTo("magnet");
            assertThat(whole.getProvenance(0).getParametersMap()).containsEntry("pool_size", "64");
            Status tooBig = catchThrowableOfType(
                            StatusRuntimeException.class,
                            () -> sampler.sample(request.setMagnet(dev.genaug.api.sampler.v1.MagnetSampling.newBuilder()
                                            .setPoolSize(1_000_000))
                                    .build()))
                    .getStatus();
            assertThat(tooBig.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(tooBig.getDescription()).startsWith("magnet.pool_size:");
            var onFeatures = sampler.sample(request.setStartIndex(0)
                    .setCount(20)
                    .setMagnet(dev.genaug.api.sampler.v1.MagnetSampling.newBuilder()
                            .setPoolSize(64)
                            .setTopK(8)
                            .setManifold("feat_8"))
                    .build());
            assertThat(onFeatures.getProvenance(0).getParametersMap()).containsEntry("manifold", "feat_8");
            assertThat(whole.getProvenance(0).getParametersMap()).containsEntry("manifold", "image");
            Status unknown = catchThrowableOfType(
                            StatusRuntimeException.class,
                            () -> sampler.sample(request.setMagnet(dev.genaug.api.sampler.v1.MagnetSampling.newBuilder()
                                            .setPoolSize(64)
                                            .setManifold("feat_5"))
                                    .build()))
                    .getStatus();
            assertThat(unknown.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(unknown.getDescription()).startsWith("magnet.manifold:");
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void shouldDrawNeighboursAtTheCalibratedSigmaOfTheAnchorsClass() throws Exception {
        var calibration = dev.genaug.domain.sampling.Calibrations.read(
                ModelRepository.open(LocalStack.root().resolve("deploy/model-repository"))
                        .resolve("shapes-generator", "", "model"));
        ManagedChannel channel = ManagedChannelBuilder.forAddress(
                        "localhost", stack.instance("sampler").port())
                .usePlaintext()
                .build();
        try {
            var sampler = dev.genaug.api.sampler.v1.SamplerServiceGrpc.newBlockingStub(channel);
            float[] anchor = Tensors.toFloats(
                    EncoderServiceGrpc.newBlockingStub(encoderChannel)
                            .encode(EncodeRequest.newBuilder()
                                    .setModel(ModelRef.newBuilder().setName("shapes-encoder"))
                                    .addAllImages(renders(1))
                                    .build())
                            .getMean(),
                    "mean");
            var latent = dev.genaug.api.common.v1.Latent.newBuilder();
            for (float v : anchor) {
                latent.addValues(v);
            }
            var request = dev.genaug.api.sampler.v1.SampleRequest.newBuilder()
                    .setModel(ModelRef.newBuilder().setName("shapes-generator"))
                    .setCount(4)
                    .setNeighbours(dev.genaug.api.sampler.v1.Neighbours.newBuilder()
                            .setAnchor(latent)
                            .setCalibrated(true));
            var views = sampler.sample(request.build());
            float sigma =
                    Float.parseFloat(views.getProvenance(0).getParametersMap().get("sigma"));
            assertThat(calibration.getClassesList())
                    .extracting(c -> (float) c.getSigma())
                    .contains(sigma);

            Status both = catchThrowableOfType(
                            StatusRuntimeException.class,
                            () -> sampler.sample(request.setNeighbours(
                                            request.getNeighbours().toBuilder().setSigma(1f))
                                    .build()))
                    .getStatus();
            assertThat(both.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(both.getDescription()).startsWith("neighbours.sigma: must be 0 when neighbours.calibrated");
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void shouldUseTheCalibratedRadiusOfEachInputsClassInGetViews() {
        List<InputViews> inputs =
                collect(request(renders(4), 2, 0f).setCalibratedSigma(true).build());
        assertThat(inputs).hasSize(4);
        for (InputViews in : inputs) {
            String sigma = in.getProvenance(0).getParametersMap().get("sigma");
            assertThat(Float.parseFloat(sigma)).isGreaterThan(0f);
        }
        Status both = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> collect(request(renders(1), 2, 0.5f)
                                .setCalibratedSigma(true)
                                .build()))
                .getStatus();
        assertThat(both.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(both.getDescription()).startsWith("sigma: must be 0 when calibrated_sigma is set");
    }

    @Test
    void shouldRefineTheInversionWithinTheBudgetAndReportTheErrors() {
        var encoder = EncoderServiceGrpc.newBlockingStub(encoderChannel);
        EncodeRequest request = EncodeRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName("shapes-encoder"))
                .addAllImages(renders(3))
                .setRefineEvaluations(120)
                .build();
        var refined = encoder.encode(request);
        assertThat(refined.getRefined().getShapeList()).containsExactly(3L, 32L);
        assertThat(refined.getErrorBeforeList()).hasSize(3);
        double before = 0;
        double after = 0;
        for (int i = 0; i < 3; i++) {
            assertThat(refined.getErrorAfter(i)).isLessThanOrEqualTo(refined.getErrorBefore(i));
            before += refined.getErrorBefore(i);
            after += refined.getErrorAfter(i);
        }
        assertThat(after).as("120 evaluations improve the reconstruction").isLessThan(before);
        System.out.printf(
                "refinement, 120 evaluations: MSE %s -> %s%n",
                refined.getErrorBeforeList(), refined.getErrorAfterList());
        assertThat(encoder.encode(request).getRefined()).as("deterministic").isEqualTo(refined.getRefined());
        Status tooMany = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> encoder.encode(request.toBuilder()
                                .setRefineEvaluations(1_000_000)
                                .build()))
                .getStatus();
        assertThat(tooMany.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(tooMany.getDescription()).startsWith("refine_evaluations:");
    }
}
