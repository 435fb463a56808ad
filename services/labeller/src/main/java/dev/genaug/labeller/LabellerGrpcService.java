package dev.genaug.labeller;

import dev.genaug.api.labeller.v1.LabelRequest;
import dev.genaug.api.labeller.v1.LabelResponse;
import dev.genaug.api.labeller.v1.LabellerService;
import dev.genaug.api.labeller.v1.TrainProgress;
import dev.genaug.api.labeller.v1.TrainRequest;
import dev.genaug.domain.labelling.Labelling;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;

/** gRPC adapter of {@link Labelling}. */
@GrpcService
public class LabellerGrpcService implements LabellerService {
    @Inject
    Labelling labelling;

    @Override
    @Blocking
    public Multi<TrainProgress> train(TrainRequest request) {
        return Multi.createFrom().emitter(emitter -> {
            labelling.train(request);
            emitter.complete();
        });
    }

    @Override
    @Blocking
    public Uni<LabelResponse> label(LabelRequest request) {
        return Uni.createFrom().item(() -> {
            labelling.label(request);
            return LabelResponse.getDefaultInstance();
        });
    }
}
