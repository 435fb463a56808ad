package dev.genaug.cli;

import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.GenaugException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.NotFoundException;
import dev.genaug.domain.error.ResourceExhaustedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code genaug} command. */
@Command(
        name = "genaug",
        mixinStandardHelpOptions = true,
        version = "genaug 0.1.0",
        description = "A trained generative model as a source of training data.",
        subcommands = {
            UpCommand.class,
            GenerateCommand.class,
            SampleCommand.class,
            ViewsCommand.class,
            PicturesCommand.class,
            CalibrateCommand.class,
            TopicsCommand.class,
            DatasetCommand.class,
            BenchCommand.class,
            LabellerCommand.class
        })
public final class GenaugCli {
    // grpc-java logs through java.util.logging; its start-up notes are not for users. Held here
    // so the setting is not garbage-collected with the logger.
    private static final java.util.logging.Logger GRPC_LOG = java.util.logging.Logger.getLogger("io.grpc");

    public static void main(String[] args) {
        GRPC_LOG.setLevel(java.util.logging.Level.WARNING);
        System.exit(commandLine().execute(args));
    }

    /**
     * The command line. A failure the domain reports (a {@link GenaugException}: bad input, a
     * missing model, ...) from a command that runs domain code in this process is one line on
     * stderr, {@code genaug <command>: <message>}, not a stack trace; exit code 2 when the input
     * was at fault, 1 otherwise. Any other exception keeps picocli's report.
     */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new GenaugCli());
        cli.setExecutionExceptionHandler((e, command, parsed) -> {
            if (!(e instanceof GenaugException failure)) {
                throw e;
            }
            command.getErr().println(command.getCommandSpec().qualifiedName() + ": " + failure.getMessage());
            return switch (failure) {
                case InvalidArgumentException x -> 2;
                case NotFoundException x -> 2;
                case FailedPreconditionException x -> 2;
                case ResourceExhaustedException x -> 2;
                default -> 1;
            };
        });
        return cli;
    }
}
