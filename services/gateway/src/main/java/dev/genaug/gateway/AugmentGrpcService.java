package dev.genaug.gateway;

import dev.genaug.api.gateway.v1.AugmentService;
import dev.genaug.api.gateway.v1.GetViewsRequest;
import dev.genaug.api.gateway.v1.ViewBatch;
import dev.genaug.domain.augment.ViewRequests;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.inject.Inject;

/** gRPC adapter of latent views. */
@GrpcService
public class AugmentGrpcService implements AugmentService {
    @Inject
    ViewRequests views;

    @Inject
    ViewServices services;

    /**
     * Batches are made as the transport asks for them (gRPC flow control), on a worker thread: a
     * slow or departed caller stops the work instead of piling up images.
     */
    @Override
    public Multi<ViewBatch> getViews(GetViewsRequest request) {
        return Multi.createFrom()
                .<ViewBatch>iterable(() -> views.views(request, services, services, services))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }
}
