package dev.genaug.gateway;

import dev.genaug.api.common.v1.Image;
import dev.genaug.api.common.v1.Latent;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.encoder.v1.EncodeRequest;
import dev.genaug.api.encoder.v1.EncoderServiceGrpc;
import dev.genaug.api.generator.v1.GenerateRequest;
import dev.genaug.api.generator.v1.GeneratorServiceGrpc;
import dev.genaug.api.generator.v1.ImageEncoding;
import dev.genaug.api.sampler.v1.Neighbours;
import dev.genaug.api.sampler.v1.SampleRequest;
import dev.genaug.api.sampler.v1.SamplerServiceGrpc;
import dev.genaug.domain.augment.ViewRequests;
import dev.genaug.domain.error.UnavailableException;
import dev.genaug.domain.tensor.Tensors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The encoder and generator services, over gRPC, as the ports latent views need. */
@ApplicationScoped
public class ViewServices
        implements ViewRequests.LatentEncoder, ViewRequests.ImageDecoder, ViewRequests.CalibratedRadius {
    private static final Pattern IMAGE_FIELD = Pattern.compile("^images\\[(\\d+)](.*)$", Pattern.DOTALL);

    @GrpcClient("encoder")
    EncoderServiceGrpc.EncoderServiceBlockingStub encoder;

    @GrpcClient("generator")
    GeneratorServiceGrpc.GeneratorServiceBlockingStub generator;

    @GrpcClient("sampler")
    SamplerServiceGrpc.SamplerServiceBlockingStub sampler;

    @Inject
    GatewayConfig config;

    @Override
    public float sigma(ModelRef model, float[] anchor) {
        Latent.Builder latent = Latent.newBuilder();
        for (float v : anchor) {
            latent.addValues(v);
        }
        try {
            var drawn = sampler.withDeadlineAfter(config.callDeadline().toMillis(), TimeUnit.MILLISECONDS)
                    .sample(SampleRequest.newBuilder()
                            .setModel(model)
                            .setCount(1)
                            .setNeighbours(
                                    Neighbours.newBuilder().setAnchor(latent).setCalibrated(true))
                            .build());
            return Float.parseFloat(drawn.getProvenance(0).getParametersMap().get("sigma"));
        } catch (StatusRuntimeException e) {
            throw translate(e, "sampler", 0);
        }
    }

    @Override
    public float[] encode(ModelRef model, List<Image> images) {
        int chunk = config.encodeChunk();
        List<float[]> parts = new ArrayList<>();
        int total = 0;
        for (int start = 0; start < images.size(); start += chunk) {
            List<Image> part = images.subList(start, Math.min(images.size(), start + chunk));
            float[] means;
            try {
                means = Tensors.toFloats(
                        encoder.withDeadlineAfter(config.callDeadline().toMillis(), TimeUnit.MILLISECONDS)
                                .encode(EncodeRequest.newBuilder()
                                        .setModel(model)
                                        .addAllImages(part)
                                        .build())
                                .getMean(),
                        "mean");
            } catch (StatusRuntimeException e) {
                throw translate(e, "encoder", start);
            }
            parts.add(means);
            total += means.length;
        }
        float[] all = new float[total];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    @Override
    public List<Image> decode(ModelRef model, float[] latents, int rows, int dimension) {
        try {
            return generator
                    .withDeadlineAfter(config.callDeadline().toMillis(), TimeUnit.MILLISECONDS)
                    .generate(GenerateRequest.newBuilder()
                            .setModel(model)
                            .setLatents(Tensors.fp32(latents, rows, dimension))
                            .setImageEncoding(ImageEncoding.IMAGE_ENCODING_PNG)
                            .build())
                    .getImagesList();
        } catch (StatusRuntimeException e) {
            throw translate(e, "generator", 0);
        }
    }

    /**
     * A failure of a service behind the gateway, as the GetViews caller should see it: the index of
     * an offending image counted in the caller's request, and the service named when it is down.
     */
    private static RuntimeException translate(StatusRuntimeException e, String service, int offset) {
        Status status = e.getStatus();
        String description = status.getDescription() == null ? "" : status.getDescription();
        switch (status.getCode()) {
            case UNAVAILABLE, DEADLINE_EXCEEDED -> {
                return new UnavailableException(
                        "the " + service + " service did not answer (" + status.getCode() + "): " + description, e);
            }
            case INVALID_ARGUMENT -> {
                Matcher m = IMAGE_FIELD.matcher(description);
                if (m.matches()) {
                    return status.withDescription(
                                    "images[" + (Integer.parseInt(m.group(1)) + offset) + "]" + m.group(2))
                            .asRuntimeException();
                }
                return e;
            }
            default -> {
                return e;
            }
        }
    }
}
