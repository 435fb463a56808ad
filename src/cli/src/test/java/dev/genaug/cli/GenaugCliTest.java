package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class GenaugCliTest {

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = GenaugCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void shouldPrintBadInputAsOneLineWithExitCodeTwoWhenTheDomainRefusesIt(@TempDir Path repository) {
        int code = run(
                "labeller", "train", "--from-renders", "2", "--ensemble", "1000", "--models", repository.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString().strip())
                .isEqualTo("genaug labeller train: ensemble_size: must be at most 64, got 1000");
    }

    @Test
    void shouldNameTheMissingModelWithoutAStackTraceWhenTheGeneratorIsNotInTheRepository(@TempDir Path repository) {
        int code = run("labeller", "train", "--from-renders", "2", "--models", repository.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString().strip())
                .startsWith("genaug labeller train: generator: ")
                .contains("'shapes-generator'")
                .doesNotContain("\tat ")
                .hasLineCount(1);
    }

    @Test
    void shouldRefuseEvaluationSettingsOutOfRange() {
        assertThat(run("labeller", "eval", "--annotations", "16,0")).isEqualTo(2);
        assertThat(run("labeller", "eval", "--held-out", "0")).isEqualTo(2);
        assertThat(run("labeller", "eval", "--ensemble", "0")).isEqualTo(2);
        assertThat(run("labeller", "eval", "--hidden", "128,0")).isEqualTo(2);
        assertThat(run("labeller", "eval", "--prior-correction", "-0.5")).isEqualTo(2);
        assertThat(run("labeller", "eval", "--drop-fraction", "1")).isEqualTo(2);
        assertThat(err.toString().lines().toList())
                .containsExactly(
                        "genaug labeller eval: --annotations: each must be in [1, 2048], got 0",
                        "genaug labeller eval: --held-out: must be >= 1, got 0",
                        "genaug labeller eval: --ensemble: must be in [1, 64], got 0",
                        "genaug labeller eval: --hidden: each width must be in [1, 4096], got 0",
                        "genaug labeller eval: --prior-correction: must be a finite value >= 0, got -0.5",
                        "genaug labeller eval: --drop-fraction: must be in [0, 1), got 1.0");
    }

    @Test
    void shouldRefuseSamplingNothing() {
        assertThat(run("sample", "--count", "0")).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("genaug sample: --count: must be >= 1, got 0");
    }

    @Test
    void shouldRefuseACalibrationThatWouldWriteSigmaZero() {
        assertThat(run("calibrate", "--views", "0")).isEqualTo(2);
        assertThat(run("calibrate", "--steps", "0")).isEqualTo(2);
        assertThat(run("calibrate", "--agreement", "1.5")).isEqualTo(2);
        assertThat(err.toString().lines().toList())
                .containsExactly(
                        "genaug calibrate: --anchors, --views and --steps: must be >= 1, got 24, 0 and 8",
                        "genaug calibrate: --anchors, --views and --steps: must be >= 1, got 24, 16 and 0",
                        "genaug calibrate: --agreement: must be in (0, 1], got 1.5");
    }

    @Test
    void shouldRefuseTrainingFromNoRenders(@TempDir Path repository) {
        assertThat(run("labeller", "train", "--from-renders", "0", "--models", repository.toString()))
                .isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("genaug labeller train: --from-renders: must be >= 1, got 0");
    }
}
