package dev.genaug.gateway;

import dev.genaug.api.gateway.v1.AugmentService;
import dev.genaug.api.gateway.v1.GetViewsRequest;
import dev.genaug.api.gateway.v1.ViewBatch;
import dev.genaug.domain.augment.ViewRequests;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import jakarta.inject.Inject;

/** gRPC adapter of latent views. */
@GrpcService
public class AugmentGrpcService implements AugmentService {
    @Inject
    ViewRequests views;

    @Override
    public Multi<ViewBatch> getViews(GetViewsRequest request) {
        return Multi.createFrom().emitter(emitter -> {
            views.getViews(request);
            emitter.complete();
        });
    }
}
