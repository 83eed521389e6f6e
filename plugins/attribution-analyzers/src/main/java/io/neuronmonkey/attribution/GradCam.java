package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * Grad-CAM at one spatial layer {@code A} (delivered channels last, {@code [n, h, w, c]}): channel weights
 * {@code alpha_c = mean over positions of d target / d A_c}, the map {@code ReLU(sum_c alpha_c A_c)} at the layer's
 * resolution, then upsampled to the input's height and width by bilinear interpolation with half-pixel centres
 * (align corners false: output pixel {@code i} samples the layer at {@code (i + 0.5) * h / H - 0.5}, clamped to the
 * layer's edge) and broadcast over the input's channels, so the result is shaped like the inputs. One batched
 * gradient and one batched run per batch.
 */
final class GradCam implements AttributionMethod {

    private final String layer;

    /**
     * @param layer a spatial layer of the model ({@link LayerInfo#spatial()})
     * @throws IllegalArgumentException when the name is blank
     */
    GradCam(String layer) {
        if (layer == null || layer.isBlank()) {
            throw new IllegalArgumentException("grad-cam needs a spatial layer name, found '" + layer + "'");
        }
        this.layer = layer;
    }

    @Override
    public String name() {
        return "grad-cam";
    }

    @Override
    public boolean needsGradients() {
        return true;
    }

    /**
     * Maps at the layer's resolution.
     *
     * @param alpha {@code [n * c]}: each row's channel weights
     * @param maps  {@code [n * h * w]}: each row's map {@code ReLU(sum_c alpha_c A_c)}
     * @param h     the layer's height
     * @param w     the layer's width
     * @param c     the layer's channels
     */
    record Coarse(float[] alpha, float[] maps, int h, int w, int c) {
    }

    /**
     * @param model the model
     * @return the layer, checked to be spatial
     * @throws AnalysisException naming the spatial layers when it is missing or not spatial
     */
    LayerInfo layerOf(LoadedModel model) {
        LayerInfo l = model.layer(layer).orElse(null);
        if (l == null || !l.spatial()) {
            List<String> spatial = model.layers().stream().filter(LayerInfo::spatial).map(LayerInfo::name).toList();
            throw new AnalysisException("grad-cam layer '" + layer + "' "
                    + (l == null ? "is not a layer of the model" : "is not spatial (shape " + Arrays.toString(l.shape())
                    + ", needs [height, width, channels])") + "; spatial layers: "
                    + (spatial.isEmpty() ? "none" : String.join(", ", spatial)));
        }
        return l;
    }

    /**
     * @param model      the model
     * @param inputs     the batch's inputs
     * @param target     what is explained
     * @param targetRows the neuron explained in each row
     * @return channel weights and maps at the layer's resolution
     */
    Coarse coarse(LoadedModel model, ModelInputs inputs, Target.Bound target, int[] targetRows) {
        LayerInfo l = layerOf(model);
        int[] s = l.shape();
        int h = s[0];
        int w = s[1];
        int c = s[2];
        int positions = h * w;
        int n = inputs.rows();
        float[] a = model.run(inputs, List.of(layer), List.of()).get(layer).floats();
        float[] g = model.gradient(inputs, target.gradientTarget(targetRows, 1), layer, List.of()).floats();
        float[] alpha = new float[n * c];
        double[] acc = new double[c];
        for (int e = 0; e < n; e++) {
            Arrays.fill(acc, 0);
            int base = e * positions * c;
            for (int p = 0; p < positions; p++) {
                int o = base + p * c;
                for (int k = 0; k < c; k++) {
                    acc[k] += g[o + k];
                }
            }
            for (int k = 0; k < c; k++) {
                alpha[e * c + k] = (float) (acc[k] / positions);
            }
        }
        float[] maps = new float[n * positions];
        for (int e = 0; e < n; e++) {
            for (int p = 0; p < positions; p++) {
                int o = (e * positions + p) * c;
                double sum = 0;
                for (int k = 0; k < c; k++) {
                    sum += (double) alpha[e * c + k] * a[o + k];
                }
                maps[e * positions + p] = (float) Math.max(0, sum);
            }
        }
        return new Coarse(alpha, maps, h, w, c);
    }

    @Override
    public Tensor attribute(LoadedModel model, Batch batch, Target.Bound target, int[] targetRows) {
        Tensor in = batch.inputs();
        int[] shape = in.shape();
        if (shape.length != 4) {
            throw new AnalysisException("grad-cam needs image examples [height, width, channels]; the batch is "
                    + Arrays.toString(shape));
        }
        Coarse cam = coarse(model, batch.modelInputs(), target, targetRows);
        int n = shape[0];
        int outH = shape[1];
        int outW = shape[2];
        int ch = shape[3];
        int[] y0 = new int[outH];
        int[] y1 = new int[outH];
        float[] fy = new float[outH];
        axis(cam.h(), outH, y0, y1, fy);
        int[] x0 = new int[outW];
        int[] x1 = new int[outW];
        float[] fx = new float[outW];
        axis(cam.w(), outW, x0, x1, fx);
        float[] out = new float[in.size()];
        float[] m = cam.maps();
        int lw = cam.w();
        for (int e = 0; e < n; e++) {
            int mb = e * cam.h() * lw;
            for (int i = 0; i < outH; i++) {
                int r0 = mb + y0[i] * lw;
                int r1 = mb + y1[i] * lw;
                for (int j = 0; j < outW; j++) {
                    float top = m[r0 + x0[j]] + (m[r0 + x1[j]] - m[r0 + x0[j]]) * fx[j];
                    float bottom = m[r1 + x0[j]] + (m[r1 + x1[j]] - m[r1 + x0[j]]) * fx[j];
                    float v = top + (bottom - top) * fy[i];
                    int o = ((e * outH + i) * outW + j) * ch;
                    Arrays.fill(out, o, o + ch, v);
                }
            }
        }
        return Tensor.ofFloats(out, shape);
    }

    /** Bilinear sampling positions along one axis, half-pixel centres, clamped to the source's edge. */
    private static void axis(int in, int out, int[] lo, int[] hi, float[] frac) {
        double scale = (double) in / out;
        for (int i = 0; i < out; i++) {
            double src = Math.max(0, (i + 0.5) * scale - 0.5);
            int l = Math.min((int) Math.floor(src), in - 1);
            lo[i] = l;
            hi[i] = Math.min(l + 1, in - 1);
            frac[i] = (float) (src - l);
        }
    }
}
