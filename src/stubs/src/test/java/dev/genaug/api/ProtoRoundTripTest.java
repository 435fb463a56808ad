package dev.genaug.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every message of every contract, filled field by field through its generated builder, survives
 * serialization and parsing unchanged.
 */
class ProtoRoundTripTest {

    static Stream<Named<Descriptor>> messages() {
        List<FileDescriptor> files = List.of(
                dev.genaug.api.common.v1.CommonProto.getDescriptor(),
                dev.genaug.api.encoder.v1.EncoderProto.getDescriptor(),
                dev.genaug.api.sampler.v1.SamplerProto.getDescriptor(),
                dev.genaug.api.generator.v1.GeneratorProto.getDescriptor(),
                dev.genaug.api.labeller.v1.LabellerProto.getDescriptor(),
                dev.genaug.api.gateway.v1.GatewayProto.getDescriptor(),
                dev.genaug.api.events.v1.EventsProto.getDescriptor(),
                dev.genaug.api.model.v1.ManifestProto.getDescriptor(),
                dev.genaug.api.dataset.v1.SampleProto.getDescriptor(),
                dev.genaug.api.inference.GrpcServiceProto.getDescriptor(),
                dev.genaug.api.inference.ModelConfigProto.getDescriptor());
        List<Descriptor> all = new ArrayList<>();
        for (FileDescriptor f : files) {
            for (Descriptor d : f.getMessageTypes()) {
                collect(d, all);
            }
        }
        return all.stream().map(d -> Named.of(d.getFullName(), d));
    }

    private static void collect(Descriptor d, List<Descriptor> out) {
        if (d.getOptions().getMapEntry()) {
            return;
        }
        out.add(d);
        d.getNestedTypes().forEach(n -> collect(n, out));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("messages")
    void shouldRoundTripWhenEveryFieldIsSet(Descriptor descriptor) throws Exception {
        Message original = fill(builderFor(descriptor), 0);
        byte[] wire = original.toByteArray();
        Message parsed = original.getParserForType().parseFrom(wire);
        assertThat(parsed).isEqualTo(original);
        assertThat(parsed.getClass().getName()).startsWith("dev.genaug.api.");
        // Every field outside a oneof is present (a oneof keeps only its last member).
        for (FieldDescriptor f : descriptor.getFields()) {
            if (f.getRealContainingOneof() != null) {
                continue;
            }
            if (f.isRepeated()) {
                assertThat(parsed.getRepeatedFieldCount(f)).as(f.getFullName()).isPositive();
            } else if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                assertThat(parsed.hasField(f)).as(f.getFullName()).isTrue();
            } else {
                assertThat(parsed.getField(f)).as(f.getFullName()).isNotEqualTo(f.getDefaultValue());
            }
        }
        if (descriptor.getFields().isEmpty()) {
            assertThat(wire).isEmpty();
        }
    }

    private static Message.Builder builderFor(Descriptor d) throws Exception {
        String javaPackage = d.getFile().getOptions().getJavaPackage();
        String nested =
                d.getFullName().substring(d.getFile().getPackage().length() + 1).replace('.', '$');
        Class<?> type = Class.forName(javaPackage + "." + nested);
        return (Message.Builder) type.getMethod("newBuilder").invoke(null);
    }

    private static Message fill(Message.Builder b, int depth) {
        for (FieldDescriptor f : b.getDescriptorForType().getFields()) {
            if (f.isMapField()) {
                Message.Builder entry = b.newBuilderForField(f);
                fill(entry, depth + 1);
                b.addRepeatedField(f, entry.build());
            } else if (f.isRepeated()) {
                b.addRepeatedField(f, value(b, f, depth));
                b.addRepeatedField(f, value(b, f, depth));
            } else {
                b.setField(f, value(b, f, depth));
            }
        }
        return b.build();
    }

    private static Object value(Message.Builder b, FieldDescriptor f, int depth) {
        int n = f.getNumber();
        return switch (f.getJavaType()) {
            case INT -> 7 + n;
            case LONG -> 1L << 40 | n;
            case FLOAT -> 0.5f + n;
            case DOUBLE -> 0.25 + n;
            case BOOLEAN -> true;
            case STRING -> f.getName() + "-value";
            case BYTE_STRING -> ByteString.copyFromUtf8("bytes-" + n);
            case ENUM ->
                f.getEnumType().getValues().get(f.getEnumType().getValues().size() - 1);
            case MESSAGE -> depth > 4 ? b.newBuilderForField(f).build() : fill(b.newBuilderForField(f), depth + 1);
        };
    }
}
