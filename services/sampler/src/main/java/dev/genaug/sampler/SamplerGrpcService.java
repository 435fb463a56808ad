package dev.genaug.sampler;

import dev.genaug.api.sampler.v1.FitDirectionsRequest;
import dev.genaug.api.sampler.v1.FitDirectionsResponse;
import dev.genaug.api.sampler.v1.SampleRequest;
import dev.genaug.api.sampler.v1.SampleResponse;
import dev.genaug.api.sampler.v1.SamplerService;
import dev.genaug.domain.sampling.Sampling;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;

/** gRPC adapter of {@link Sampling}. */
@GrpcService
public class SamplerGrpcService implements SamplerService {
    @Inject
    Sampling sampling;

    @Override
    @Blocking
    public Uni<SampleResponse> sample(SampleRequest request) {
        return Uni.createFrom().item(() -> sampling.sample(request));
    }

    @Override
    @Blocking
    public Uni<FitDirectionsResponse> fitDirections(FitDirectionsRequest request) {
        return Uni.createFrom().item(() -> sampling.fitDirections(request));
    }
}
