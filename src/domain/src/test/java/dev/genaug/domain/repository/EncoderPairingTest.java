package dev.genaug.domain.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.InvalidArgumentException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An encoder and its generator are paired by version: latents go back to the generator they came from. */
class EncoderPairingTest {
    @TempDir
    Path root;

    private static final String GENERATOR = """
      { "formatVersion": 1, "role": "MODEL_ROLE_GENERATOR", "pairedEncoder": "enc",
        "latent": { "dimension": 4, "prior": "PRIOR_STANDARD_NORMAL" } }
      """;

    /** Registered before encoders recorded their generator version. */
    private static final String LEGACY_ENCODER = """
      { "formatVersion": 1, "role": "MODEL_ROLE_ENCODER", "pairedGenerator": "gen", "latent": { "dimension": 4 } }
      """;

    private static String encoder(String generatorVersion) {
        return """
          { "formatVersion": 1, "role": "MODEL_ROLE_ENCODER", "pairedGenerator": "gen",
            "pairedGeneratorVersion": "%s", "latent": { "dimension": 4 } }
          """.formatted(generatorVersion);
    }

    /** A model folder: pairs of a version and its own genaug.json (null: none). */
    private void model(String name, String manifest, String... versionAndManifest) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        Files.writeString(dir.resolve("config.pbtxt"), ModelConfigParserTest.VALID.replace("toy-generator", name));
        Files.writeString(dir.resolve("genaug.json"), manifest);
        for (int i = 0; i < versionAndManifest.length; i += 2) {
            Path v = Files.createDirectories(dir.resolve(versionAndManifest[i]));
            if (versionAndManifest[i + 1] != null) {
                Files.writeString(v.resolve("genaug.json"), versionAndManifest[i + 1]);
            }
        }
    }

    @Test
    void shouldEncodeWithTheEncoderVersionOfTheGeneratorVersionWhenSeveralAreExported() throws IOException {
        model("gen", GENERATOR, "1", null, "2", null);
        model("enc", encoder("1"), "1", null, "2", encoder("2"));
        ModelRepository repo = ModelRepository.open(root);

        ResolvedModel forOne = ModelChecks.requireEncoderOf(repo, repo.resolve("gen", "1", "model"), "images", "");
        ResolvedModel forTwo = ModelChecks.requireEncoderOf(repo, repo.resolve("gen", "2", "model"), "images", "");

        assertThat(forOne.version()).as("not the latest encoder").isEqualTo(1);
        assertThat(forTwo.version()).isEqualTo(2);
    }

    @Test
    void shouldDecodeWithTheGeneratorVersionTheEncoderInvertsWhenItRecordsOne() throws IOException {
        model("gen", GENERATOR, "1", null, "2", null);
        model("enc", encoder("1"), "1", null, "2", encoder("2"));
        ModelRepository repo = ModelRepository.open(root);

        assertThat(ModelChecks.requireGeneratorOf(repo, repo.resolve("enc", "1", "model"), "refine_evaluations", "")
                        .version())
                .as("not the latest generator")
                .isEqualTo(1);
        assertThat(ModelChecks.requireGeneratorOf(repo, repo.resolve("enc", "2", "model"), "refine_evaluations", "")
                        .version())
                .isEqualTo(2);
    }

    @Test
    void shouldTakeTheLatestWhenModelsRecordNoVersion() throws IOException {
        model("gen", GENERATOR, "1", null, "2", null);
        model("enc", LEGACY_ENCODER, "1", null, "3", null);
        ModelRepository repo = ModelRepository.open(root);

        assertThat(ModelChecks.requireEncoderOf(repo, repo.resolve("gen", "1", "model"), "images", "")
                        .version())
                .isEqualTo(3);
        assertThat(ModelChecks.requireGeneratorOf(repo, repo.resolve("enc", "1", "model"), "refine_evaluations", "")
                        .version())
                .isEqualTo(2);
    }

    @Test
    void shouldRefuseToEncodeForAGeneratorVersionNoEncoderVersionInverts() throws IOException {
        model("gen", GENERATOR, "1", null, "2", null, "3", null);
        model("enc", encoder("1"), "1", null, "2", encoder("2"));
        ModelRepository repo = ModelRepository.open(root);

        assertThatThrownBy(() ->
                        ModelChecks.requireEncoderOf(repo, repo.resolve("gen", "3", "model"), "images", "to encode"))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessage("images: no version of encoder 'enc' inverts 'gen' version 3 (version 1 inverts version 1,"
                        + " version 2 inverts version 2): add the encoder exported with that generator version as a"
                        + " version of 'enc'");
    }

    @Test
    void shouldSayWhichGeneratorVersionIsMissingWhenTheEncoderRecordsAGoneOne() throws IOException {
        model("gen", GENERATOR, "2", null);
        model("enc", encoder("1"), "1", null);
        ModelRepository repo = ModelRepository.open(root);

        assertThatThrownBy(() -> ModelChecks.requireGeneratorOf(
                        repo, repo.resolve("enc", "1", "model"), "refine_evaluations", "to decode with"))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageStartingWith("refine_evaluations: encoder 'enc' version 1 inverts 'gen' version 1, which is"
                        + " not in the model repository");
    }

    @Test
    void shouldRefuseAnEncoderOfAnotherLatentDimension() throws IOException {
        model("gen", GENERATOR, "1", null);
        model("enc", encoder("1").replace("\"dimension\": 4", "\"dimension\": 8"), "1", null);
        ModelRepository repo = ModelRepository.open(root);

        assertThatThrownBy(() -> ModelChecks.requireEncoderOf(repo, repo.resolve("gen", "1", "model"), "images", ""))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessage("images: encoder 'enc' version 1 gives latents of dimension 8, 'gen' version 1 takes 4");
        assertThatThrownBy(() -> ModelChecks.requireGeneratorOf(
                        repo, repo.resolve("enc", "1", "model"), "refine_evaluations", ""))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageStartingWith("refine_evaluations: encoder 'enc' version 1 gives latents of dimension 8");
    }

    @Test
    void shouldNameTheFieldWhenTheGeneratorHasNoEncoder() throws IOException {
        model("gen", GENERATOR.replace("\"pairedEncoder\": \"enc\",", ""), "1", null);
        ModelRepository repo = ModelRepository.open(root);

        assertThatThrownBy(() -> ModelChecks.requireEncoderOf(
                        repo,
                        repo.resolve("gen", "", "model"),
                        "images",
                        "to encode images with; give latents instead"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("images: model 'gen' names no paired encoder to encode images with; give latents instead");
    }
}
