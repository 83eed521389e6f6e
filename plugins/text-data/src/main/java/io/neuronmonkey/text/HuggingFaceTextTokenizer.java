package io.neuronmonkey.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronmonkey.api.DataException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * A Hugging Face {@code tokenizer.json} (WordPiece, BPE, Unigram or WordLevel model with its normalizer,
 * pre-tokenizer and post-processor) run by DJL's tokenizers library, whose native library ships inside its jar.
 * <p>
 * The native library is extracted on first use to DJL's cache folder ({@code ~/.djl.ai/tokenizers}, or
 * {@code $DJL_CACHE_DIR/tokenizers}); nothing is downloaded. DJL finds the library through the thread's context class
 * loader, which inside a plugin is not the plugin's, so every call into DJL runs with the plugin's class loader as
 * the context class loader.
 * <p>
 * Encodings come without padding or truncation; {@link #truncate} cuts a long text the tokenizer's way (the text's
 * tokens are cut, its special tokens kept). Offsets are converted from the library's code-point offsets to Java
 * string indices. The pad id is the file's {@code padding.pad_id}, else the id of a {@code [PAD]} or {@code <pad>}
 * token, else 0. Token type ids are always given. DJL's CUDA probe logs its errors only (set
 * {@code org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils} to see more).
 */
final class HuggingFaceTextTokenizer implements TextTokenizer {

    private static final Set<String> MODELS = Set.of("WordPiece", "BPE", "Unigram", "WordLevel");

    /** The logger of DJL's CUDA probe, which tokenizers (CPU code) never need. */
    private static final String CUDA_PROBE_LOG = "org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils";

    static {
        // DJL asks CUDA for a GPU count when it picks its native build and warns where a CUDA runtime lies around
        // without a driver; for a tokenizer that is noise, so only its errors are shown unless the user chose a level
        if (System.getProperty(CUDA_PROBE_LOG) == null) {
            System.setProperty(CUDA_PROBE_LOG, "error");
        }
    }

    private final Path file;
    private final HuggingFaceTokenizer full;
    private final HuggingFaceTokenizer truncating;
    private final int padId;

    private HuggingFaceTextTokenizer(Path file, HuggingFaceTokenizer full, HuggingFaceTokenizer truncating, int padId) {
        this.file = file;
        this.full = full;
        this.truncating = truncating;
        this.padId = padId;
    }

