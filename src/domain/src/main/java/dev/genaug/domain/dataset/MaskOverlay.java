package dev.genaug.domain.dataset;

import dev.genaug.domain.labelling.Labelling;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** An image with its label map laid over it (each class in its own colour, half opaque), as PNG. */
public final class MaskOverlay {
    private MaskOverlay() {}

    /** Class colour: background clear, then well-separated hues (golden-angle steps); ignored pixels grey. */
    static int colour(int classId) {
        if (classId == Labelling.IGNORED) {
            return 0x808080;
        }
        float hue = (classId * 0.618034f) % 1f;
        return java.awt.Color.HSBtoRGB(hue, 0.85f, 1f) & 0xffffff;
    }

    /** The colour class {@code classId} is laid over with, "#rrggbb"; "" for class 0, which is not. */
    public static String colourName(int classId) {
        return classId == 0 ? "" : String.format("#%06x", colour(classId));
    }

    public static byte[] of(byte[] imagePng, byte[] maskPng) {
        try {
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(imagePng));
            BufferedImage mask = ImageIO.read(new ByteArrayInputStream(maskPng));
            int w = image.getWidth();
            int h = image.getHeight();
            BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = image.getRGB(x, y) & 0xffffff;
                    int id = mask.getRaster().getSample(x, y, 0);
                    if (id != 0) {
                        int c = colour(id);
                        rgb = ((((rgb >> 16) & 0xff) + ((c >> 16) & 0xff)) / 2) << 16
                                | ((((rgb >> 8) & 0xff) + ((c >> 8) & 0xff)) / 2) << 8
                                | (((rgb & 0xff) + (c & 0xff)) / 2);
                    }
                    out.setRGB(x, y, rgb);
                }
            }
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(out, "png", png);
            return png.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot overlay a mask", e);
        }
    }
}
