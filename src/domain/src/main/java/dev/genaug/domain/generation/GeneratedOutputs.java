package dev.genaug.domain.generation;

import com.google.protobuf.UnsafeByteOperations;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.generator.v1.GenerateResponse;
import dev.genaug.api.generator.v1.ImageEncoding;
import dev.genaug.api.model.v1.ImageSpec;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.PngEncoder;
import dev.genaug.domain.tensor.Tensors;
import java.util.List;

/** Turns a generator's output tensors into the encodings a response asks for. */
public final class GeneratedOutputs {
    private GeneratedOutputs() {}

    /** PNG bytes of each image of a batch [N, C, H, W] in the spec's value range. */
    public static List<byte[]> pngs(FloatTensor images, ImageSpec spec) {
        int n = images.rows();
        int c = (int) images.shape()[1];
        int h = (int) images.shape()[2];
        int w = (int) images.shape()[3];
        int per = c * h * w;
        byte[] pixels = ImageCodec.toUint8(images.data(), spec.getValueMin(), spec.getValueMax());
        byte[][] out = new byte[n][];
        try (PngEncoder encoder = new PngEncoder()) {
            for (int i = 0; i < n; i++) {
                out[i] = encoder.encodeImage(pixels, i * per, c, h, w);
            }
        }
        return List.of(out);
    }

    static void addImages(
            GenerateResponse.Builder response, FloatTensor images, ImageEncoding encoding, ImageSpec spec) {
        switch (encoding) {
            case IMAGE_ENCODING_UNSPECIFIED, IMAGE_ENCODING_PNG -> {
                for (byte[] png : pngs(images, spec)) {
                    response.addImages(Image.newBuilder()
                            .setPng(UnsafeByteOperations.unsafeWrap(png))
                            .setChannels((int) images.shape()[1])
                            .setHeight((int) images.shape()[2])
                            .setWidth((int) images.shape()[3]));
                }
            }
            case IMAGE_ENCODING_RAW_FP32 -> response.setImageTensor(Tensors.fp32(images.data(), images.shape()));
            case IMAGE_ENCODING_RAW_UINT8 ->
                response.setImageTensor(Tensors.uint8(
                        ImageCodec.toUint8(images.data(), spec.getValueMin(), spec.getValueMax()), images.shape()));
            case IMAGE_ENCODING_NONE, UNRECOGNIZED -> {}
        }
    }
}
