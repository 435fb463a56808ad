package dev.genaug.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1alpha.ServerReflectionGrpc;
import io.grpc.reflection.v1alpha.ServerReflectionRequest;
import io.grpc.reflection.v1alpha.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.http.TestHTTPResource;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every genaug service must offer operators and tools, checked over real sockets: HTTP
 * liveness and readiness, Prometheus metrics, the standard gRPC health service, and server
 * reflection listing the service's own API. A service test class extends this and is annotated
 * {@code @QuarkusTest}.
 */
public abstract class ServiceInfrastructureContract {
    @TestHTTPResource("/")
    URL root;

    private ManagedChannel channel;

    /** Fully qualified gRPC service names the application must serve. */
    protected abstract List<String> grpcServices();

    @BeforeEach
    void connect() {
        channel = GrpcChannels.to(root);
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private HttpResponse<String> get(String path) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(
                    HttpRequest.newBuilder(URI.create(root.toString()).resolve(path))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    @Test
    void shouldReportLiveAndReadyOverHttp() throws Exception {
        HttpResponse<String> live = get("/q/health/live");
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(live.body()).contains("\"status\": \"UP\"");
        HttpResponse<String> ready = get("/q/health/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("\"status\": \"UP\"").contains("model-repository");
    }

    @Test
    void shouldExposePrometheusMetrics() throws Exception {
        HttpResponse<String> metrics = get("/q/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("# TYPE").contains("jvm_memory_used_bytes");
    }

    @Test
    void shouldAnswerGrpcHealthCheckAsServing() {
        var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
                .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void shouldListItsServicesThroughServerReflection() throws Exception {
        CompletableFuture<List<String>> names = new CompletableFuture<>();
        var reflection = ServerReflectionGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        var requests = reflection.serverReflectionInfo(new StreamObserver<ServerReflectionResponse>() {
            @Override
            public void onNext(ServerReflectionResponse r) {
                List<String> found = new ArrayList<>();
                r.getListServicesResponse().getServiceList().forEach(s -> found.add(s.getName()));
                names.complete(found);
            }

            @Override
            public void onError(Throwable t) {
                names.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        List<String> listed = names.get(10, TimeUnit.SECONDS);
        requests.onCompleted();
        assertThat(listed).containsAll(grpcServices()).contains("grpc.health.v1.Health");
    }
}
