package dev.genaug.sampler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.sampler.v1.PriorSampling;
import dev.genaug.api.sampler.v1.SampleRequest;
import dev.genaug.api.sampler.v1.SampleResponse;
import dev.genaug.api.sampler.v1.SamplerServiceGrpc;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.testing.GrpcChannels;
import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.ToyModelRepository;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(ToyModelRepository.class)
@QuarkusTestResource(KafkaTestResource.class)
class SamplerGrpcServiceTest {
    @TestHTTPResource("/")
    URL root;

    ManagedChannel channel;
    SamplerServiceGrpc.SamplerServiceBlockingStub sampler;

    @BeforeEach
    void connect() {
        channel = GrpcChannels.to(root);
        sampler = SamplerServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void close() {
        channel.shutdownNow();
    }

    private static SampleRequest.Builder prior(long start, int count) {
        return SampleRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName("toy-generator"))
                .setSeed(1234)
                .setStartIndex(start)
                .setCount(count)
                .setPrior(PriorSampling.newBuilder().setTruncationPsi(0.8f));
    }

    @Test
    void shouldReturnIdenticalLatentsWhateverTheRequestSplit() {
        SampleResponse whole = sampler.sample(prior(0, 10).build());
        SampleResponse head = sampler.sample(prior(0, 4).build());
        SampleResponse tail = sampler.sample(prior(4, 6).build());
        assertThat(whole.getLatents().getShapeList()).containsExactly(10L, 8L);
        float[] joined = new float[80];
        System.arraycopy(Tensors.toFloats(head.getLatents(), "h"), 0, joined, 0, 32);
        System.arraycopy(Tensors.toFloats(tail.getLatents(), "t"), 0, joined, 32, 48);
        assertThat(joined).containsExactly(Tensors.toFloats(whole.getLatents(), "w"));
        assertThat(whole.getProvenance(7).getSampleIndex()).isEqualTo(7);
        assertThat(whole.getProvenance(7).getModel()).isEqualTo("toy-generator");
        assertThat(whole.getProvenance(7).getModelVersion()).isEqualTo("2");
        assertThat(whole.getProvenance(7).getOperator()).isEqualTo("prior");
        assertThat(whole.getProvenance(7).getParametersMap()).containsEntry("truncation_psi", "0.8");
    }

    @Test
    void shouldSampleWithoutAModelWhenTheDimensionIsGiven() {
        SampleResponse r =
                sampler.sample(prior(0, 3).clearModel().setLatentDimension(5).build());
        assertThat(r.getLatents().getShapeList()).containsExactly(3L, 5L);
        assertThat(Tensors.toFloats(r.getLatents(), "l"))
                .containsExactly(dev.genaug.domain.sampling.PriorSampler.create(5, 0.8f, 0f, "")
                        .sample(1234, 0, 3));
    }

    private Status call(SampleRequest request) {
        return catchThrowableOfType(StatusRuntimeException.class, () -> sampler.sample(request))
                .getStatus();
    }

    @Test
    void shouldNameTheFieldOfEveryInvalidRequest() {
        assertThat(call(prior(0, 0).build()).getDescription()).startsWith("count:");
        assertThat(call(prior(0, 1).clearPrior().build()).getDescription()).startsWith("operator:");
        Status psi = call(prior(0, 1)
                .setPrior(PriorSampling.newBuilder().setTruncationPsi(2f))
                .build());
        assertThat(psi.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(psi.getDescription()).startsWith("prior.truncation_psi:");
        assertThat(call(prior(0, 1).setLatentDimension(3).build()).getDescription())
                .startsWith("latent_dimension:");
        assertThat(call(prior(0, 1).clearModel().build()).getDescription()).startsWith("model:");
    }

    @Test
    void shouldAnswerNotFoundAndResourceExhaustedWithReasons() {
        Status unknown = call(
                prior(0, 1).setModel(ModelRef.newBuilder().setName("missing")).build());
        assertThat(unknown.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(unknown.getDescription()).contains("'missing'");
        Status version = call(prior(0, 1)
                .setModel(ModelRef.newBuilder().setName("toy-generator").setVersion("9"))
                .build());
        assertThat(version.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        Status broken = call(
                prior(0, 1).setModel(ModelRef.newBuilder().setName("broken")).build());
        assertThat(broken.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(broken.getDescription()).contains("max_batch_sise");
        Status big = call(prior(0, 100_001).build());
        assertThat(big.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(big.getDescription()).startsWith("count:").contains("100000");
    }

    @Test
    void shouldFitPrincipalDirectionsOverGrpcAndNameBadLatents() {
        SampleResponse drawn = sampler.sample(prior(0, 200).build());
        float[] z = dev.genaug.domain.tensor.Tensors.toFloats(drawn.getLatents(), "latents");
        var request = dev.genaug.api.sampler.v1.FitDirectionsRequest.newBuilder()
                .setModel(dev.genaug.api.common.v1.ModelRef.newBuilder().setName("toy-generator"))
                .setComponents(2);
        for (int i = 0; i < 200; i++) {
            var latent = dev.genaug.api.common.v1.Latent.newBuilder();
            for (int j = 0; j < 8; j++) {
                latent.addValues(z[i * 8 + j]);
            }
            request.addLatents(latent);
        }
        var pca = sampler.fitDirections(request.build());
        assertThat(pca.getDirectionsList()).hasSize(2);
        assertThat(pca.getExplainedVarianceRatio(0)).isGreaterThanOrEqualTo(pca.getExplainedVarianceRatio(1));
        assertThat(pca.getMean().getValuesCount()).isEqualTo(8);

        request.setLatents(7, dev.genaug.api.common.v1.Latent.newBuilder().addValues(1f));
        Status bad = io.grpc.Status.fromThrowable(
                org.assertj.core.api.Assertions.catchThrowable(() -> sampler.fitDirections(request.build())));
        assertThat(bad.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(bad.getDescription()).startsWith("latents[7]: has 1 values; the latent dimension is 8");
    }
}
