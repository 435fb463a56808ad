package dev.genaug.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import dev.genaug.api.inference.GrpcServiceProto;
import dev.genaug.api.inference.ModelConfigProto;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Our KServe v2 proto against the protocol facts (shared/brief/kserve-v2.md): the wire is
 * defined by package, service and method names and by field numbers and types, so each is pinned.
 */
class KserveProtoFactsTest {
    private static final FileDescriptor SERVICE = GrpcServiceProto.getDescriptor();
    private static final FileDescriptor CONFIG = ModelConfigProto.getDescriptor();

    @Test
    void shouldDeclareTritonsPackageServiceAndMethods() {
        assertThat(SERVICE.getPackage()).isEqualTo("inference");
        ServiceDescriptor service = SERVICE.findServiceByName("GRPCInferenceService");
        assertThat(service.getFullName()).isEqualTo("inference.GRPCInferenceService");
        for (String method : Arrays.asList(
                "ServerLive",
                "ServerReady",
                "ModelReady",
                "ServerMetadata",
                "ModelMetadata",
                "ModelInfer",
                "ModelStreamInfer",
                "ModelConfig",
                "RepositoryIndex",
                "RepositoryModelLoad",
                "RepositoryModelUnload")) {
            assertThat(service.findMethodByName(method)).as(method).isNotNull();
        }
        var stream = service.findMethodByName("ModelStreamInfer");
        assertThat(stream.isClientStreaming()).isTrue();
        assertThat(stream.isServerStreaming()).isTrue();
        assertThat(stream.getOutputType().getName()).isEqualTo("ModelStreamInferResponse");
    }

