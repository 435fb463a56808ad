package dev.genaug.generator;

import dev.genaug.api.inference.GRPCInferenceService;
import dev.genaug.api.inference.ModelConfigRequest;
import dev.genaug.api.inference.ModelConfigResponse;
import dev.genaug.api.inference.ModelInferRequest;
import dev.genaug.api.inference.ModelInferResponse;
import dev.genaug.api.inference.ModelMetadataRequest;
import dev.genaug.api.inference.ModelMetadataResponse;
import dev.genaug.api.inference.ModelReadyRequest;
import dev.genaug.api.inference.ModelReadyResponse;
import dev.genaug.api.inference.ModelStreamInferResponse;
import dev.genaug.api.inference.RepositoryIndexRequest;
import dev.genaug.api.inference.RepositoryIndexResponse;
import dev.genaug.api.inference.RepositoryModelLoadRequest;
import dev.genaug.api.inference.RepositoryModelLoadResponse;
import dev.genaug.api.inference.RepositoryModelUnloadRequest;
import dev.genaug.api.inference.RepositoryModelUnloadResponse;
import dev.genaug.api.inference.ServerLiveRequest;
import dev.genaug.api.inference.ServerLiveResponse;
import dev.genaug.api.inference.ServerMetadataRequest;
import dev.genaug.api.inference.ServerMetadataResponse;
import dev.genaug.api.inference.ServerReadyRequest;
import dev.genaug.api.inference.ServerReadyResponse;
import dev.genaug.domain.error.CapabilityMissingException;
import dev.genaug.domain.kserve.KserveServer;
import dev.genaug.service.GrpcStatusMapper;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.inject.Inject;

/**
 * The KServe v2 (Triton) inference protocol on the generator's port: Triton clients can use the
 * embedded ONNX Runtime default as if it were a Triton server.
 */
@GrpcService
public class KserveGrpcService implements GRPCInferenceService {
    @Inject
    KserveServer server;

    @Override
    public Uni<ServerLiveResponse> serverLive(ServerLiveRequest request) {
        return Uni.createFrom()
                .item(ServerLiveResponse.newBuilder().setLive(true).build());
    }

    @Override
    public Uni<ServerReadyResponse> serverReady(ServerReadyRequest request) {
        return Uni.createFrom()
                .item(ServerReadyResponse.newBuilder().setReady(true).build());
    }

    @Override
    public Uni<ServerMetadataResponse> serverMetadata(ServerMetadataRequest request) {
        return Uni.createFrom()
                .item(ServerMetadataResponse.newBuilder()
                        .setName("genaug")
                        .setVersion("0.1.0")
                        .build());
    }

    @Override
    public Uni<ModelReadyResponse> modelReady(ModelReadyRequest request) {
        return Uni.createFrom().item(() -> server.modelReady(request.getName(), request.getVersion()));
    }

    @Override
    public Uni<ModelMetadataResponse> modelMetadata(ModelMetadataRequest request) {
        return Uni.createFrom().item(() -> server.modelMetadata(request.getName(), request.getVersion()));
    }

    @Override
    public Uni<ModelConfigResponse> modelConfig(ModelConfigRequest request) {
        return Uni.createFrom().item(() -> server.modelConfig(request.getName(), request.getVersion()));
    }

    @Override
    public Uni<RepositoryIndexResponse> repositoryIndex(RepositoryIndexRequest request) {
        return Uni.createFrom().item(() -> server.repositoryIndex(request.getReady()));
    }

    @Override
    @Blocking
    public Uni<ModelInferResponse> modelInfer(ModelInferRequest request) {
        return Uni.createFrom().item(() -> server.modelInfer(request));
    }

    /** Each request answered in order; a failed request is reported in error_message, as Triton does. */
    @Override
    public Multi<ModelStreamInferResponse> modelStreamInfer(Multi<ModelInferRequest> requests) {
        return requests.emitOn(Infrastructure.getDefaultWorkerPool()).map(r -> {
            try {
                return ModelStreamInferResponse.newBuilder()
                        .setInferResponse(server.modelInfer(r))
                        .build();
            } catch (RuntimeException e) {
                var status = GrpcStatusMapper.toStatus(e);
                return ModelStreamInferResponse.newBuilder()
                        .setErrorMessage(status.getCode() + ": " + status.getDescription())
                        .build();
            }
        });
    }

    @Override
    public Uni<RepositoryModelLoadResponse> repositoryModelLoad(RepositoryModelLoadRequest request) {
        return Uni.createFrom()
                .failure(new CapabilityMissingException("RepositoryModelLoad: this endpoint serves "
                        + "the model repository as read at start-up; restart the generator to load new models"));
    }

    @Override
    public Uni<RepositoryModelUnloadResponse> repositoryModelUnload(RepositoryModelUnloadRequest request) {
        return Uni.createFrom()
                .failure(new CapabilityMissingException(
                        "RepositoryModelUnload: this endpoint serves " + "the model repository as read at start-up"));
    }
}
