package dev.genaug.domain.dataset;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import javax.imageio.ImageIO;

/** A PNG contact sheet of sample images, row by row, with a 2-pixel gutter. */
public final class PreviewGrid {
    private static final int GUTTER = 2;

    private PreviewGrid() {}

    /**
     * @param pngs the images, all the same size (the first one's size sets the cell)
     * @param columns cells per row
     */
    public static byte[] of(List<byte[]> pngs, int columns) {
        if (pngs.isEmpty() || columns < 1) {
            throw new IllegalArgumentException("a preview needs at least one image and one column");
        }
        try {
            BufferedImage first = read(pngs.get(0));
            int cw = first.getWidth();
            int ch = first.getHeight();
            int cols = Math.min(columns, pngs.size());
            int rows = (pngs.size() + cols - 1) / cols;
            BufferedImage sheet = new BufferedImage(
                    cols * cw + (cols + 1) * GUTTER, rows * ch + (rows + 1) * GUTTER, BufferedImage.TYPE_3BYTE_BGR);
            Graphics2D g = sheet.createGraphics();
            try {
                g.setColor(Color.WHITE);
                g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
                for (int i = 0; i < pngs.size(); i++) {
                    BufferedImage cell = i == 0 ? first : read(pngs.get(i));
                    int x = GUTTER + (i % cols) * (cw + GUTTER);
                    int y = GUTTER + (i / cols) * (ch + GUTTER);
                    g.drawImage(cell, x, y, cw, ch, null);
                }
            } finally {
                g.dispose();
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(sheet, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static BufferedImage read(byte[] png) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        if (image == null) {
            throw new IOException("not a readable image");
        }
        return image;
    }
}
