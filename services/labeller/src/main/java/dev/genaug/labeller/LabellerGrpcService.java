package dev.genaug.labeller;

import dev.genaug.api.labeller.v1.AnnotationRefinement;
import dev.genaug.api.labeller.v1.LabelRequest;
import dev.genaug.api.labeller.v1.LabelResponse;
import dev.genaug.api.labeller.v1.LabellerService;
import dev.genaug.api.labeller.v1.TrainProgress;
import dev.genaug.api.labeller.v1.TrainRequest;
import dev.genaug.domain.labelling.Labelling;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.service.GrpcStatusMapper;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.inject.Inject;
import java.util.concurrent.atomic.AtomicBoolean;

/** gRPC adapter of {@link Labelling}. */
@GrpcService
public class LabellerGrpcService implements LabellerService {
    @Inject
    Labelling labelling;

    /**
     * Validates first (so a bad request fails before anything runs), then trains on a worker
     * thread, streaming one message per member epoch; a caller that goes away cancels the training.
     */
    @Override
    public Multi<TrainProgress> train(TrainRequest request) {
        return Multi.createFrom()
                .<TrainProgress>emitter(emitter -> {
                    AtomicBoolean gone = new AtomicBoolean();
                    emitter.onTermination(() -> gone.set(true));
                    try {
                        ResolvedModel labeller = labelling.train(
                                request,
                                new Labelling.TrainListener() {
                                    @Override
                                    public void epoch(int member, int epoch, double loss) {
                                        emitter.emit(TrainProgress.newBuilder()
                                                .setMember(member)
                                                .setEpoch(epoch)
                                                .setLoss(loss)
                                                .build());
                                    }

                                    @Override
                                    public void refined(AnnotationRefinement refinement) {
                                        emitter.emit(TrainProgress.newBuilder()
                                                .setRefinement(refinement)
                                                .build());
                                    }
                                },
                                gone::get);
                        emitter.emit(TrainProgress.newBuilder()
                                .setLabeller(labeller.ref())
                                .build());
                        emitter.complete();
                    } catch (RuntimeException e) {
                        emitter.fail(GrpcStatusMapper.toException(e));
                    }
                })
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    @Override
    @Blocking
    public Uni<LabelResponse> label(LabelRequest request) {
        // Mapped here as well as by the application's handler: a handler registered by an earlier
        // instance of the application in the same JVM (Quarkus tests restart it) would not
        // recognise this instance's exception classes.
        return Uni.createFrom()
                .item(() -> labelling.label(request))
                .onFailure()
                .transform(GrpcStatusMapper::toException);
    }
}
