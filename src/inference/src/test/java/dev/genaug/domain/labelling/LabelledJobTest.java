package dev.genaug.domain.labelling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.GeneratedBatch;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.api.labeller.v1.LabelRequest;
import dev.genaug.api.labeller.v1.LabelResponse;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.sampling.Sampling;
import dev.genaug.domain.tensor.ChwImage;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.inference.OnnxBackend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What labelled jobs write with the shipped labeller: the share the uncertainty filter drops, and
 * the pixels marked ignored for want of confidence.
 */
class LabelledJobTest {
    private static ModelRepository repository;
    private static OnnxBackend onnx;
    private static Labelling labelling;
    private static ResolvedModel labeller;
    private static ResolvedModel generator;

    @BeforeAll
    static void open() {
        Path root = Path.of(System.getProperty("genaug.root", "../.."));
        repository = ModelRepository.open(root.resolve("deploy/model-repository"));
        onnx = new OnnxBackend(new OnnxBackend.Settings(2, false, false));
        labelling = new Labelling(repository, onnx, new Labelling.Settings(256, 2));
        labeller = repository.resolve("shapes-labeller", "", "labeller");
        generator = repository.resolve("shapes-generator", "", "generator");
    }

    @AfterAll
    static void close() {
        onnx.close();
    }

    @Test
    void shouldReadTheRegisteredQuantilesWhenTheJobIsNotTruncated() {
        List<Float> registered = labeller.manifest().getUncertaintyQuantilesList();

        for (float psi : new float[] {0f, 1f}) {
            float[] q = labelling.jobQuantiles(labeller, generator, psi);
            assertThat(q).hasSize(101);
            for (int i = 0; i < q.length; i++) {
                assertThat(q[i]).as("psi %s, quantile %d", psi, i).isEqualTo(registered.get(i));
            }
        }
    }

    @Test
    void shouldMeasureWhatRegistrationRecordedWhenSamplingUntruncated() {
        float[] measured =
                labelling.uncertaintyQuantiles(labeller, Labelling.inputsOf(labeller), generator, 1f, () -> false);

        List<Float> registered = labeller.manifest().getUncertaintyQuantilesList();
        for (int i = 0; i < measured.length; i++) {
            // Equal on the machine that registered it; another CPU's kernels may round the last bits.
            assertThat(measured[i]).as("quantile %d", i).isCloseTo(registered.get(i), within(1e-5f));
        }
    }

    @Test
    void shouldDropAboutTheConfiguredShareOfATruncatedJob() {
        // Truncation moves the uncertainty (docs/labelling.md, Uncertainty filter): with an earlier
        // labeller the registered (psi 1) threshold dropped more than half of a psi 0.3 job.
        GeneratedBatch out = labelling.label(batch(0.3f, 120));

        long dropped = out.getDroppedList().stream().filter(d -> d).count();
        assertThat(dropped).isBetween(3L, 24L);
        float[] q = labelling.jobQuantiles(labeller, generator, 0.3f);
        // The batch says which threshold it applied: the job's 0.9 quantile.
        assertThat(out.getDropThreshold()).isEqualTo(q[90]);
        for (int i = 0; i < out.getDroppedCount(); i++) {
            assertThat(out.getUncertainty(i) > out.getDropThreshold()).isEqualTo(out.getDropped(i));
        }
        assertThat(labelling.jobQuantiles(labeller, generator, 0.3f)).isSameAs(q);
        assertThat(labelling.measuredTruncations()).isEqualTo(1);
        // Measured on psi 0.3 samples, not copied from the registered (psi 1) ones: they differ.
        float largest = 0f;
        for (int i = 0; i < q.length; i++) {
            largest = Math.max(largest, Math.abs(q[i] - labeller.manifest().getUncertaintyQuantiles(i)));
        }
        assertThat(largest).isGreaterThan(0.01f);
    }

    @Test
    void shouldKeepEverySampleWithoutMeasuringWhenTheDropFractionIsZero() {
        Labelling fresh = new Labelling(repository, onnx, new Labelling.Settings(256, 2));
        LatentBatch batch = batch(0.3f, 4);
        batch = batch.toBuilder()
                .setJob(batch.getJob().toBuilder().setDropFraction(0f))
                .build();

        GeneratedBatch out = fresh.label(batch);

        assertThat(out.getDroppedList()).containsOnly(false);
        assertThat(out.hasDropThreshold()).isFalse();
        assertThat(fresh.measuredTruncations()).isZero();
    }

    @Test
    void shouldNameTheLabellersClassesInIdOrderForTheManifest() {
        LatentBatch batch = batch(1f, 2);
        batch = batch.toBuilder()
                .setJob(batch.getJob().toBuilder().setDropFraction(0f))
                .build();

        GeneratedBatch out = labelling.label(batch);

        assertThat(out.getClassNamesList())
                .isEqualTo(labeller.manifest().getClassNamesList())
                .startsWith("background")
                .hasSize(11);
    }

    @Test
    void shouldWriteTheIgnoreIndexWhereTheLabellerIsNotConfidentEnough() {
        LatentBatch batch = batch(0f, 3);
        batch = batch.toBuilder()
                .setJob(batch.getJob().toBuilder().setIgnoreBelowConfidence(0.9f))
                .build();
        LabelResponse answer = labelling.label(LabelRequest.newBuilder()
                .setLabeller(ModelRef.newBuilder().setName("shapes-labeller"))
                .setLatents(batch.getLatents())
                .build());
        byte[] labels = answer.getLabels().getData().toByteArray();
        float[] confidence = Tensors.toFloats(answer.getConfidence(), "confidence");

        GeneratedBatch out = labelling.label(batch);

        int total = 0;
        for (int i = 0; i < 3; i++) {
            ChwImage mask = ImageCodec.decodePng(out.getMasks(i).getPng().toByteArray(), 0f, 255f, "mask");
            int ignored = 0;
            for (int p = 0; p < 4096; p++) {
                int expected = confidence[i * 4096 + p] < 0.9f ? Labelling.IGNORED : labels[i * 4096 + p] & 0xff;
                assertThat(Math.round(mask.pixels()[p]))
                        .as("sample %d pixel %d", i, p)
                        .isEqualTo(expected);
                ignored += expected == Labelling.IGNORED ? 1 : 0;
            }
            assertThat(out.getIgnoredPixels(i)).isEqualTo(ignored);
            total += ignored;
        }
        assertThat(total).as("some pixels are below 0.9").isPositive();
    }

    /** The first {@code count} latents of a labelled prior job with truncation psi. */
    private static LatentBatch batch(float psi, int count) {
        DatasetJob job = DatasetJob.newBuilder()
                .setJobId("filtered")
                .setModel(ModelRef.newBuilder().setName("shapes-generator"))
                .setLabeller(ModelRef.newBuilder().setName("shapes-labeller"))
                .setCount(count)
                .setSeed(11)
                .setTruncationPsi(psi)
                .build();
        List<LatentBatch> batches = new ArrayList<>();
        new Sampling(repository, 1024, count).plan(job).forEachRemaining(batches::add);
        assertThat(batches).hasSize(1);
        return batches.getFirst();
    }
}
