package dev.genaug.domain.dataset;

import dev.genaug.api.dataset.v1.RenderedPart;
import dev.genaug.api.dataset.v1.RenderedScene;
import dev.genaug.domain.random.RandomStream;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * The procedural dataset "shapes-parts": 64x64 RGB scenes of one object made of named parts, with
 * an exact part mask. Everything is drawn from {@link RandomStream#of(long, long) the stream of
 * (seed, index)}, so any process renders the same bytes for the same sample.
 *
 * <p>Three categories in a deliberately skewed mix (house 60%, tree 30%, car 10%), 2 to 4 parts
 * each, 11 label classes with the background. Position, scale, rotation, every part's colour and a
 * noisy striped background are random, so a part is recognisable by its shape and its place in the
 * object, not by its colour. Image and mask are rasterised from the same shapes without
 * anti-aliasing, so they agree pixel for pixel.
 */
public final class ShapesParts {
    public static final String NAME = "shapes-parts";
    /** Bumped whenever a change alters any rendered byte. */
    public static final int RENDERER_VERSION = 1;

    public static final int SIZE = 64;

    public static final List<String> CATEGORIES = List.of("house", "tree", "car");
    /** Cumulative category probabilities: house 0.6, tree 0.3, car 0.1. */
    private static final double[] CATEGORY_CDF = {0.6, 0.9, 1.0};

    /** Label classes, index = class id in the mask. */
    public static final List<String> CLASSES = List.of(
            "background", "wall", "roof", "door", "window", "trunk", "crown", "fruit", "body", "cabin", "wheel");

    private ShapesParts() {}

    /**
     * One rendered sample.
     *
     * @param rgb planar RGB bytes [3, 64, 64]
     * @param mask class ids [64, 64]
     */
    public record Sample(RenderedScene scene, byte[] rgb, byte[] mask) {
        public int category() {
            return scene.getCategory();
        }
    }

    private record Part(String name, Shape shape) {}

    /**
     * The first n indices of a seed's renders taken in turn from each category (house, tree, car,
     * house, ...), skipping renders of a category already taken its share: the renders a person
     * annotating a few images would pick, so that every part class is annotated whatever the skew.
     */
    public static long[] balancedIndices(long seed, int n) {
        long[] out = new long[n];
        int[] taken = new int[CATEGORIES.size()];
        java.util.List<java.util.ArrayDeque<Long>> waiting = new java.util.ArrayList<>();
        for (int c = 0; c < CATEGORIES.size(); c++) {
            waiting.add(new java.util.ArrayDeque<>());
        }
        long next = 0;
        for (int i = 0; i < n; i++) {
            int want = i % CATEGORIES.size();
            while (waiting.get(want).isEmpty()) {
                waiting.get(render(seed, next).category()).add(next);
                next++;
            }
            out[i] = waiting.get(want).poll();
            taken[want]++;
        }
        return out;
    }

