package dev.genaug.domain.kserve;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.genaug.api.inference.DataType;
import dev.genaug.api.inference.ModelConfig;
import dev.genaug.api.inference.ModelConfigResponse;
import dev.genaug.api.inference.ModelInferRequest;
import dev.genaug.api.inference.ModelInferResponse;
import dev.genaug.api.inference.ModelInput;
import dev.genaug.api.inference.ModelMetadataResponse;
import dev.genaug.api.inference.ModelOutput;
import dev.genaug.api.inference.ModelReadyResponse;
import dev.genaug.api.inference.RepositoryIndexResponse;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.NotFoundException;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ModelEntry;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.Tensors;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The KServe v2 inference protocol (as Triton serves it) over genaug's model repository, so any
 * Triton client can use the embedded default. Inputs arrive as raw little-endian bytes or typed
 * contents (never both in one request); outputs always go back raw, as Triton does.
 */
public final class KserveServer {
    private final ModelRepository repository;
    private final InferenceBackend backend;

    public KserveServer(ModelRepository repository, InferenceBackend backend) {
        this.repository = repository;
        this.backend = backend;
    }

    private ResolvedModel resolve(String name, String version) {
        if (name.isEmpty()) {
            throw new InvalidArgumentException("name", "must name a model");
        }
        return repository.resolve(name, version, "model");
    }

    public ModelReadyResponse modelReady(String name, String version) {
        try {
            ResolvedModel model = resolve(name, version);
            return ModelReadyResponse.newBuilder()
                    .setReady(Files.isRegularFile(model.modelFile()))
                    .build();
        } catch (NotFoundException | dev.genaug.domain.error.FailedPreconditionException e) {
            return ModelReadyResponse.newBuilder().setReady(false).build();
        }
    }

    public ModelConfigResponse modelConfig(String name, String version) {
        return ModelConfigResponse.newBuilder()
                .setConfig(resolve(name, version).config())
                .build();
    }

    public ModelMetadataResponse modelMetadata(String name, String version) {
        ResolvedModel model = resolve(name, version);
        ModelConfig config = model.config();
        ModelMetadataResponse.Builder b =
                ModelMetadataResponse.newBuilder().setName(model.name()).setPlatform(config.getPlatform());
        model.entry().versions().forEach(v -> b.addVersions(Long.toString(v)));
        for (ModelInput in : config.getInputList()) {
            b.addInputs(tensor(in.getName(), in.getDataType(), in.getDimsList(), config.getMaxBatchSize() > 0));
        }
        for (ModelOutput out : config.getOutputList()) {
            b.addOutputs(tensor(out.getName(), out.getDataType(), out.getDimsList(), config.getMaxBatchSize() > 0));
        }
        return b.build();
    }

    private static ModelMetadataResponse.TensorMetadata tensor(
            String name, DataType type, List<Long> dims, boolean batched) {
        var t = ModelMetadataResponse.TensorMetadata.newBuilder().setName(name).setDatatype(datatype(type));
        if (batched) {
            t.addShape(-1);
        }
        return t.addAllShape(dims).build();
    }

    /** KServe datatype string of a config data type: TYPE_FP32 -> "FP32". */
    static String datatype(DataType type) {
        return type.name().replace("TYPE_", "").replace("STRING", "BYTES");
    }

    public RepositoryIndexResponse repositoryIndex(boolean readyOnly) {
        RepositoryIndexResponse.Builder b = RepositoryIndexResponse.newBuilder();
        for (ModelEntry m : repository.models()) {
            boolean ready = m.usable();
            if (readyOnly && !ready) {
                continue;
            }
            b.addModels(RepositoryIndexResponse.ModelIndex.newBuilder()
                    .setName(m.name())
                    .setVersion(
                            m.versions().isEmpty()
                                    ? ""
                                    : Long.toString(m.versions().last()))
                    .setState(ready ? "READY" : "UNAVAILABLE")
                    .setReason(m.problem().orElse("")));
        }
        return b.build();
    }

