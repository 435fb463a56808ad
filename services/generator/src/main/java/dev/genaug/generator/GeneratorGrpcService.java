package dev.genaug.generator;

import dev.genaug.api.generator.v1.GenerateRequest;
import dev.genaug.api.generator.v1.GenerateResponse;
import dev.genaug.api.generator.v1.GeneratorService;
import dev.genaug.domain.generation.Generation;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.inject.Inject;

/** gRPC adapter of {@link Generation}. */
@GrpcService
public class GeneratorGrpcService implements GeneratorService {
    @Inject
    Generation generation;

    @Inject
    MeterRegistry registry;

    @Override
    @Blocking
    public Uni<GenerateResponse> generate(GenerateRequest request) {
        return Uni.createFrom().item(() -> timed(request, () -> generation.generate(request)));
    }

    /**
     * Chunks are generated as the transport asks for them (gRPC flow control), on a worker thread;
     * a caller that cancels or misses its deadline stops the generation of further chunks.
     */
    @Override
    public Multi<GenerateResponse> generateStream(GenerateRequest request) {
        return Multi.createFrom()
                .<GenerateResponse>iterable(() -> generation.generateStream(request))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    private GenerateResponse timed(GenerateRequest request, java.util.function.Supplier<GenerateResponse> call) {
        Timer.Sample sample = Timer.start(registry);
        GenerateResponse response = call.get();
        sample.stop(Timer.builder("genaug.generate.latency")
                .description("Generate call latency per model, validation included")
                .tag("model", response.getModel().getName())
                .register(registry));
        return response;
    }
}
