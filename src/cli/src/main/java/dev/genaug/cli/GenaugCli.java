package dev.genaug.cli;

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
        System.exit(new CommandLine(new GenaugCli()).execute(args));
    }
}
