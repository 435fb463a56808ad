package dev.genaug.encoder;

import dev.genaug.api.encoder.v1.EncodeRequest;
import dev.genaug.api.encoder.v1.EncodeResponse;
import dev.genaug.api.encoder.v1.EncoderService;
import dev.genaug.domain.encoding.Encoding;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;

/** gRPC adapter of {@link Encoding}. */
@GrpcService
public class EncoderGrpcService implements EncoderService {
    @Inject
    Encoding encoding;

    @Override
    @Blocking
    public Uni<EncodeResponse> encode(EncodeRequest request) {
        return Uni.createFrom().item(() -> encoding.encode(request));
    }
}