    public static Sample render(long seed, long index) {
        RandomStream r = RandomStream.of(seed, index);
        double u = r.nextDouble();
        int category = 0;
        while (u >= CATEGORY_CDF[category]) {
            category++;
        }
        List<Part> parts = switch (category) {
            case 0 -> house(r);
            case 1 -> tree(r);
            default -> car(r);
        };

        double scale = 12 + 7 * r.nextDouble();
        double rotation = -30 + 60 * r.nextDouble();
        // Keep the whole object inside the frame: no part lies farther than 1.4 from the local origin.
        double margin = scale * 1.4 + 1;
        double cx = margin + (SIZE - 2 * margin) * r.nextDouble();
        double cy = margin + (SIZE - 2 * margin) * r.nextDouble();
        AffineTransform place = new AffineTransform();
        place.translate(cx, cy);
        place.rotate(Math.toRadians(rotation));
        place.scale(scale, scale);

        int[] bg = {
            (int) (40 + 175 * r.nextDouble()), (int) (40 + 175 * r.nextDouble()), (int) (40 + 175 * r.nextDouble())
        };
        double noise = 4 + 14 * r.nextDouble();
        double stripeAmplitude = 30 * r.nextDouble();
        double stripePeriod = 4 + 12 * r.nextDouble();
        double stripeAngle = 180 * r.nextDouble();

        BufferedImage image = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        BufferedImage labels = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        paintBackground(image, r, bg, noise, stripeAmplitude, stripePeriod, stripeAngle);

        Graphics2D gi = image.createGraphics();
        Graphics2D gm = labels.createGraphics();
        for (Graphics2D g : new Graphics2D[] {gi, gm}) {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        }
        RenderedScene.Builder scene = RenderedScene.newBuilder()
                .setDataset(NAME)
                .setRendererVersion(RENDERER_VERSION)
                .setSeed(seed)
                .setIndex(index)
                .setCategory(category)
                .setCategoryName(CATEGORIES.get(category))
                .setCenterX((float) cx)
                .setCenterY((float) cy)
                .setScale((float) scale)
                .setRotationDegrees((float) rotation)
                .addBackgroundRgb(bg[0])
                .addBackgroundRgb(bg[1])
                .addBackgroundRgb(bg[2])
                .setNoiseSigma((float) noise)
                .setStripeAmplitude((float) stripeAmplitude)
                .setStripePeriod((float) stripePeriod)
                .setStripeAngleDegrees((float) stripeAngle);
        for (Part part : parts) {
            Color color = randomColor(r);
            int classId = CLASSES.indexOf(part.name());
            Shape placed = place.createTransformedShape(part.shape());
            gi.setColor(color);
            gi.fill(placed);
            gm.setColor(new Color(classId, 0, 0));
            gm.fill(placed);
            scene.addParts(RenderedPart.newBuilder()
                    .setName(part.name())
                    .setClassId(classId)
                    .addRgb(color.getRed())
                    .addRgb(color.getGreen())
                    .addRgb(color.getBlue()));
        }
        gi.dispose();
        gm.dispose();

        byte[] rgb = new byte[3 * SIZE * SIZE];
        byte[] mask = new byte[SIZE * SIZE];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                int p = image.getRGB(x, y);
                int i = y * SIZE + x;
                rgb[i] = (byte) (p >> 16);
                rgb[SIZE * SIZE + i] = (byte) (p >> 8);
                rgb[2 * SIZE * SIZE + i] = (byte) p;
                mask[i] = (byte) (labels.getRGB(x, y) >> 16);
            }
        }
        return new Sample(scene.build(), rgb, mask);
    }

    private static void paintBackground(
            BufferedImage image,
            RandomStream r,
            int[] base,
            double noise,
            double amplitude,
            double period,
            double angleDegrees) {
        double a = Math.toRadians(angleDegrees);
        double kx = Math.cos(a) * 2 * Math.PI / period;
        double ky = Math.sin(a) * 2 * Math.PI / period;
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                double stripe = amplitude * Math.sin(kx * x + ky * y);
                int red = clamp(base[0] + stripe + noise * r.nextGaussian());
                int green = clamp(base[1] + stripe + noise * r.nextGaussian());
                int blue = clamp(base[2] + stripe + noise * r.nextGaussian());
                image.setRGB(x, y, red << 16 | green << 8 | blue);
            }
        }
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }

    private static Color randomColor(RandomStream r) {
        float hue = (float) r.nextDouble();
        float saturation = (float) (0.35 + 0.65 * r.nextDouble());
        float brightness = (float) (0.3 + 0.7 * r.nextDouble());
        return new Color(Color.HSBtoRGB(hue, saturation, brightness));
    }

    // Object-local geometry: the object spans about [-1, 1] on both axes, y pointing down.

    private static List<Part> house(RandomStream r) {
        List<Part> parts = new ArrayList<>();
        double roofLine = -0.15 + 0.2 * r.nextDouble();
        double halfWidth = 0.6 + 0.2 * r.nextDouble();
        parts.add(new Part("wall", new Rectangle2D.Double(-halfWidth, roofLine, 2 * halfWidth, 0.95 - roofLine)));
        Path2D roof = new Path2D.Double();
        roof.moveTo(-halfWidth - 0.15, roofLine);
        roof.lineTo(halfWidth + 0.15, roofLine);
        roof.lineTo(-0.3 + 0.6 * r.nextDouble(), -0.95);
        roof.closePath();
        parts.add(new Part("roof", roof));
        if (r.nextDouble() < 0.8) {
            double doorX = -halfWidth + 0.1 + (2 * halfWidth - 0.5) * r.nextDouble();
            parts.add(new Part("door", new Rectangle2D.Double(doorX, 0.4, 0.3, 0.55)));
        }
        if (r.nextDouble() < 0.7) {
            double side = r.nextDouble() < 0.5 ? -1 : 1;
            double wx = side > 0 ? halfWidth - 0.42 : -halfWidth + 0.12;
            parts.add(new Part("window", new Rectangle2D.Double(wx, roofLine + 0.12, 0.3, 0.28)));
        }
        return parts;
    }

    private static List<Part> tree(RandomStream r) {
        List<Part> parts = new ArrayList<>();
        double trunkHalf = 0.1 + 0.1 * r.nextDouble();
        parts.add(new Part("trunk", new Rectangle2D.Double(-trunkHalf, 0.1, 2 * trunkHalf, 0.85)));
        double rx = 0.6 + 0.3 * r.nextDouble();
        double ry = 0.5 + 0.3 * r.nextDouble();
        double crownY = -0.25;
        parts.add(new Part("crown", new Ellipse2D.Double(-rx, crownY - ry, 2 * rx, 2 * ry)));
        if (r.nextDouble() < 0.6) {
            Path2D fruit = new Path2D.Double();
            int count = 2 + (int) (3 * r.nextDouble());
            for (int i = 0; i < count; i++) {
                double angle = 2 * Math.PI * r.nextDouble();
                double dist = 0.6 * Math.sqrt(r.nextDouble());
                double fx = dist * rx * Math.cos(angle);
                double fy = crownY + dist * ry * Math.sin(angle);
                fruit.append(new Ellipse2D.Double(fx - 0.12, fy - 0.12, 0.24, 0.24), false);
            }
            parts.add(new Part("fruit", fruit));
        }
        return parts;
    }

    private static List<Part> car(RandomStream r) {
        List<Part> parts = new ArrayList<>();
        double cabinFront = 0.2 + 0.25 * r.nextDouble();
        double cabinBack = -0.55 + 0.2 * r.nextDouble();
        Path2D cabin = new Path2D.Double();
        cabin.moveTo(cabinBack - 0.1, 0.0);
        cabin.lineTo(cabinFront + 0.15, 0.0);
        cabin.lineTo(cabinFront, -0.45);
        cabin.lineTo(cabinBack + 0.1, -0.45);
        cabin.closePath();
        parts.add(new Part("cabin", cabin));
        parts.add(new Part("body", new RoundRectangle2D.Double(-0.95, -0.02, 1.9, 0.5, 0.25, 0.25)));
        double wheel = 0.2 + 0.06 * r.nextDouble();
        Path2D wheels = new Path2D.Double();
        wheels.append(new Ellipse2D.Double(-0.6 - wheel, 0.48 - wheel, 2 * wheel, 2 * wheel), false);
        wheels.append(new Ellipse2D.Double(0.6 - wheel, 0.48 - wheel, 2 * wheel, 2 * wheel), false);
        parts.add(new Part("wheel", wheels));
        return parts;
    }
}
