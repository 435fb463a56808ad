package dev.genaug.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.inference.OnnxBackend;
import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.ReferenceModels;
import inference.GrpcPredictV2;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;

/**
 * A KServe v2 client nobody here wrote, Apache Camel's camel-kserve (tested upstream against a real
 * Triton), calling the packaged generator's endpoint over a socket. Its classes come from its own
 * copy of the protocol's proto (Java package "inference"), so this also checks wire compatibility.
 */
@QuarkusIntegrationTest
@QuarkusTestResource(KafkaTestResource.class)
@QuarkusTestResource(ReferenceModels.class)
class CamelKserveClientIT {
    @TestHTTPResource("/")
    URL root;

    @Test
    void shouldServeAThirdPartyKserveClientWhatOnnxRuntimeComputes() throws Exception {
        float[] z = GeneratorGrpcServiceTest.latents(3);
        String target = "?target=localhost:" + root.getPort();
        try (CamelContext camel = new DefaultCamelContext()) {
            camel.start();
            ProducerTemplate kserve = camel.createProducerTemplate();
            var live = kserve.requestBody(
                    "kserve:server/live" + target,
                    GrpcPredictV2.ServerLiveRequest.getDefaultInstance(),
                    GrpcPredictV2.ServerLiveResponse.class);
            assertThat(live.getLive()).isTrue();
            var ready = kserve.requestBody(
                    "kserve:model/ready" + target + "&modelName=shapes-generator",
                    GrpcPredictV2.ModelReadyRequest.getDefaultInstance(),
                    GrpcPredictV2.ModelReadyResponse.class);
            assertThat(ready.getReady()).isTrue();
            var meta = kserve.requestBody(
                    "kserve:model/metadata" + target + "&modelName=shapes-generator",
                    GrpcPredictV2.ModelMetadataRequest.getDefaultInstance(),
                    GrpcPredictV2.ModelMetadataResponse.class);
            assertThat(meta.getInputs(0).getShapeList()).containsExactly(-1L, 32L);

            GrpcPredictV2.ModelInferRequest request = GrpcPredictV2.ModelInferRequest.newBuilder()
                    .setModelName("shapes-generator")
                    .addInputs(GrpcPredictV2.ModelInferRequest.InferInputTensor.newBuilder()
                            .setName("z")
                            .setDatatype("FP32")
                            .addShape(3)
                            .addShape(32))
                    .addOutputs(GrpcPredictV2.ModelInferRequest.InferRequestedOutputTensor.newBuilder()
                            .setName("image"))
                    .addRawInputContents(ByteString.copyFrom(Tensors.littleEndian(z)))
                    .build();
            var response = kserve.requestBody(
                    "kserve:infer" + target + "&modelName=shapes-generator",
                    request,
                    GrpcPredictV2.ModelInferResponse.class);
            assertThat(response.getOutputs(0).getName()).isEqualTo("image");
            assertThat(response.getOutputs(0).getDatatype()).isEqualTo("FP32");
            assertThat(response.getOutputs(0).getShapeList()).containsExactly(3L, 3L, 64L, 64L);
            float[] got = Tensors.floatsFromLittleEndian(
                    response.getRawOutputContents(0).toByteArray());

            ModelRepository repository = ModelRepository.open(
                    Path.of(System.getProperty("genaug.root")).resolve("deploy/model-repository"));
            float[] expected;
            try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(2, false))) {
                expected = onnx.infer(
                                repository.resolve("shapes-generator", "", "model"),
                                Map.of("z", new FloatTensor(new long[] {3, 32}, z)),
                                List.of("image"))
                        .get("image")
                        .data();
            }
            assertThat(got).containsExactly(expected, within(1e-6f));
        }
    }
}
