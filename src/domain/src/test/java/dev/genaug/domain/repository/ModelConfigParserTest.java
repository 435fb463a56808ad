package dev.genaug.domain.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.genaug.api.inference.DataType;
import dev.genaug.api.inference.ModelConfig;
import dev.genaug.api.inference.ModelInstanceGroup;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ModelConfigParserTest {
    private static final Path FILE = Path.of("m/config.pbtxt");

    static final String VALID = """
      name: "toy-generator"
      platform: "onnxruntime_onnx"
      max_batch_size: 64
      input [
        { name: "z" data_type: TYPE_FP32 dims: [ 32 ] }
      ]
      output [
        { name: "image" data_type: TYPE_FP32 dims: [ 3, 64, 64 ] }
      ]
      instance_group [ { count: 1 kind: KIND_CPU } ]
      dynamic_batching { preferred_batch_size: [ 16, 64 ] max_queue_delay_microseconds: 500 }
      """;

    @Test
    void shouldParseEveryFieldOfAValidConfig() {
        ModelConfig config = ModelConfigParser.parse(VALID, FILE);
        assertThat(config.getName()).isEqualTo("toy-generator");
        assertThat(config.getMaxBatchSize()).isEqualTo(64);
        assertThat(config.getInput(0).getDataType()).isEqualTo(DataType.TYPE_FP32);
        assertThat(config.getInput(0).getDimsList()).containsExactly(32L);
        assertThat(config.getOutput(0).getDimsList()).containsExactly(3L, 64L, 64L);
        assertThat(config.getInstanceGroup(0).getKind()).isEqualTo(ModelInstanceGroup.Kind.KIND_CPU);
        assertThat(config.getDynamicBatching().getPreferredBatchSizeList()).containsExactly(16, 64);
        assertThat(config.getDynamicBatching().getMaxQueueDelayMicroseconds()).isEqualTo(500);
    }

    @Test
    void shouldRejectUnknownFieldWithItsLineNamed() {
        String text = VALID.replace("max_batch_size: 64", "max_batch_size: 64\nmax_batch_sise: 8");
        ModelRepositoryException e =
                catchThrowableOfType(ModelRepositoryException.class, () -> ModelConfigParser.parse(text, FILE));
        assertThat(e.line()).isEqualTo(4);
        assertThat(e.getMessage()).contains("line 4").contains("max_batch_sise");
    }

    @Test
    void shouldRejectWrongEnumValueWithItsLineNamed() {
        String text = VALID.replace("data_type: TYPE_FP32 dims: [ 32 ]", "data_type: FP32 dims: [ 32 ]");
        ModelRepositoryException e =
                catchThrowableOfType(ModelRepositoryException.class, () -> ModelConfigParser.parse(text, FILE));
        assertThat(e.line()).isEqualTo(5);
        assertThat(e.getMessage()).contains("FP32");
    }

    @Test
    void shouldRejectConfigWithoutPlatformOrBackend() {
        ModelRepositoryException e = catchThrowableOfType(
                ModelRepositoryException.class,
                () -> ModelConfigParser.parse("name: \"x\"\nmax_batch_size: 1\n", FILE));
        assertThat(e.getMessage()).contains("neither platform nor backend");
    }
}
