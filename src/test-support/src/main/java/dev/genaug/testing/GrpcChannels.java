package dev.genaug.testing;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.net.URL;

/** Plaintext gRPC channels to a service under test, over a real loopback socket. */
public final class GrpcChannels {
    private GrpcChannels() {}

    /** A channel to the port of {@code httpRoot} (gRPC shares the HTTP port). */
    public static ManagedChannel to(URL httpRoot) {
        return ManagedChannelBuilder.forAddress(httpRoot.getHost(), httpRoot.getPort())
                .usePlaintext()
                .maxInboundMessageSize(64 * 1024 * 1024)
                .build();
    }
}
