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
            TopicsCommand.class,
            DatasetCommand.class,
            BenchCommand.class
        })
public final class GenaugCli {

    public static void main(String[] args) {
        System.exit(new CommandLine(new GenaugCli()).execute(args));
    }
}
