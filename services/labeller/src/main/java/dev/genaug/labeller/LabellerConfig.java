package dev.genaug.labeller;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Settings of the labeller service. */
@ConfigMapping(prefix = "genaug.labeller")
public interface LabellerConfig {
    /** Most latents one Label request may carry (RESOURCE_EXHAUSTED above). */
    @WithDefault("256")
    int maxLabel();

    /** Ensemble members trained at once; 0: one per core. */
    @WithDefault("0")
    int trainThreads();

    /** ONNX Runtime threads per run of the generator and the labeller; 0: one per core. */
    @WithDefault("0")
    int onnxThreads();

    /**
     * Run the generator and the labeller on ONNX Runtime's CUDA execution provider where this
     * process has it (falls back to the CPU), so that on a GPU node the labeller runs on the GPU
     * beside the generator it reads.
     */
    @WithDefault("true")
    boolean onnxCuda();

    /**
     * On the CPU, label with genaug's fused kernel (JDK vector API: the JVM needs
     * {@code --add-modules jdk.incubator.vector}) rather than ONNX Runtime: about twice the rate,
     * the same labels. Int8 labellers, and every labeller where the CUDA provider runs, stay on ONNX Runtime.
     */
    @WithDefault("true")
    boolean fused();
}
