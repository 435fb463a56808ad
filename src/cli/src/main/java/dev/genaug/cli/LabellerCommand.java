package dev.genaug.cli;

import picocli.CommandLine.Command;

/** {@code genaug labeller}: train and evaluate DatasetGAN-style labellers. */
@Command(
        name = "labeller",
        mixinStandardHelpOptions = true,
        description = "Train, score and evaluate labellers (per-pixel segmentation from a few annotations).",
        subcommands = {LabellerTrainCommand.class, LabellerScoreCommand.class, LabellerEvalCommand.class})
final class LabellerCommand {}
