package dev.genaug.domain.jobs;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.NotFoundException;
import dev.genaug.domain.error.ResourceExhaustedException;
import dev.genaug.domain.files.Trees;
import dev.genaug.domain.repository.ModelRepository;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetJobValidatorTest {
    private static final Path ROOT =
            Path.of(System.getProperty("genaug.root", "../..")).resolve("deploy/model-repository");
    private static final ModelRepository MODELS = ModelRepository.open(ROOT);

    private final DatasetJobValidator validator = new DatasetJobValidator(1000, MODELS);

    private static DatasetJob job() {
        return DatasetJob.newBuilder()
                .setModel(ModelRef.newBuilder().setName("shapes-generator"))
                .setCount(10)
                .build();
    }

    private static ModelRef model(String name) {
        return ModelRef.newBuilder().setName(name).build();
    }

    @Test
    void shouldAcceptAJobOfTheReferenceGeneratorLabelledOrNot() {
        validator.validate(job());
        validator.validate(
                job().toBuilder().setLabeller(model("shapes-labeller")).build());
        validator.validate(job().toBuilder()
                .setModel(ModelRef.newBuilder().setName("shapes-generator").setVersion("1"))
                .build());
    }

    @Test
    void shouldNameTheFieldWhenASettingIsOutOfRange() {
        DatasetJob ok = job();
        assertThatThrownBy(() -> validator.validate(ok.toBuilder().setJobId("x").build()))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageStartingWith("job.job_id");
        assertThatThrownBy(() -> validator.validate(ok.toBuilder().clearModel().build()))
                .hasMessageStartingWith("job.model.name");
        assertThatThrownBy(() -> validator.validate(ok.toBuilder().setCount(0).build()))
                .hasMessageStartingWith("job.count");
        assertThatThrownBy(
                        () -> validator.validate(ok.toBuilder().setCount(1001).build()))
                .isInstanceOf(ResourceExhaustedException.class)
                .hasMessageContaining("cap of 1000");
        assertThatThrownBy(() ->
                        validator.validate(ok.toBuilder().setTruncationPsi(2f).build()))
                .hasMessageStartingWith("job.truncation_psi");
        assertThatThrownBy(() ->
                        validator.validate(ok.toBuilder().setOutputTopic("a b").build()))
                .hasMessageStartingWith("job.output_topic");
    }

    @Test
    void shouldRefuseAJobWhoseModelOrLabellerIsNotInTheRepository() {
        assertThatThrownBy(() -> validator.validate(
                        job().toBuilder().setModel(model("no-such-model")).build()))
                .isInstanceOf(NotFoundException.class)
                .hasMessageStartingWith("job.model: model 'no-such-model' is not in the model repository");
        assertThatThrownBy(() -> validator.validate(job().toBuilder()
                        .setModel(ModelRef.newBuilder()
                                .setName("shapes-generator")
                                .setVersion("99"))
                        .build()))
                .isInstanceOf(NotFoundException.class)
                .hasMessageStartingWith("job.model.version: model 'shapes-generator' has no version 99");
        assertThatThrownBy(() -> validator.validate(
                        job().toBuilder().setLabeller(model("no-such-labeller")).build()))
                .isInstanceOf(NotFoundException.class)
                .hasMessageStartingWith("job.labeller: model 'no-such-labeller' is not in the model repository");
    }

    @Test
    void shouldRefuseAJobWhoseModelsPlayAnotherRole() {
        assertThatThrownBy(() -> validator.validate(
                        job().toBuilder().setModel(model("shapes-encoder")).build()))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessage("job.model: model 'shapes-encoder' is an encoder, not a generator");
        assertThatThrownBy(() -> validator.validate(job().toBuilder()
                        .setLabeller(model("shapes-classifier"))
                        .build()))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessage("job.labeller: model 'shapes-classifier' is a classifier, not a labeller");
    }

    @Test
    void shouldRefuseALabellerTrainedForAnotherGenerator(@TempDir Path repository) throws IOException {
        Path copy = repository.resolve("other-generator");
        Trees.copy(ROOT.resolve("shapes-generator"), copy);
        Path config = copy.resolve("config.pbtxt");
        Files.writeString(config, Files.readString(config).replace("\"shapes-generator\"", "\"other-generator\""));
        Trees.copy(ROOT.resolve("shapes-labeller"), repository.resolve("shapes-labeller"));
        DatasetJobValidator other = new DatasetJobValidator(1000, ModelRepository.open(repository));

        assertThatThrownBy(() -> other.validate(job().toBuilder()
                        .setModel(model("other-generator"))
                        .setLabeller(model("shapes-labeller"))
                        .build()))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessage("job.labeller: labeller 'shapes-labeller' was trained for 'shapes-generator', not for"
                        + " 'other-generator'");
    }

    @Test
    void shouldSayTheLabellersGeneratorVersionIsGoneWhenTheJobNamesNoVersion(@TempDir Path repository)
            throws IOException {
        // Version 1 replaced by version 2: the labeller was trained on 1.
        Trees.copy(ROOT.resolve("shapes-generator"), repository.resolve("shapes-generator"));
        Files.move(repository.resolve("shapes-generator/1"), repository.resolve("shapes-generator/2"));
        Trees.copy(ROOT.resolve("shapes-labeller"), repository.resolve("shapes-labeller"));
        DatasetJobValidator moved = new DatasetJobValidator(1000, ModelRepository.open(repository));

        assertThatThrownBy(() -> moved.validate(
                        job().toBuilder().setLabeller(model("shapes-labeller")).build()))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageStartingWith("job.labeller: labeller 'shapes-labeller' version 1 was trained on"
                        + " 'shapes-generator' version 1, which is no longer in the model repository")
                .hasMessageEndingWith("train the labeller again on a version it has");
        moved.validate(job());
    }
}
