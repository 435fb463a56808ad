package dev.genaug.generator;

import dev.genaug.api.generator.v1.GenerateRequest;
import dev.genaug.api.generator.v1.GenerateResponse;
import dev.genaug.api.generator.v1.GeneratorService;
import dev.genaug.domain.generation.Generation;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;

/** gRPC adapter of {@link Generation}. */
@GrpcService
public class GeneratorGrpcService implements GeneratorService {
    @Inject
    Generation generation;

    @Override
    @Blocking
    public Uni<GenerateResponse> generate(GenerateRequest request) {
        return Uni.createFrom().item(() -> generation.generate(request));
    }

    @Override
    @Blocking
    public Multi<GenerateResponse> generateStream(GenerateRequest request) {
        return Multi.createFrom().item(() -> generation.generateStream(request));
    }
}
