package dev.genaug.domain.sampling;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.genaug.api.model.v1.RadiusCalibration;
import dev.genaug.domain.error.FailedPreconditionException;
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

    public static void write(ResolvedModel generator, RadiusCalibration calibration) {
        try {
            Files.writeString(file(generator), JsonFormat.printer().print(calibration) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
