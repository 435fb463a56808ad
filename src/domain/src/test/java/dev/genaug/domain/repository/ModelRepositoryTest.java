package dev.genaug.domain.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.NotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryTest {
    @TempDir
    Path root;

    private void model(String name, String config, String manifest, String... versions) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        Files.writeString(dir.resolve("config.pbtxt"), config);
        if (manifest != null) {
            Files.writeString(dir.resolve("genaug.json"), manifest);
        }
        for (String v : versions) {
            Files.createDirectories(dir.resolve(v));
        }
    }

    private static final String MANIFEST = """
      { "formatVersion": 1, "role": "MODEL_ROLE_GENERATOR",
        "latent": { "dimension": 32, "prior": "PRIOR_STANDARD_NORMAL" },
        "image": { "width": 64, "height": 64, "channels": 3, "valueMin": -1, "valueMax": 1 } }
      """;

    @Test
    void shouldResolveHighestVersionWhenVersionIsEmpty() throws IOException {
        model("toy-generator", ModelConfigParserTest.VALID, MANIFEST, "1", "3", "2");
        ModelRepository repo = ModelRepository.open(root);
        ResolvedModel m = repo.resolve("toy-generator", "", "model");
        assertThat(m.version()).isEqualTo(3);
        assertThat(m.versionDirectory()).isEqualTo(root.resolve("toy-generator/3"));
        assertThat(m.manifest().getRole()).isEqualTo(ModelRole.MODEL_ROLE_GENERATOR);
        assertThat(m.manifest().getLatent().getDimension()).isEqualTo(32);
        assertThat(repo.resolve("toy-generator", "2", "model").version()).isEqualTo(2);
    }

    @Test
    void shouldReportNotFoundForUnknownModelOrVersion() throws IOException {
        model("toy-generator", ModelConfigParserTest.VALID, MANIFEST, "1");
        ModelRepository repo = ModelRepository.open(root);
        assertThatThrownBy(() -> repo.resolve("nope", "", "model"))
                .isInstanceOf(NotFoundException.class)
                .hasMessageContaining("'nope'")
                .hasMessageContaining("toy-generator");
        assertThatThrownBy(() -> repo.resolve("toy-generator", "7", "model"))
                .isInstanceOf(NotFoundException.class)
                .hasMessageContaining("no version 7");
        assertThatThrownBy(() -> repo.resolve("toy-generator", "v1", "model"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("model.version");
        assertThatThrownBy(() -> repo.resolve("", "", "job.model"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("job.model.name");
    }

    @Test
    void shouldSayTheRepositoryIsEmptyWhenItHoldsNoModels() {
        assertThatThrownBy(() -> ModelRepository.open(root.resolve("missing")).resolve("gen", "", "--model"))
                .isInstanceOf(NotFoundException.class)
                .hasMessage("--model: model 'gen' is not in the model repository (it holds no models)");
    }

    @Test
    void shouldFindModelsAndVersionsAddedAfterOpeningWhenAskedForThem() throws IOException {
        model("toy-generator", ModelConfigParserTest.VALID, MANIFEST, "1");
        ModelRepository repo = ModelRepository.open(root);
        // Another process registers a model and a version, each staged hidden and renamed in.
        model(".staging-x", ModelConfigParserTest.VALID.replace("toy-generator", ".staging-x"), MANIFEST, "1");
        model("later", ModelConfigParserTest.VALID.replace("toy-generator", "later"), MANIFEST, "1");
        Files.createDirectories(root.resolve("toy-generator/2"));
        Files.writeString(
                root.resolve("toy-generator/2/genaug.json"),
                MANIFEST.replace("\"dimension\": 32", "\"dimension\": 16"));

        assertThat(repo.resolve("later", "", "model").version()).isEqualTo(1);
        ResolvedModel two = repo.resolve("toy-generator", "2", "model");
        assertThat(two.manifest().getLatent().getDimension())
                .as("the version's own manifest")
                .isEqualTo(16);
        assertThat(repo.resolve("toy-generator", "1", "model")
                        .manifest()
                        .getLatent()
                        .getDimension())
                .isEqualTo(32);
        assertThat(repo.models()).extracting(ModelEntry::name).doesNotContain(".staging-x");
    }

    @Test
    void shouldFindAModelAddedAfterOpeningForEveryCallerWhenSeveralMissItAtOnce() throws Exception {
        for (int i = 0; i < 40; i++) {
            model("toy-" + i, ModelConfigParserTest.VALID.replace("toy-generator", "toy-" + i), MANIFEST, "1");
        }
        ModelRepository repo = ModelRepository.open(root);
        model("later", ModelConfigParserTest.VALID.replace("toy-generator", "later"), MANIFEST, "1");
        int callers = 8;
        CyclicBarrier start = new CyclicBarrier(callers);
        List<Future<Long>> versions = new ArrayList<>();
        try (var pool = Executors.newFixedThreadPool(callers)) {
            for (int i = 0; i < callers; i++) {
                versions.add(pool.submit(() -> {
                    start.await();
                    return repo.resolve("later", "1", "job.labeller").version();
                }));
            }
            for (var v : versions) {
                assertThat(v.get()).isEqualTo(1L);
            }
        }
    }

    @Test
    void shouldServeAVersionAddedElsewhereAsTheLatestOnceTheScanIsFiveSecondsOld() throws Exception {
        model("toy-generator", ModelConfigParserTest.VALID, MANIFEST, "1");
        ModelRepository repo = ModelRepository.open(root);
        Files.createDirectories(root.resolve("toy-generator/2"));
        assertThat(repo.resolve("toy-generator", "", "model").version())
                .as("the scan is fresh")
                .isEqualTo(1);
        Thread.sleep(5_100);
        assertThat(repo.resolve("toy-generator", "", "model").version()).isEqualTo(2);
    }

    @Test
    void shouldKeepServingOtherModelsWhenOneConfigIsBroken() throws IOException {
        model("toy-generator", ModelConfigParserTest.VALID, MANIFEST, "1");
        model("broken", "name: \"broken\"\nplatform: \"onnxruntime_onnx\"\nbogus: 1\n", null, "1");
        ModelRepository repo = ModelRepository.open(root);
        assertThat(repo.models()).hasSize(2);
        assertThat(repo.find("broken").orElseThrow().problem())
                .hasValueSatisfying(p -> assertThat(p).contains("line 3").contains("bogus"));
        assertThatThrownBy(() -> repo.resolve("broken", "", "model"))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("bogus");
        assertThat(repo.resolve("toy-generator", "", "model").version()).isEqualTo(1);
    }

    @Test
    void shouldRejectManifestWithUnknownFieldOrWrongVersion() throws IOException {
        model(
                "a",
                ModelConfigParserTest.VALID.replace("toy-generator", "a"),
                MANIFEST.replace("\"latent\"", "\"latnet\""),
                "1");
        model(
                "b",
                ModelConfigParserTest.VALID.replace("toy-generator", "b"),
                MANIFEST.replace("\"formatVersion\": 1", "\"formatVersion\": 2"),
                "1");
        ModelRepository repo = ModelRepository.open(root);
        assertThat(repo.find("a").orElseThrow().problem())
                .hasValueSatisfying(p -> assertThat(p).contains("latnet"));
        assertThat(repo.find("b").orElseThrow().problem())
                .hasValueSatisfying(p -> assertThat(p).contains("formatVersion must be 1"));
    }

    @Test
    void shouldFlagConfigWhoseNameDiffersFromItsFolder() throws IOException {
        model("other-name", ModelConfigParserTest.VALID, null, "1");
        ModelRepository repo = ModelRepository.open(root);
        assertThat(repo.find("other-name").orElseThrow().problem())
                .hasValueSatisfying(p -> assertThat(p).contains("differs from its folder"));
    }

    @Test
    void shouldTreatMissingRootAsEmptyRepository() {
        ModelRepository repo = ModelRepository.open(root.resolve("absent"));
        assertThat(repo.models()).isEmpty();
        assertThatThrownBy(() -> repo.resolve("x", "", "model")).isInstanceOf(NotFoundException.class);
    }

    @Test
    void shouldRequireManifestWhenGenaugNeedsIt() throws IOException {
        model("toy-generator", ModelConfigParserTest.VALID, null, "1");
        ResolvedModel m = ModelRepository.open(root).resolve("toy-generator", "", "model");
        assertThatThrownBy(m::manifest)
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("genaug.json");
    }
}