    @ParameterizedTest(name = "{0}.{1} = {2}")
    @CsvSource({
        "ServerLiveResponse, live, 1, BOOL",
        "ServerReadyResponse, ready, 1, BOOL",
        "ModelReadyRequest, name, 1, STRING",
        "ModelReadyRequest, version, 2, STRING",
        "ModelReadyResponse, ready, 1, BOOL",
        "ServerMetadataResponse, name, 1, STRING",
        "ServerMetadataResponse, version, 2, STRING",
        "ServerMetadataResponse, extensions, 3, STRING",
        "ModelMetadataRequest, name, 1, STRING",
        "ModelMetadataRequest, version, 2, STRING",
        "ModelMetadataResponse, name, 1, STRING",
        "ModelMetadataResponse, versions, 2, STRING",
        "ModelMetadataResponse, platform, 3, STRING",
        "ModelMetadataResponse, inputs, 4, MESSAGE",
        "ModelMetadataResponse, outputs, 5, MESSAGE",
        "ModelMetadataResponse.TensorMetadata, name, 1, STRING",
        "ModelMetadataResponse.TensorMetadata, datatype, 2, STRING",
        "ModelMetadataResponse.TensorMetadata, shape, 3, INT64",
        "InferParameter, bool_param, 1, BOOL",
        "InferParameter, int64_param, 2, INT64",
        "InferParameter, string_param, 3, STRING",
        "InferParameter, double_param, 4, DOUBLE",
        "InferParameter, uint64_param, 5, UINT64",
        "InferTensorContents, bool_contents, 1, BOOL",
        "InferTensorContents, int_contents, 2, INT32",
        "InferTensorContents, int64_contents, 3, INT64",
        "InferTensorContents, uint_contents, 4, UINT32",
        "InferTensorContents, uint64_contents, 5, UINT64",
        "InferTensorContents, fp32_contents, 6, FLOAT",
        "InferTensorContents, fp64_contents, 7, DOUBLE",
        "InferTensorContents, bytes_contents, 8, BYTES",
        "ModelInferRequest, model_name, 1, STRING",
        "ModelInferRequest, model_version, 2, STRING",
        "ModelInferRequest, id, 3, STRING",
        "ModelInferRequest, parameters, 4, MESSAGE",
        "ModelInferRequest, inputs, 5, MESSAGE",
        "ModelInferRequest, outputs, 6, MESSAGE",
        "ModelInferRequest, raw_input_contents, 7, BYTES",
        "ModelInferRequest.InferInputTensor, name, 1, STRING",
        "ModelInferRequest.InferInputTensor, datatype, 2, STRING",
        "ModelInferRequest.InferInputTensor, shape, 3, INT64",
        "ModelInferRequest.InferInputTensor, parameters, 4, MESSAGE",
        "ModelInferRequest.InferInputTensor, contents, 5, MESSAGE",
        "ModelInferRequest.InferRequestedOutputTensor, name, 1, STRING",
        "ModelInferRequest.InferRequestedOutputTensor, parameters, 2, MESSAGE",
        "ModelInferResponse, model_name, 1, STRING",
        "ModelInferResponse, model_version, 2, STRING",
        "ModelInferResponse, id, 3, STRING",
        "ModelInferResponse, parameters, 4, MESSAGE",
        "ModelInferResponse, outputs, 5, MESSAGE",
        "ModelInferResponse, raw_output_contents, 6, BYTES",
        "ModelInferResponse.InferOutputTensor, name, 1, STRING",
        "ModelInferResponse.InferOutputTensor, datatype, 2, STRING",
        "ModelInferResponse.InferOutputTensor, shape, 3, INT64",
        "ModelInferResponse.InferOutputTensor, parameters, 4, MESSAGE",
        "ModelInferResponse.InferOutputTensor, contents, 5, MESSAGE",
        "ModelStreamInferResponse, error_message, 1, STRING",
        "ModelStreamInferResponse, infer_response, 2, MESSAGE",
        "ModelConfigRequest, name, 1, STRING",
        "ModelConfigRequest, version, 2, STRING",
        "ModelConfigResponse, config, 1, MESSAGE",
        "RepositoryIndexRequest, repository_name, 1, STRING",
        "RepositoryIndexRequest, ready, 2, BOOL",
        "RepositoryIndexResponse, models, 1, MESSAGE",
        "RepositoryIndexResponse.ModelIndex, name, 1, STRING",
        "RepositoryIndexResponse.ModelIndex, version, 2, STRING",
        "RepositoryIndexResponse.ModelIndex, state, 3, STRING",
        "RepositoryIndexResponse.ModelIndex, reason, 4, STRING",
        "RepositoryModelLoadRequest, repository_name, 1, STRING",
        "RepositoryModelLoadRequest, model_name, 2, STRING",
        "RepositoryModelLoadRequest, parameters, 3, MESSAGE",
        "ModelRepositoryParameter, bool_param, 1, BOOL",
        "ModelRepositoryParameter, int64_param, 2, INT64",
        "ModelRepositoryParameter, string_param, 3, STRING",
        "ModelRepositoryParameter, bytes_param, 4, BYTES",
        "RepositoryModelUnloadRequest, repository_name, 1, STRING",
        "RepositoryModelUnloadRequest, model_name, 2, STRING",
        "RepositoryModelUnloadRequest, parameters, 3, MESSAGE",
        "ModelConfig, name, 1, STRING",
        "ModelConfig, platform, 2, STRING",
        "ModelConfig, max_batch_size, 4, INT32",
        "ModelConfig, input, 5, MESSAGE",
        "ModelConfig, output, 6, MESSAGE",
        "ModelConfig, instance_group, 7, MESSAGE",
        "ModelConfig, dynamic_batching, 11, MESSAGE",
        "ModelConfig, parameters, 14, MESSAGE",
        "ModelConfig, ensemble_scheduling, 15, MESSAGE",
        "ModelConfig, backend, 17, STRING",
        "ModelConfig, model_transaction_policy, 19, MESSAGE",
        "ModelInput, name, 1, STRING",
        "ModelInput, data_type, 2, ENUM",
        "ModelInput, format, 3, ENUM",
        "ModelInput, dims, 4, INT64",
        "ModelInput, reshape, 5, MESSAGE",
        "ModelInput, is_shape_tensor, 6, BOOL",
        "ModelInput, allow_ragged_batch, 7, BOOL",
        "ModelInput, optional, 8, BOOL",
        "ModelOutput, name, 1, STRING",
        "ModelOutput, data_type, 2, ENUM",
        "ModelOutput, dims, 3, INT64",
        "ModelOutput, label_filename, 4, STRING",
        "ModelOutput, reshape, 5, MESSAGE",
        "ModelInstanceGroup, name, 1, STRING",
        "ModelInstanceGroup, count, 2, INT32",
        "ModelInstanceGroup, gpus, 3, INT32",
        "ModelInstanceGroup, kind, 4, ENUM",
        "ModelDynamicBatching, preferred_batch_size, 1, INT32",
        "ModelDynamicBatching, max_queue_delay_microseconds, 2, UINT64",
        "ModelDynamicBatching, preserve_ordering, 3, BOOL",
        "ModelDynamicBatching, priority_levels, 4, UINT64",
        "ModelDynamicBatching, default_priority_level, 5, UINT64",
        "ModelEnsembling, step, 1, MESSAGE",
        "ModelEnsembling, max_inflight_requests, 2, UINT32",
        "ModelEnsembling.Step, model_name, 1, STRING",
        "ModelEnsembling.Step, model_version, 2, INT64",
        "ModelEnsembling.Step, input_map, 3, MESSAGE",
        "ModelEnsembling.Step, output_map, 4, MESSAGE",
    })
    void shouldMatchTheProtocolFacts(String message, String field, int number, String type) {
        Descriptor d = find(message);
        FieldDescriptor f = d.findFieldByName(field);
        assertThat(f).as("%s.%s exists", message, field).isNotNull();
        assertThat(f.getNumber()).isEqualTo(number);
        assertThat(f.getType().name()).isEqualTo(type);
    }

