package dev.genaug.domain.inference;

import java.util.Arrays;

/** A dense FP32 tensor in row-major order; the first dimension is the batch. */
public record FloatTensor(long[] shape, float[] data) {
    public FloatTensor {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative extent in " + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException(data.length + " values do not fill " + Arrays.toString(shape));
        }
    }

    /** Rows along the first dimension. */
    public int rows() {
        return (int) shape[0];
    }

    /** Values per row. */
    public int rowSize() {
        return rows() == 0 ? 0 : data.length / rows();
    }

    /** Rows [from, from + count) as a new tensor. */
    public FloatTensor slice(int from, int count) {
        long[] s = shape.clone();
        s[0] = count;
        int size = rowSize();
        return new FloatTensor(s, Arrays.copyOfRange(data, from * size, (from + count) * size));
    }

    /** Concatenation along the first dimension; all parts must agree on the other dimensions. */
    public static FloatTensor concat(java.util.List<FloatTensor> parts) {
        long[] s = parts.getFirst().shape().clone();
        int rows = 0;
        int total = 0;
        for (FloatTensor p : parts) {
            if (!Arrays.equals(
                    Arrays.copyOfRange(p.shape(), 1, p.shape().length), Arrays.copyOfRange(s, 1, s.length))) {
                throw new IllegalArgumentException(
                        "cannot concatenate " + Arrays.toString(p.shape()) + " to " + Arrays.toString(s));
            }
            rows += p.rows();
            total += p.data().length;
        }
        s[0] = rows;
        float[] data = new float[total];
        int at = 0;
        for (FloatTensor p : parts) {
            System.arraycopy(p.data(), 0, data, at, p.data().length);
            at += p.data().length;
        }
        return new FloatTensor(s, data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FloatTensor t && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
