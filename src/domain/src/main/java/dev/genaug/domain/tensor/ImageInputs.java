package dev.genaug.domain.tensor;

import dev.genaug.api.common.v1.DType;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.model.v1.ImageSpec;
import dev.genaug.domain.error.InvalidArgumentException;

/**
 * Images of a request, checked against the model's image spec and decoded to planar floats in
 * the model's value range. No resizing: a wrong size is an error naming the image.
 */
public final class ImageInputs {
    private ImageInputs() {}

    public static ChwImage decode(Image image, ImageSpec spec, String field) {
        ChwImage chw = switch (image.getContentCase()) {
            case PNG ->
                ImageCodec.decodePng(
                        image.getPng().toByteArray(), spec.getValueMin(), spec.getValueMax(), field + ".png");
            case TENSOR -> fromTensor(image, spec, field + ".tensor");
            case CONTENT_NOT_SET -> throw new InvalidArgumentException(field, "has neither png nor tensor content");
        };
        if (image.getWidth() != 0 && image.getWidth() != chw.width()
                || image.getHeight() != 0 && image.getHeight() != chw.height()
                || image.getChannels() != 0 && image.getChannels() != chw.channels()) {
            throw new InvalidArgumentException(
                    field,
                    "declares " + image.getChannels() + "x" + image.getHeight() + "x" + image.getWidth()
                            + " (CxHxW) but holds " + chw.channels() + "x" + chw.height() + "x" + chw.width());
        }
        if (chw.channels() != spec.getChannels()) {
            throw new InvalidArgumentException(
                    field, "has " + chw.channels() + " channels, the model needs " + spec.getChannels());
        }
        if (chw.width() != spec.getWidth() || chw.height() != spec.getHeight()) {
            throw new InvalidArgumentException(
                    field,
                    "is " + chw.width() + "x" + chw.height() + " pixels, the model needs " + spec.getWidth() + "x"
                            + spec.getHeight() + " (genaug does not resize)");
        }
        return chw;
    }

    private static ChwImage fromTensor(Image image, ImageSpec spec, String field) {
        var t = image.getTensor();
        Tensors.validate(t, field);
        if (t.getShapeCount() != 3) {
            throw new InvalidArgumentException(
                    field + ".shape", "must be [channels, height, width], got " + t.getShapeList());
        }
        int c = (int) t.getShape(0);
        int h = (int) t.getShape(1);
        int w = (int) t.getShape(2);
        if (c < 1 || h < 1 || w < 1) {
            throw new InvalidArgumentException(field + ".shape", "every extent must be >= 1, got " + t.getShapeList());
        }
        float[] pixels = t.getDtype() == DType.DTYPE_UINT8
                ? ImageCodec.fromUint8(t.getData().toByteArray(), spec.getValueMin(), spec.getValueMax())
                : Tensors.toFloats(t, field);
        return new ChwImage(c, h, w, pixels);
    }
}