    private static Descriptor find(String path) {
        String[] parts = path.split("\\.");
        Descriptor d = SERVICE.findMessageTypeByName(parts[0]);
        if (d == null) {
            d = CONFIG.findMessageTypeByName(parts[0]);
        }
        assertThat(d).as(parts[0]).isNotNull();
        for (int i = 1; i < parts.length; i++) {
            d = d.findNestedTypeByName(parts[i]);
        }
        return d;
    }

    @Test
    void shouldNumberDataTypesAndInstanceKindsAsTriton() {
        EnumDescriptor types = CONFIG.findEnumTypeByName("DataType");
        String[] names = {
            "TYPE_INVALID",
            "TYPE_BOOL",
            "TYPE_UINT8",
            "TYPE_UINT16",
            "TYPE_UINT32",
            "TYPE_UINT64",
            "TYPE_INT8",
            "TYPE_INT16",
            "TYPE_INT32",
            "TYPE_INT64",
            "TYPE_FP16",
            "TYPE_FP32",
            "TYPE_FP64",
            "TYPE_STRING",
            "TYPE_BF16"
        };
        for (int i = 0; i < names.length; i++) {
            assertThat(types.findValueByName(names[i]).getNumber()).as(names[i]).isEqualTo(i);
        }
        EnumDescriptor kinds = find("ModelInstanceGroup").findEnumTypeByName("Kind");
        assertThat(kinds.findValueByName("KIND_AUTO").getNumber()).isZero();
        assertThat(kinds.findValueByName("KIND_GPU").getNumber()).isEqualTo(1);
        assertThat(kinds.findValueByName("KIND_CPU").getNumber()).isEqualTo(2);
        assertThat(kinds.findValueByName("KIND_MODEL").getNumber()).isEqualTo(3);
        EnumDescriptor formats = find("ModelInput").findEnumTypeByName("Format");
        assertThat(formats.findValueByName("FORMAT_NCHW").getNumber()).isEqualTo(2);
    }

    @Test
    void shouldKeepJavaClassesInOurOwnPackage() {
        assertThat(SERVICE.getOptions().getJavaPackage()).isEqualTo("dev.genaug.api.inference");
        assertThat(CONFIG.getOptions().getJavaPackage()).isEqualTo("dev.genaug.api.inference");
    }
}
