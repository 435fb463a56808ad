package dev.genaug.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.genaug.api.common.v1.Latent;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.gateway.v1.AugmentServiceGrpc;
import dev.genaug.api.gateway.v1.CancelJobRequest;
import dev.genaug.api.gateway.v1.DatasetServiceGrpc;
import dev.genaug.api.gateway.v1.GetViewsRequest;
import dev.genaug.api.gateway.v1.ListJobsRequest;
import dev.genaug.api.gateway.v1.SubmitJobRequest;
import dev.genaug.api.gateway.v1.SubmitJobResponse;
import dev.genaug.api.gateway.v1.WatchJobRequest;
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
class GatewayGrpcServiceTest {
    @TestHTTPResource("/")
    URL root;

    ManagedChannel channel;
    DatasetServiceGrpc.DatasetServiceBlockingStub datasets;
    AugmentServiceGrpc.AugmentServiceBlockingStub augment;

    @BeforeEach
    void connect() {
        channel = GrpcChannels.to(root);
        datasets = DatasetServiceGrpc.newBlockingStub(channel);
        augment = AugmentServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void close() {
        channel.shutdownNow();
    }

    static DatasetJob.Builder job() {
        return DatasetJob.newBuilder()
                .setModel(ModelRef.newBuilder().setName("toy-generator"))
                .setCount(100)
                .setSeed(5);
    }

    private Status submit(DatasetJob.Builder job) {
        return catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> datasets.submitJob(
                                SubmitJobRequest.newBuilder().setJob(job).build()))
                .getStatus();
    }

