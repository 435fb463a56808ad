package dev.genaug.cli;

import com.google.protobuf.ByteString;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.gateway.v1.AugmentServiceGrpc;
import dev.genaug.api.gateway.v1.GetViewsRequest;
import dev.genaug.api.gateway.v1.InputViews;
import dev.genaug.api.sampler.v1.NeighbourhoodShape;
import dev.genaug.domain.augment.ViewRequests;
import dev.genaug.domain.dataset.PreviewGrid;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.tensor.ImageCodec;
import io.grpc.StatusRuntimeException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genaug views}: latent views of images through the gateway's GetViews, as a training loop
 * would ask for them; writes every view and a grid (one row per input: its reconstruction, then
 * its views).
 */
@Command(
        name = "views",
        mixinStandardHelpOptions = true,
        description = "Latent views of images (renders of the reference dataset, or --images DIR) via GetViews.")
final class ViewsCommand implements Callable<Integer> {
    enum Op {
        neighbours,
        ball
    }

    @Option(names = "--count", defaultValue = "8", description = "Inputs (default ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--k", defaultValue = "6", description = "Views per input (default ${DEFAULT-VALUE}).")
    int k;

    @Option(
            names = "--op",
            defaultValue = "neighbours",
            description = "neighbours (Gaussian) or ball (uniform in a ball) (default ${DEFAULT-VALUE}).")
    Op op;

    @Option(
            names = "--sigma",
            defaultValue = "0.5",
            description = "Standard deviation, or ball radius, in latent units (default ${DEFAULT-VALUE}).")
    float sigma;

    @Option(
            names = "--calibrated",
            description = "Use each input's calibrated radius (genaug calibrate) instead of --sigma.")
    boolean calibrated;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the views (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, description = "Output folder (views/ and grid.png).")
    Path out;

    @Option(names = "--images", description = "Folder of PNG images to use instead of renders.")
    Path images;

    @Option(
            names = "--render-seed",
            defaultValue = "2",
            description = "Seed of the renders used as inputs (default ${DEFAULT-VALUE}: the held-out set).")
    long renderSeed;

    @Option(names = "--model", defaultValue = "shapes-generator", description = "Generator (default ${DEFAULT-VALUE}).")
    String model;

    @Option(
            names = "--model-version",
            defaultValue = "",
            description = "Generator version (default: the latest); images are encoded by the encoder version"
                    + " exported with it.")
    String modelVersion;

    @Option(
            names = "--gateway",
            defaultValue = "localhost:8080",
            description = "Gateway of a running stack (default ${DEFAULT-VALUE}); when none answers, the embedded"
                    + " stack is started for this command.")
    String gateway;

    @Option(
            names = "--models",
            description = "Model repository of the embedded stack (default: deploy/model-repository).")
    Path models;

    private final PrintStream log = System.err;

    @Override
    public Integer call() throws Exception {
        List<Image> inputs = inputs();
        if (inputs.isEmpty()) {
            log.println("genaug views: no inputs");
            return 2;
        }
        GetViewsRequest request = GetViewsRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName(model).setVersion(modelVersion))
                .addAllImages(inputs)
                .setViewsPerInput(k)
                .setSigma(calibrated ? 0f : sigma)
                .setCalibratedSigma(calibrated)
                .setSeed(seed)
                .setShape(
                        op == Op.ball
                                ? NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_BALL
                                : NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_GAUSSIAN)
                .build();
        Path views = Files.createDirectories(out.resolve("views"));
        List<byte[]> grid = new ArrayList<>();
        String[] used = {""};
        try (StackConnection stack = StackConnection.open(
                gateway, List.of("encoder", "sampler", "generator", "gateway"), models, "views", log)) {
            var augment = AugmentServiceGrpc.newBlockingStub(stack.channel()).withMaxInboundMessageSize(256 << 20);
            int[] index = {0};
            augment.getViews(request).forEachRemaining(batch -> {
                for (InputViews in : batch.getInputsList()) {
                    if (index[0] == 0 && in.getProvenanceCount() > 0) {
                        var p = in.getProvenance(0);
                        used[0] = p.getModel() + " version " + p.getModelVersion() + ", anchors encoded by "
                                + p.getParametersOrDefault(ViewRequests.ENCODER_PARAMETER, "?");
                    }
                    int i = index[0]++;
                    grid.add(inputs.get(i).getPng().toByteArray());
                    grid.add(in.getOriginal().getPng().toByteArray());
                    for (int v = 0; v < in.getViewsCount(); v++) {
                        byte[] png = in.getViews(v).getPng().toByteArray();
                        grid.add(png);
                        write(views.resolve(String.format("%04d-%02d.png", i, v)), png);
                    }
                }
            });
        } catch (StatusRuntimeException e) {
            log.printf(
                    "genaug views: refused (%s): %s%n",
                    e.getStatus().getCode(), e.getStatus().getDescription());
            return 2;
        }
        Path gridFile = out.resolve("grid.png");
        write(gridFile, PreviewGrid.of(grid, k + 2));
        System.out.printf(
                "%d inputs x %d views (%s, sigma %s, seed %d) of %s%n  views %s%n  grid  %s (rows: input,"
                        + " reconstruction, views)%n",
                inputs.size(), k, op, calibrated ? "calibrated" : sigma, seed, used[0], views, gridFile);
        return 0;
    }

    private List<Image> inputs() throws Exception {
        List<Image> list = new ArrayList<>();
        if (images == null) {
            for (int i = 0; i < count; i++) {
                byte[] png = ImageCodec.encodePng(
                        ShapesParts.render(renderSeed, i).rgb(), 3, ShapesParts.SIZE, ShapesParts.SIZE);
                list.add(Image.newBuilder().setPng(ByteString.copyFrom(png)).build());
            }
            return list;
        }
        try (Stream<Path> files = Files.list(images)) {
            for (Path p : files.filter(
                            f -> f.getFileName().toString().toLowerCase().endsWith(".png"))
                    .sorted()
                    .limit(count)
                    .toList()) {
                list.add(Image.newBuilder()
                        .setPng(ByteString.copyFrom(Files.readAllBytes(p)))
                        .build());
            }
        }
        return list;
    }

    private static void write(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