    public ModelInferResponse modelInfer(ModelInferRequest request) {
        ResolvedModel model = resolve(request.getModelName(), request.getModelVersion());
        boolean raw = request.getRawInputContentsCount() > 0;
        if (raw && request.getRawInputContentsCount() != request.getInputsCount()) {
            throw new InvalidArgumentException(
                    "raw_input_contents",
                    request.getRawInputContentsCount() + " entries for " + request.getInputsCount()
                            + " inputs (one per input, in order)");
        }
        Map<String, FloatTensor> inputs = new LinkedHashMap<>();
        for (int i = 0; i < request.getInputsCount(); i++) {
            var in = request.getInputs(i);
            String field = "inputs[" + i + "]";
            long[] shape = in.getShapeList().stream().mapToLong(Long::longValue).toArray();
            long elements = Tensors.elementCount(shape);
            float[] values;
            if (raw) {
                if (in.hasContents() && in.getContents().getSerializedSize() > 0) {
                    throw new InvalidArgumentException(
                            field + ".contents", "raw_input_contents and typed contents cannot be mixed");
                }
                values = fromRaw(in.getDatatype(), request.getRawInputContents(i), elements, field);
            } else {
                if (!"FP32".equals(in.getDatatype())) {
                    throw new InvalidArgumentException(
                            field + ".datatype",
                            "typed contents are supported for FP32; send " + in.getDatatype()
                                    + " as raw_input_contents");
                }
                values = new float[in.getContents().getFp32ContentsCount()];
                for (int k = 0; k < values.length; k++) {
                    values[k] = in.getContents().getFp32Contents(k);
                }
            }
            if (values.length != elements) {
                throw new InvalidArgumentException(
                        field,
                        "holds " + values.length + " values but its shape " + in.getShapeList() + " needs " + elements);
            }
            inputs.put(in.getName(), new FloatTensor(shape, values));
        }
        List<String> wanted = new ArrayList<>();
        request.getOutputsList().forEach(o -> wanted.add(o.getName()));
        if (wanted.isEmpty()) {
            model.config().getOutputList().forEach(o -> wanted.add(o.getName()));
        }
        Map<String, FloatTensor> outputs = backend.infer(model, inputs, wanted);
        ModelInferResponse.Builder response = ModelInferResponse.newBuilder()
                .setModelName(model.name())
                .setModelVersion(Long.toString(model.version()))
                .setId(request.getId());
        for (String name : wanted) {
            FloatTensor t = outputs.get(name);
            response.addOutputs(ModelInferResponse.InferOutputTensor.newBuilder()
                    .setName(name)
                    .setDatatype("FP32")
                    .addAllShape(java.util.Arrays.stream(t.shape()).boxed().toList()));
            response.addRawOutputContents(UnsafeByteOperations.unsafeWrap(Tensors.littleEndian(t.data())));
        }
        return response.build();
    }

    private static float[] fromRaw(String datatype, ByteString bytes, long elements, String field) {
        return switch (datatype) {
            case "FP32" -> Tensors.floatsFromLittleEndian(checkLength(bytes, elements, 4, field));
            case "FP16" -> Tensors.floatsFromLittleEndianHalf(checkLength(bytes, elements, 2, field));
            case "UINT8" -> {
                byte[] b = checkLength(bytes, elements, 1, field);
                float[] f = new float[b.length];
                for (int i = 0; i < b.length; i++) {
                    f[i] = b[i] & 0xFF;
                }
                yield f;
            }
            default ->
                throw new InvalidArgumentException(
                        field + ".datatype", "unsupported datatype '" + datatype + "' (FP32, FP16 or UINT8)");
        };
    }

    private static byte[] checkLength(ByteString bytes, long elements, int width, String field) {
        if (bytes.size() != elements * width) {
            throw new InvalidArgumentException(
                    field, "raw content holds " + bytes.size() + " bytes, its shape needs " + elements * width);
        }
        return bytes.toByteArray();
    }
}