    /**
     * @param path      a {@code tokenizer.json}, or a folder holding one
     * @param maxLength the length {@link #truncate} cuts to
     * @param param     the params key the path came from, for messages
     * @return the tokenizer
     * @throws DataException naming the file when it is missing, not JSON, not a tokenizer, or the library fails
     */
    static HuggingFaceTextTokenizer load(Path path, int maxLength, String param) {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new DataException("Hugging Face tokenizer not found: " + file + " (params." + param + ")");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw notATokenizer(file, "it is not JSON (" + firstLine(e.getMessage()) + ")");
        }
        if (root == null || !root.isObject()) {
            throw notATokenizer(file, "it holds " + (root == null ? "nothing" : "a JSON " + root.getNodeType()
                    .name().toLowerCase(java.util.Locale.ROOT)));
        }
        JsonNode model = root.get("model");
        if (model == null || !model.isObject()) {
            List<String> keys = new java.util.ArrayList<>();
            root.fieldNames().forEachRemaining(keys::add);
            throw notATokenizer(file, "it has no \"model\" object; its keys are " + keys);
        }
        JsonNode type = model.get("type");
        if (type != null && !MODELS.contains(type.asText())) {
            throw notATokenizer(file, "its model type is '" + type.asText() + "'");
        }
        int pad = padId(root, model);
        HuggingFaceTokenizer full = withPluginLoader(file, () -> HuggingFaceTokenizer.newInstance(file,
                Map.of("padding", "false", "truncation", "false")));
        HuggingFaceTokenizer cut;
        try {
            cut = withPluginLoader(file, () -> HuggingFaceTokenizer.newInstance(file,
                    Map.of("padding", "false", "truncation", "true", "maxLength", Integer.toString(maxLength))));
        } catch (DataException e) {
            full.close();
            throw e;
        }
        return new HuggingFaceTextTokenizer(file, full, cut, pad);
    }

    private static DataException notATokenizer(Path file, String found) {
        return new DataException(file + " is not a Hugging Face tokenizer.json: expected a JSON object with a \"model\" "
                + "of type WordPiece, BPE, Unigram or WordLevel (as tokenizers' save() writes it), but " + found);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static int padId(JsonNode root, JsonNode model) {
        JsonNode padding = root.get("padding");
        if (padding != null && padding.isObject() && padding.has("pad_id")) {
            return padding.get("pad_id").asInt();
        }
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.path("content").asText();
            if ((content.equals("[PAD]") || content.equals("<pad>")) && t.has("id")) {
                return t.get("id").asInt();
            }
        }
        JsonNode vocab = model.get("vocab");
        if (vocab != null && vocab.isObject()) {
            for (String name : List.of("[PAD]", "<pad>")) {
                if (vocab.has(name)) {
                    return vocab.get(name).asInt();
                }
            }
        }
        return 0;
    }

    /** Runs a DJL call with this plugin's class loader as the context class loader, where DJL looks for its files. */
    private static <T> T withPluginLoader(Path file, Callable<T> call) {
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        thread.setContextClassLoader(HuggingFaceTextTokenizer.class.getClassLoader());
        try {
            return call.call();
        } catch (Exception | LinkageError | AssertionError e) {
            throw new DataException("Hugging Face tokenizer " + file + " could not be loaded or run: " + describe(e)
                    + " (the native library is extracted to $DJL_CACHE_DIR/tokenizers, by default ~/.djl.ai/tokenizers;"
                    + " that folder must be writable)", e);
        } finally {
            thread.setContextClassLoader(before);
        }
    }

    private static String describe(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null && b.length() < 400; t = t.getCause()) {
            if (b.length() > 0) {
                b.append(": ");
            }
            b.append(t.getMessage() == null ? t.getClass().getSimpleName() : firstLine(t.getMessage()));
        }
        return b.toString();
    }

    @Override
    public TextEncoding encode(String text, boolean addSpecialTokens) {
        return convert(text, withPluginLoader(file, () -> full.encode(text, addSpecialTokens, false)));
    }

    /** Encodes the texts in one call into the library, which works through them in parallel. */
    @Override
    public List<TextEncoding> encodeAll(List<String> texts, boolean addSpecialTokens) {
        Encoding[] all = withPluginLoader(file, () -> full.batchEncode(texts, addSpecialTokens, false));
        List<TextEncoding> out = new java.util.ArrayList<>(all.length);
        for (int i = 0; i < all.length; i++) {
            out.add(convert(texts.get(i), all[i]));
        }
        return out;
    }

    @Override
    public TextEncoding truncate(String text, TextEncoding encoding, boolean addSpecialTokens, int maxLength) {
        TextEncoding cut = convert(text, withPluginLoader(file, () -> truncating.encode(text, addSpecialTokens, false)));
        return cut.length() <= maxLength ? cut : cut.truncated(maxLength);
    }

    /** Frees both native tokenizers. */
    @Override
    public void close() {
        full.close();
        truncating.close();
    }

    @Override
    public boolean hasTypeIds() {
        return true;
    }

    @Override
    public int padId() {
        return padId;
    }

    private static TextEncoding convert(String text, Encoding e) {
        long[] ids = e.getIds();
        long[] types = e.getTypeIds();
        CharSpan[] spans = e.getCharTokenSpans();
        int n = ids.length;
        int[] outIds = new int[n];
        int[] outTypes = new int[n];
        int[] starts = new int[n];
        int[] ends = new int[n];
        boolean bmp = text.codePointCount(0, text.length()) == text.length();
        for (int i = 0; i < n; i++) {
            outIds[i] = Math.toIntExact(ids[i]);
            outTypes[i] = (int) types[i];
            CharSpan s = spans[i];
            if (s == null || s.getStart() < 0) {
                starts[i] = -1;
                ends[i] = -1;
            } else if (bmp) {
                starts[i] = s.getStart();
                ends[i] = s.getEnd();
            } else {
                starts[i] = text.offsetByCodePoints(0, s.getStart());
                ends[i] = text.offsetByCodePoints(starts[i], s.getEnd() - s.getStart());
            }
        }
        return new TextEncoding(outIds, outTypes, Arrays.asList(e.getTokens()), starts, ends);
    }
}
