package dev.genaug.inference;

import com.google.protobuf.ByteString;
import dev.genaug.api.inference.GRPCInferenceServiceGrpc;
import dev.genaug.api.inference.ModelInferRequest;
import dev.genaug.api.inference.ModelInferResponse;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.UnavailableException;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.Tensors;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Triton server (or any KServe v2 endpoint) over gRPC, through genaug's own proto: inputs go raw
 * and little-endian (FP32, or FP16 to halve the bytes on the wire), outputs come back raw. One
 * channel is shared by all calls; each call has a deadline; only UNAVAILABLE is retried, with
 * exponential backoff, and if Triton stays down callers get UNAVAILABLE naming it.
 */
public final class TritonBackend implements InferenceBackend {

    /**
     * @param target host:port, for messages
     * @param deadline per attempt
     * @param attempts total tries on UNAVAILABLE, >= 1
     * @param backoff wait before the first retry; doubles each time
     * @param sendFp16 send inputs as FP16 instead of FP32
     */
    public record Settings(String target, Duration deadline, int attempts, Duration backoff, boolean sendFp16) {}

    private final GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;
    private final Settings settings;

    public TritonBackend(Channel channel, Settings settings) {
        this.stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
        this.settings = settings;
    }

    @Override
    public String name() {
        return "triton";
    }

    @Override
    public Map<String, FloatTensor> infer(ResolvedModel model, Map<String, FloatTensor> inputs, List<String> outputs) {
        ModelInferRequest.Builder request = ModelInferRequest.newBuilder()
                .setModelName(model.name())
                .setModelVersion(Long.toString(model.version()));
        for (var e : inputs.entrySet()) {
            request.addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                    .setName(e.getKey())
                    .setDatatype(settings.sendFp16() ? "FP16" : "FP32")
                    .addAllShape(Arrays.stream(e.getValue().shape()).boxed().toList()));
            float[] data = e.getValue().data();
            request.addRawInputContents(ByteString.copyFrom(
                    settings.sendFp16() ? Tensors.littleEndianHalf(data) : Tensors.littleEndian(data)));
        }
        outputs.forEach(o -> request.addOutputs(
                ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(o)));
        ModelInferResponse response = call(request.build(), model);
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        for (int i = 0; i < response.getOutputsCount(); i++) {
            var o = response.getOutputs(i);
            long[] shape = o.getShapeList().stream().mapToLong(Long::longValue).toArray();
            byte[] raw = response.getRawOutputContents(i).toByteArray();
            float[] values = switch (o.getDatatype()) {
                case "FP32" -> Tensors.floatsFromLittleEndian(raw);
                case "FP16" -> Tensors.floatsFromLittleEndianHalf(raw);
                case "UINT8" -> {
                    float[] f = new float[raw.length];
                    for (int k = 0; k < raw.length; k++) {
                        f[k] = raw[k] & 0xFF;
                    }
                    yield f;
                }
                default ->
                    throw new FailedPreconditionException("Triton returned output '" + o.getName() + "' as "
                            + o.getDatatype() + "; genaug reads FP32, FP16 and UINT8");
            };
            out.put(o.getName(), new FloatTensor(shape, values));
        }
        return out;
    }

    private ModelInferResponse call(ModelInferRequest request, ResolvedModel model) {
        long wait = settings.backoff().toMillis();
        for (int attempt = 1; ; attempt++) {
            try {
                return stub.withDeadlineAfter(settings.deadline().toMillis(), TimeUnit.MILLISECONDS)
                        .modelInfer(request);
            } catch (StatusRuntimeException e) {
                Status.Code code = e.getStatus().getCode();
                if (code == Status.Code.UNAVAILABLE && attempt < settings.attempts()) {
                    sleep(wait);
                    wait *= 2;
                    continue;
                }
                String what =
                        "Triton at " + settings.target() + ", model '" + model.name() + "' version " + model.version();
                throw switch (code) {
                    case UNAVAILABLE ->
                        new UnavailableException(
                                what + " is unavailable after " + attempt + " attempts: "
                                        + e.getStatus().getDescription(),
                                e);
                    case DEADLINE_EXCEEDED ->
                        new UnavailableException(
                                what + " did not answer within "
                                        + settings.deadline().toMillis() + " ms",
                                e);
                    default ->
                        new FailedPreconditionException(
                                what + " refused the request: " + code + " "
                                        + e.getStatus().getDescription(),
                                e);
                };
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while waiting to retry Triton", e);
        }
    }
}