    @Test
    void shouldRejectInvalidJobsNamingTheField() {
        assertThat(submit(job().setCount(0)).getDescription()).startsWith("job.count:");
        assertThat(submit(job().clearModel()).getDescription()).startsWith("job.model.name:");
        assertThat(submit(job().setJobId("mine")).getDescription()).startsWith("job.job_id:");
        assertThat(submit(job().setTruncationPsi(-1f)).getDescription()).startsWith("job.truncation_psi:");
        assertThat(submit(job().setDropFraction(0.2f)).getDescription())
                .startsWith("job.drop_fraction:")
                .contains("labelled jobs only");
        assertThat(submit(job().setLabeller(dev.genaug.api.common.v1.ModelRef.newBuilder()
                                        .setName("l"))
                                .setDropFraction(1f))
                        .getDescription())
                .startsWith("job.drop_fraction:")
                .contains("[0, 1)");
        assertThat(submit(job().setIgnoreBelowConfidence(0.9f)).getDescription())
                .isEqualTo("job.ignore_below_confidence: applies to labelled jobs only: set job.labeller");
        assertThat(submit(job().setLabeller(dev.genaug.api.common.v1.ModelRef.newBuilder()
                                        .setName("l"))
                                .setIgnoreBelowConfidence(0f))
                        .getDescription())
                .isEqualTo("job.ignore_below_confidence: must be in (0, 1], got 0.0");
        Status big = submit(job().setCount(100_000_001));
        assertThat(big.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        Status none = catchThrowableOfType(
                        StatusRuntimeException.class, () -> datasets.submitJob(SubmitJobRequest.getDefaultInstance()))
                .getStatus();
        assertThat(none.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(none.getDescription()).startsWith("job:");
    }

    @Test
    void shouldRefuseAJobWhoseModelsAreMissingOrMisplacedBeforeQueueingIt() {
        java.nio.file.Path out =
                java.nio.file.Path.of("target", "never-" + System.nanoTime()).toAbsolutePath();
        int known = datasets.listJobs(ListJobsRequest.getDefaultInstance()).getJobsCount();

        Status unknown = submit(
                job().setModel(ModelRef.newBuilder().setName("no-such-model")).setOutput(out.toString()));
        Status notALabeller = submit(job().setLabeller(ModelRef.newBuilder().setName("toy-classifier"))
                .setOutput(out.toString()));
        Status noVersion = submit(
                job().setLabeller(ModelRef.newBuilder().setName("toy-labeller").setVersion("7"))
                        .setOutput(out.toString()));

        assertThat(unknown.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(unknown.getDescription())
                .startsWith("job.model: model 'no-such-model' is not in the model repository");
        assertThat(notALabeller.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(notALabeller.getDescription())
                .isEqualTo("job.labeller: model 'toy-classifier' is a classifier, not a labeller");
        assertThat(noVersion.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(noVersion.getDescription())
                .startsWith("job.labeller.version: model 'toy-labeller' has no version 7");
        assertThat(datasets.listJobs(ListJobsRequest.getDefaultInstance()).getJobsCount())
                .as("no refused job is tracked")
                .isEqualTo(known);
        assertThat(out).as("no output folder is made for a refused job").doesNotExist();
    }

    @Test
    void shouldRefuseAnOutputFolderThatIsNotEmpty() throws Exception {
        java.nio.file.Path used = java.nio.file.Files.createTempDirectory(java.nio.file.Path.of("target"), "used-");
        java.nio.file.Files.writeString(used.resolve("mine.txt"), "keep me");
        Status status = submit(job().setOutput(used.toAbsolutePath().toString()));
        assertThat(status.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(status.getDescription()).startsWith("job.output: folder '").contains("is not empty");
        assertThat(java.nio.file.Files.readString(used.resolve("mine.txt"))).isEqualTo("keep me");
    }

    @Test
    void shouldQueueListAndCancelAJob() {
        SubmitJobResponse submitted =
                datasets.submitJob(SubmitJobRequest.newBuilder().setJob(job()).build());
        assertThat(submitted.getJobId()).matches("[0-9a-f-]{36}");
        assertThat(submitted.getStatus().getState()).isEqualTo(JobState.JOB_STATE_QUEUED);
        assertThat(submitted.getStatus().getJob().getSubmittedAtMs()).isPositive();
        assertThat(datasets.listJobs(ListJobsRequest.getDefaultInstance()).getJobsList())
                .extracting(s -> s.getJob().getJobId())
                .contains(submitted.getJobId());
        var cancelled = datasets.cancelJob(
                CancelJobRequest.newBuilder().setJobId(submitted.getJobId()).build());
        assertThat(cancelled.getState()).isEqualTo(JobState.JOB_STATE_CANCELLED);
        // Watching an ended job gives its final status and completes.
        var watched = datasets.watchJob(
                WatchJobRequest.newBuilder().setJobId(submitted.getJobId()).build());
        assertThat(watched.next().getState()).isEqualTo(JobState.JOB_STATE_CANCELLED);
        assertThat(watched.hasNext()).isFalse();
    }

    @Test
    void shouldAnswerNotFoundForUnknownJobs() {
        Status cancel = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> datasets.cancelJob(
                                CancelJobRequest.newBuilder().setJobId("nope").build()))
                .getStatus();
        assertThat(cancel.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        Status watch = catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> datasets.watchJob(WatchJobRequest.newBuilder()
                                        .setJobId("nope")
                                        .build())
                                .hasNext())
                .getStatus();
        assertThat(watch.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(watch.getDescription()).contains("'nope'");
    }

    private Status views(GetViewsRequest.Builder r) {
        return catchThrowableOfType(
                        StatusRuntimeException.class,
                        () -> augment.getViews(r.build()).forEachRemaining(b -> {}))
                .getStatus();
    }

    static GetViewsRequest.Builder viewsRequest() {
        return GetViewsRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName("toy-generator"))
                .addLatents(Latent.newBuilder().addValues(0f))
                .setViewsPerInput(2)
                .setSigma(0.5f);
    }

    @Test
    void shouldRejectBadViewRequestsNamingTheField() {
        assertThat(views(viewsRequest().setViewsPerInput(0)).getDescription()).startsWith("views_per_input:");
        Status cap = views(viewsRequest().setViewsPerInput(65));
        assertThat(cap.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(cap.getDescription()).startsWith("views_per_input:").contains("cap of 64");
        assertThat(views(viewsRequest().setSigma(-0.1f)).getDescription()).startsWith("sigma:");
        assertThat(views(viewsRequest().setSigma(Float.NaN)).getDescription()).startsWith("sigma:");
        assertThat(views(viewsRequest().clearLatents()).getDescription()).startsWith("images:");
    }

    @Test
    void shouldRejectBadPairsAndLatentsNamingTheField() {
        assertThat(views(viewsRequest().setPairs(true).setViewsPerInput(3)).getDescription())
                .startsWith("views_per_input: must be 0 or 2 in pairs mode");
        Status wrongDimension = views(viewsRequest()); // toy-generator's latents have 8 values
        assertThat(wrongDimension.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(wrongDimension.getDescription()).startsWith("latents[0]: has 1 values; the latent dimension is 8");
        Status unknown = views(viewsRequest().setModel(ModelRef.newBuilder().setName("nope")));
        assertThat(unknown.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(unknown.getDescription()).startsWith("model: model 'nope'");
    }

    @Test
    void shouldAnswerUnavailableNamingTheGeneratorServiceWhenItIsDown() {
        Latent.Builder z = Latent.newBuilder();
        for (int j = 0; j < 8; j++) {
            z.addValues(0.1f * j);
        }
        Status s = views(viewsRequest().clearLatents().addLatents(z)); // the test profile points at a closed port
        assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(s.getDescription()).startsWith("the generator service did not answer");
    }
}
