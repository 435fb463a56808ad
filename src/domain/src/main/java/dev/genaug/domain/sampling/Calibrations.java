package dev.genaug.domain.sampling;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.genaug.api.model.v1.RadiusCalibration;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ResolvedModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** calibration.json beside a generator's manifest (RadiusCalibration in protobuf's JSON mapping). */
public final class Calibrations {
    public static final String FILE = "calibration.json";

    private Calibrations() {}

    public static Path file(ResolvedModel generator) {
        return generator.entry().directory().resolve(FILE);
    }

    /** @throws FailedPreconditionException when the generator has none, or a broken one */
    public static RadiusCalibration read(ResolvedModel generator) {
        Path file = file(generator);
        if (!Files.isRegularFile(file)) {
            throw new FailedPreconditionException("model '" + generator.name() + "' has no radius calibration (" + FILE
                    + "); make one with `genaug calibrate`");
        }
        try {
            RadiusCalibration.Builder b = RadiusCalibration.newBuilder();
            JsonFormat.parser().merge(Files.readString(file, StandardCharsets.UTF_8), b);
            return b.build();
        } catch (InvalidProtocolBufferException e) {
            throw new FailedPreconditionException(
                    "model '" + generator.name() + "': " + FILE + " is not a RadiusCalibration: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The generator's calibration, checked to have been made with this version and model file:
     * another version's latent space, or the same number exported again, has other radii, and
     * using them would draw views silently off.
     *
     * @param field the request field that asked for calibrated radii, named in errors
     * @throws FailedPreconditionException when there is none, or it was made with another version
     *     or model file
     */
    public static RadiusCalibration readMadeWith(ResolvedModel generator, String field) {
        RadiusCalibration calibration = read(generator);
        String version = Long.toString(generator.version());
        String prefix = field + ": the radius calibration of '" + generator.name() + "' (" + FILE + ") was made with ";
        if (!calibration.getGeneratorVersion().isEmpty()
                && !calibration.getGeneratorVersion().equals(version)) {
            throw new FailedPreconditionException(prefix + "version " + calibration.getGeneratorVersion()
                    + ", not version " + version + ": name version " + calibration.getGeneratorVersion()
                    + " in model.version, or calibrate version " + version + " again");
        }
        String file = calibration.getGeneratorSha256();
        if (!file.isEmpty() && !file.equals(ModelChecks.modelSha256(generator, field))) {
            throw new FailedPreconditionException(prefix + "another model file of version " + version
                    + " (it was exported again under the same number): calibrate it again");
        }
        return calibration;
    }

    public static void write(ResolvedModel generator, RadiusCalibration calibration) {
        try {
            Files.writeString(file(generator), JsonFormat.printer().print(calibration) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
