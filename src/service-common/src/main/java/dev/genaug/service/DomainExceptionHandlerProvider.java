package dev.genaug.service;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.quarkus.grpc.ExceptionHandler;
import io.quarkus.grpc.ExceptionHandlerProvider;
import jakarta.enterprise.context.ApplicationScoped;

/** Makes Quarkus gRPC use {@link GrpcStatusMapper} for every service of the application. */
@ApplicationScoped
public class DomainExceptionHandlerProvider implements ExceptionHandlerProvider {

    @Override
    public <ReqT, RespT> ExceptionHandler<ReqT, RespT> createHandler(
            ServerCall.Listener<ReqT> listener, ServerCall<ReqT, RespT> call, Metadata metadata) {
        return new ExceptionHandler<>(listener, call, metadata) {
            @Override
            protected void handleException(Throwable t, ServerCall<ReqT, RespT> serverCall, Metadata trailers) {
                serverCall.close(GrpcStatusMapper.toStatus(t), trailers);
            }
        };
    }

    @Override
    public Throwable transform(Throwable t) {
        return GrpcStatusMapper.toException(t);
    }
}
