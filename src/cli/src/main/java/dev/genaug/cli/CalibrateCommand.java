package dev.genaug.cli;

import com.google.protobuf.util.JsonFormat;
import dev.genaug.api.model.v1.ClassRadius;
import dev.genaug.api.model.v1.RadiusCalibration;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.sampling.Calibrations;
import dev.genaug.domain.sampling.Judge;
import dev.genaug.domain.sampling.RadiusCalibrator;
import dev.genaug.inference.OnnxBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genaug calibrate}: the radius calibration of latent views for the reference generator.
 * Anchors are encoded held-out renders whose reconstruction the classifier puts in their true
 * category with at least {@code --anchor-confidence}; per category, the largest sigma at which the
 * target share of neighbours keep it. (An anchor the classifier barely calls loses about half its
 * neighbours at any sigma, however small: a few of them hold the agreement below the target
 * everywhere and the search ends near zero.)
 */
@Command(
        name = "calibrate",
        mixinStandardHelpOptions = true,
        description = "Calibrate the latent-view radius per class (writes calibration.json beside the generator).")
final class CalibrateCommand implements Callable<Integer> {
    @Option(names = "--agreement", defaultValue = "0.95", description = "Target share (default ${DEFAULT-VALUE}).")
    double agreement;

    @Option(names = "--anchors", defaultValue = "24", description = "Anchors per class (default ${DEFAULT-VALUE}).")
    int anchorsPerClass;

    @Option(
            names = "--anchor-confidence",
            defaultValue = "0.9",
            description = "Least probability of the true category the classifier gives an anchor's reconstruction"
                    + " (default ${DEFAULT-VALUE}).")
    double anchorConfidence;

    @Option(names = "--views", defaultValue = "16", description = "Neighbours per anchor (default ${DEFAULT-VALUE}).")
    int views;

    @Option(names = "--max-sigma", defaultValue = "3", description = "Largest sigma tried (default ${DEFAULT-VALUE}).")
    double maxSigma;

    @Option(names = "--steps", defaultValue = "8", description = "Bisection steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the neighbours (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threads", defaultValue = "2", description = "ONNX Runtime threads (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--no-write", description = "Print the calibration without writing calibration.json.")
    boolean dryRun;

    @Option(names = "--json", description = "Also write the calibration to this file.")
    Path json;

    @Option(
            names = {"--models", "--repository"},
            description = "Model repository whose shapes-generator is calibrated, as generate and up take it"
                    + " (default: deploy/model-repository of this checkout).")
    Path repositoryRoot;

    /** Refuses options that would calibrate nothing: a radius of 0 would be written for every class. */
    private void check() {
        if (!(anchorConfidence >= 0 && anchorConfidence <= 1)) {
            throw new InvalidArgumentException(
                    "--anchor-confidence", "must be between 0 and 1, got " + anchorConfidence);
        }
        if (!(agreement > 0 && agreement <= 1)) {
            throw new InvalidArgumentException("--agreement", "must be in (0, 1], got " + agreement);
        }
        if (!(maxSigma > 0) || Double.isInfinite(maxSigma)) {
            throw new InvalidArgumentException("--max-sigma", "must be finite and > 0, got " + maxSigma);
        }
        if (anchorsPerClass < 1 || views < 1 || steps < 1) {
            throw new InvalidArgumentException(
                    "--anchors, --views and --steps",
                    "must be >= 1, got " + anchorsPerClass + ", " + views + " and " + steps);
        }
    }

    @Override
    public Integer call() throws Exception {
        check();
        ModelRepository repository = ModelRepository.open(LocalStack.models(repositoryRoot));
        ResolvedModel generator = repository.resolve("shapes-generator", "", "generator");
        ResolvedModel encoder = ModelChecks.requireEncoderOf(repository, generator, "encoder", "");
        ResolvedModel classifier = repository.resolve("shapes-classifier", "", "classifier");
        int d = generator.manifest().getLatent().getDimension();
        List<String> classes = classifier.manifest().getClassNamesList();
        RadiusCalibration.Builder calibration = RadiusCalibration.newBuilder()
                .setClassifier(classifier.name())
                .setAgreement(agreement)
                .setAnchorConfidence(anchorConfidence)
                .setMaxSigma(maxSigma)
                .setGeneratorVersion(Long.toString(generator.version()))
                .setGeneratorSha256(ModelChecks.modelSha256(generator, "generator"));
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(threads, false))) {
            Judge judge = new Judge(onnx, generator, classifier);
            RadiusCalibrator calibrator = new RadiusCalibrator(judge, d, views, agreement, seed);
            // Held-out renders (seed 2), scanned until every class has its anchors.
            float[][] anchors = new float[classes.size()][anchorsPerClass * d];
            int[] found = new int[classes.size()];
            for (int start = 0; start < 20_000 && minimum(found) < anchorsPerClass; start += 128) {
                List<byte[]> rgb = new ArrayList<>();
                int[] truth = new int[128];
                for (int i = 0; i < 128; i++) {
                    ShapesParts.Sample s = ShapesParts.render(2, start + i);
                    truth[i] = s.category();
                    rgb.add(s.rgb());
                }
                float[] mu = RenderEncoding.encode(onnx, encoder, rgb);
                float[] p = judge.probabilities(mu, 128);
                int k = classes.size();
                for (int i = 0; i < 128; i++) {
                    int c = truth[i];
                    if (Judge.argmax(p, i, k) == c && p[i * k + c] >= anchorConfidence && found[c] < anchorsPerClass) {
                        System.arraycopy(mu, i * d, anchors[c], found[c] * d, d);
                        found[c]++;
                    }
                }
            }
            for (int c = 0; c < classes.size(); c++) {
                if (found[c] == 0) {
                    System.err.printf("genaug calibrate: no anchor of class %s found; skipped%n", classes.get(c));
                    continue;
                }
                ClassRadius radius = calibrator.calibrate(classes.get(c), c, anchors[c], found[c], maxSigma, steps);
                calibration.addClasses(radius);
                System.out.printf(
                        "%-8s sigma %.3f  (%d anchors x %d neighbours, agreement >= %.2f)%s%n",
                        classes.get(c),
                        radius.getSigma(),
                        found[c],
                        views,
                        agreement,
                        radius.getSigma() >= maxSigma
                                ? String.format(
                                        "; agreement %.3f at the search's upper end: a lower bound (--max-sigma)",
                                        radius.getAgreementMeasured(0))
                                : "");
            }
        }
        RadiusCalibration result = calibration.build();
        if (!dryRun) {
            Calibrations.write(generator, result);
            System.out.println("written to " + Calibrations.file(generator));
        }
        if (json != null) {
            Files.writeString(json, JsonFormat.printer().print(result) + "\n");
        }
        return 0;
    }

    private static int minimum(int[] values) {
        int m = Integer.MAX_VALUE;
        for (int v : values) {
            m = Math.min(m, v);
        }
        return m;
    }
}
